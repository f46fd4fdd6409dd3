"""The Python layer of the sandbox: an AST allow-list, restricted builtins and module facades.

This is the second line of defence. The OS layers (bubblewrap, seccomp, rlimits) are the boundary
and must hold even when this layer is switched off; this layer exists so that ordinary mistakes and
obvious attacks get a clear, early message naming the rule that blocked them.
"""

from __future__ import annotations

import ast
import builtins
import string
import types
from dataclasses import dataclass

MAX_CODE_CHARS = 100_000

ALLOWED_IMPORTS = {"numpy", "numpy.linalg", "numpy.random", "numpy.fft", "math",
                   "matplotlib.pyplot", "matplotlib"}

INTERNAL_IMPORT_PREFIXES = ("numpy.", "matplotlib.")

# Names that give reflection, code loading or I/O: never callable, never even mentioned.
DENIED_NAMES = frozenset({
    "eval", "exec", "compile", "open", "input", "breakpoint", "help", "getattr", "setattr", "delattr",
    "hasattr", "globals", "locals", "vars", "dir", "type", "object", "super", "memoryview",
    "exit", "quit", "copyright", "credits", "license", "classmethod", "staticmethod", "property",
})

# Attributes that reach frames, code objects, raw memory, files or other modules.
DENIED_ATTRS = frozenset({
    "f_back", "f_globals", "f_locals", "f_builtins", "f_code", "f_trace", "tb_frame", "tb_next",
    "gi_frame", "gi_code", "gi_yieldfrom", "cr_frame", "cr_code", "cr_await", "ag_frame", "ag_code",
    "ag_await", "co_code", "co_consts", "func_globals", "func_code", "mro",
    "ctypes", "cffi", "tofile", "dump", "dumps", "load", "loads", "save", "savez", "savez_compressed",
    "savetxt", "loadtxt", "genfromtxt", "fromfile", "fromregex", "memmap", "DataSource", "ctypeslib",
    "testing", "f2py", "lib", "format_map", "vformat", "savefig", "imsave", "imread", "canvas",
    "os", "sys", "subprocess", "builtins", "environ", "getenv", "system", "popen", "modules",
    "import_module", "urlopen", "as_strided", "stride_tricks",
})
DENIED_KEYWORDS = frozenset({"usetex", "allow_pickle", "fname", "buffer"})
# A few dunder method names users legitimately define on small classes.
ALLOWED_DUNDER_DEFS = frozenset({"__init__", "__call__"})

BUILTIN_ALLOW = (
    "abs", "all", "any", "ascii", "bin", "bool", "bytes", "bytearray", "callable", "chr", "complex",
    "dict", "divmod", "enumerate", "filter", "float", "format", "frozenset", "hash", "hex", "id", "int",
    "isinstance", "issubclass", "iter", "len", "list", "map", "max", "min", "next", "oct", "ord", "pow",
    "print", "range", "repr", "reversed", "round", "set", "slice", "sorted", "str", "sum", "tuple", "zip",
    "Exception", "ArithmeticError", "AssertionError", "AttributeError", "FloatingPointError",
    "IndexError", "KeyError", "LookupError", "MemoryError", "NameError", "NotImplementedError",
    "OverflowError", "RecursionError", "RuntimeError", "StopIteration", "TypeError", "ValueError",
    "ZeroDivisionError", "NotImplemented", "Ellipsis", "True", "False", "None",
)

NUMPY_DENY = frozenset({
    "load", "save", "savez", "savez_compressed", "savetxt", "loadtxt", "genfromtxt", "fromfile",
    "fromregex", "memmap", "DataSource", "ctypeslib", "testing", "f2py", "lib", "info", "source",
    "show_config", "show_runtime", "get_include", "test", "add_newdoc", "add_docstring",
    "add_newdoc_ufunc", "seterrcall", "geterrcall", "setbufsize", "from_dlpack",
})

PYPLOT_ALLOW = (
    "figure", "subplots", "subplot", "plot", "scatter", "bar", "barh", "hist", "hist2d", "imshow",
    "matshow", "contour", "contourf", "pcolormesh", "quiver", "streamplot", "step", "stem", "stairs",
    "pie", "boxplot", "violinplot", "errorbar", "fill_between", "fill_betweenx", "semilogx",
    "semilogy", "loglog", "axhline", "axvline", "hlines", "vlines", "axhspan", "axvspan", "title",
    "suptitle", "xlabel", "ylabel", "legend", "grid", "xlim", "ylim", "xscale", "yscale", "xticks",
    "yticks", "axis", "margins", "text", "annotate", "figtext", "colorbar", "tight_layout", "twinx",
    "twiny", "gca", "gcf", "clf", "cla", "close", "subplots_adjust",
)


@dataclass(frozen=True)
class Blocked:
    """Why the Python layer refused a program: a rule id, the line, and a message for the user."""

    rule: str
    line: int | None
    message: str

    def describe(self) -> str:
        where = f" ({self.line}번째 줄)" if self.line else ""
        return f"차단됨 [{self.rule}]{where}: {self.message}"


def is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__") and len(name) > 4


def parse_program(code: str) -> ast.Module | Blocked:
    """Parse, turning a syntax error into a message with its line number."""
    if len(code) > MAX_CODE_CHARS:
        return Blocked("size", None, f"코드가 너무 깁니다 (최대 {MAX_CODE_CHARS:,}자).")
    try:
        return ast.parse(code, filename="<sandbox>", mode="exec")
    except SyntaxError as exc:
        return Blocked("syntax", exc.lineno, f"문법 오류: {exc.msg}")
    except (ValueError, RecursionError, MemoryError) as exc:
        return Blocked("syntax", None, f"코드를 해석할 수 없습니다: {type(exc).__name__}")


def check_program(code: str) -> Blocked | None:
    """The AST allow-list: None when the program may run, else the first rule it breaks."""
    tree = parse_program(code)
    if isinstance(tree, Blocked):
        return tree
    for node in ast.walk(tree):
        blocked = _check_node(node)
        if blocked:
            return blocked
    return None


def _check_node(node: ast.AST) -> Blocked | None:
    line = getattr(node, "lineno", None)
    for name in _names_in(node):
        if is_dunder(name) and not (isinstance(node, ast.FunctionDef) and name in ALLOWED_DUNDER_DEFS):
            return Blocked("dunder", line, f"이중 밑줄 이름 `{name}`은(는) 사용할 수 없습니다.")
    if isinstance(node, ast.Name) and node.id in DENIED_NAMES:
        return Blocked("builtin", line, f"`{node.id}`은(는) 샌드박스에서 사용할 수 없습니다.")
    if isinstance(node, ast.Attribute):
        return _check_attribute(node, line)
    if isinstance(node, ast.keyword) and node.arg in DENIED_KEYWORDS:
        return Blocked("keyword", line, f"`{node.arg}=` 인자는 사용할 수 없습니다.")
    if isinstance(node, ast.Import | ast.ImportFrom):
        return _check_import(node, line)
    return None


def _names_in(node: ast.AST) -> list[str]:
    """Every identifier a node introduces or mentions."""
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Attribute):
        return [node.attr]
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    if isinstance(node, ast.arg):
        return [node.arg]
    if isinstance(node, ast.keyword):
        return [node.arg] if node.arg else []
    if isinstance(node, ast.alias):
        return [part for part in (node.name.split(".") + [node.asname or ""]) if part]
    if isinstance(node, ast.Global | ast.Nonlocal):
        return list(node.names)
    if isinstance(node, ast.ExceptHandler) and node.name:
        return [node.name]
    if isinstance(node, ast.MatchAs | ast.MatchStar) and node.name:
        return [node.name]
    if isinstance(node, ast.MatchClass):
        return list(node.kwd_attrs)
    if isinstance(node, ast.MatchMapping):
        return [node.rest] if node.rest else []
    return []


def _check_attribute(node: ast.Attribute, line: int | None) -> Blocked | None:
    attr = node.attr
    if attr.startswith("_"):
        return Blocked("private", line, f"밑줄로 시작하는 속성 `.{attr}`은(는) 사용할 수 없습니다.")
    if attr in DENIED_ATTRS or attr.startswith("print_"):
        return Blocked("attribute", line, f"속성 `.{attr}`은(는) 샌드박스에서 사용할 수 없습니다 "
                                          "(파일·메모리·모듈 접근).")
    if attr == "format" and not _safe_format_receiver(node.value):
        return Blocked("format", line, "str.format은 필드에 속성·인덱스가 없는 문자열 리터럴에만 "
                                       "쓸 수 있습니다. f-string을 쓰세요.")
    return None


def _safe_format_receiver(value: ast.expr) -> bool:
    """`"{} {:.3f}".format(...)` is fine; `"{0.__class__}".format(x)` or `s.format(x)` is not."""
    if not (isinstance(value, ast.Constant) and isinstance(value.value, str)):
        return False
    try:
        fields = [field for _, field, _, _ in string.Formatter().parse(value.value) if field]
    except ValueError:
        return False
    return not any("." in field or "[" in field for field in fields)


def _check_import(node: ast.Import | ast.ImportFrom, line: int | None) -> Blocked | None:
    if isinstance(node, ast.ImportFrom):
        if node.level or not node.module:
            return Blocked("import", line, "상대 import는 사용할 수 없습니다.")
        if any(alias.name == "*" for alias in node.names):
            return Blocked("import", line, "`from ... import *`는 사용할 수 없습니다.")
        modules = [node.module]
    else:
        modules = [alias.name for alias in node.names]
    for module in modules:
        if module not in ALLOWED_IMPORTS:
            return Blocked("import", line, f"`{module}`은(는) import할 수 없습니다 "
                                           "(numpy, math, matplotlib.pyplot만 허용).")
    return None


# ---- the namespace user code sees -------------------------------------------------------------

def facade_module(name: str, source: types.ModuleType, *, deny=frozenset(), allow=None) -> types.ModuleType:
    """A plain module holding the public, non-module attributes of `source` (or only `allow`)."""
    facade = types.ModuleType(name)
    names = allow if allow is not None else [n for n in dir(source) if not n.startswith("_")]
    for attr in names:
        if attr in deny or attr in DENIED_ATTRS:
            continue
        value = getattr(source, attr, None)
        if value is None or isinstance(value, types.ModuleType):
            continue
        setattr(facade, attr, value)
    return facade


def build_facades(with_pyplot: bool) -> dict[str, types.ModuleType]:
    """Facades for every importable name; pyplot only when the program uses it (it costs ~0.3 s)."""
    import math

    import numpy

    np_facade = facade_module("numpy", numpy, deny=NUMPY_DENY)
    for sub in ("linalg", "random", "fft"):
        sub_facade = facade_module(f"numpy.{sub}", getattr(numpy, sub), deny=NUMPY_DENY)
        setattr(np_facade, sub, sub_facade)
    facades = {"numpy": np_facade, "math": facade_module("math", math)}
    for sub in ("linalg", "random", "fft"):
        facades[f"numpy.{sub}"] = getattr(np_facade, sub)
    if with_pyplot:
        import matplotlib.pyplot as plt

        plt_facade = facade_module("matplotlib.pyplot", plt, allow=PYPLOT_ALLOW)
        vars(plt_facade)["show"] = lambda *args, **kwargs: None  # figures are collected after the run
        mpl_facade = types.ModuleType("matplotlib")
        # the backend is always Agg
        vars(mpl_facade).update(pyplot=plt_facade, use=lambda *args, **kwargs: None)
        facades["matplotlib"] = mpl_facade
        facades["matplotlib.pyplot"] = plt_facade
    return facades


def restricted_builtins(facades: dict[str, types.ModuleType]) -> dict[str, object]:
    """Builtins without reflection, I/O or code loading; `import` resolves only to the facades."""
    safe = {name: getattr(builtins, name) for name in BUILTIN_ALLOW}

    def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
        if not level and name not in facades and name.startswith(INTERNAL_IMPORT_PREFIXES):
            # numpy's C code imports its own helpers through the *calling frame's* builtins
            # (PyImport_Import), so they arrive here; user code cannot name these modules (the AST
            # allow-list stops it) and PyImport_Import discards the return value.
            return builtins.__import__(name, globals, locals, fromlist, level)
        if level or name not in facades:
            raise ImportError(f"`{name}`은(는) import할 수 없습니다 (numpy, math, matplotlib.pyplot만 허용).")
        if fromlist:
            return facades[name]
        return facades[name.split(".")[0]]

    safe["__import__"] = guarded_import
    safe["__build_class__"] = builtins.__build_class__
    safe["__name__"] = "sandbox"
    return safe


def uses_pyplot(code: str) -> bool:
    """Cheap pre-check so plain numpy programs skip importing matplotlib."""
    return "matplotlib" in code or "pyplot" in code
