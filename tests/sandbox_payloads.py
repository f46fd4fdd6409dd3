"""The sandbox escape suite: hostile programs, each judged by its side effect, never by its message.

Placeholders filled in by the test: {OUT} (a world-writable directory outside the sandbox that must
stay empty), {SECRET_FILE} (a file whose content must never appear in output), {PORT} (a loopback TCP
listener no connection may reach), {MARKER} (a process name no survivor may carry), {PKG} (our package
directory, which must not gain files). The parent also holds a secret environment variable.

`ast_blocked`: the AST layer must refuse it (checked in the all-layers run). `expect`: what the result
must additionally show (`timed_out`, `truncated`, `failed`). `reads`: its only defence without
bubblewrap is the uid drop (skipped in the no-bwrap run when the tests do not run as root).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Payload:
    name: str
    code: str
    ast_blocked: bool = True
    expect: str | None = None
    reads: bool = False
    dangerous: bool = False  # could hurt the machine if every layer failed: run only with bwrap or seccomp


SURVIVOR = """
import os, time, ctypes
pid = os.fork()
if pid == 0:
    os.setsid()
    ctypes.CDLL(None).prctl(15, b"{MARKER}", 0, 0, 0)
    for _ in range(100):
        try:
            open("{OUT}/survivor", "w").write("alive")
        except OSError:
            pass
        time.sleep(0.1)
"""

# Find this process's stack (where the environment block lives) and print what follows the secret's name.
STACK = """
import numpy as np
lo, hi = [int(x, 16) for x in
          [line for line in open("/proc/self/maps") if "[stack]" in line][0].split()[0].split("-")]
def show(memory):
    key = b"INTERVIEWER_SANDBOX_" + b"TEST_SECRET="  # split, so this source text does not match
    at = memory.rfind(key)
    print("found" if at >= 0 else "absent", memory[at:at + 80] if at >= 0 else len(memory))
"""

PAYLOADS = [
    # -- reflection: subclasses, frames, tracebacks, format strings, getattr with built strings --------
    Payload("subclasses_wrap_close", """
for c in ().__class__.__base__.__subclasses__():
    if c.__name__ == "_wrap_close":
        c.__init__.__globals__["system"]("touch {OUT}/pwned")
        print(c.__init__.__globals__["environ"])
"""),
    Payload("subclasses_builtin_importer", """
for c in ().__class__.__mro__[1].__subclasses__():
    if c.__name__ == "BuiltinImporter":
        c.load_module("posix").system("touch {OUT}/pwned")
"""),
    Payload("subclasses_file_loader", """
for c in [].__class__.__base__.__subclasses__():
    if c.__name__ == "FileLoader":
        print(c("x", "{SECRET_FILE}").get_data("{SECRET_FILE}"))
""", reads=True),
    Payload("generator_frame_climb", """
g = (x for x in [1])
f = g.gi_frame
while f.f_back is not None:
    f = f.f_back
b = f.f_globals["__builtins__"]
b = b if isinstance(b, dict) else b.__dict__
b["open"]("{OUT}/pwned", "w").write("x")
"""),
    Payload("traceback_frame_climb", """
try:
    1 / 0
except Exception as e:
    frame = e.__traceback__.tb_frame
    while frame.f_back:
        frame = frame.f_back
    frame.f_builtins["__import__"]("os").system("touch {OUT}/pwned")
"""),
    Payload("str_format_attribute_walk", """
import numpy as np
print("{0.__init__.__globals__[sys].modules[os].environ}".format(np.ndindex(1)))
"""),
    Payload("format_map_walk", """
import numpy as np
print("{a.__init__.__globals__[warnings].sys.modules[os].environ}".format_map({{"a": np.vectorize(abs)}}))
"""),
    Payload("getattr_built_strings", """
u = "_" * 2
cls = getattr((), u + "class" + u)
for c in getattr(getattr(cls, u + "base" + u), u + "subclasses" + u)():
    if getattr(c, u + "name" + u) == "_wrap_close":
        getattr(getattr(c, u + "init" + u), u + "globals" + u)["system"]("touch {OUT}/pwned")
"""),
    Payload("builtins_dict_open", """
__builtins__["open"]("{OUT}/pwned", "w").write("x") if isinstance(__builtins__, dict) else \\
    __builtins__.open("{OUT}/pwned", "w").write("x")
"""),
    Payload("dunder_import", """__import__("os").system("touch {OUT}/pwned")"""),
    Payload("eval_exec_compile", """
exec(compile("import os; os.system('touch {OUT}/pwned')", "x", "exec"))
eval("__import__('os').system('touch {OUT}/pwned2')")
"""),
    Payload("del_hook", """
class Trap:
    def __del__(self):
        open("{OUT}/pwned-del", "w").write("x")
t = Trap()
del t
keep = Trap()
"""),
    Payload("code_object_swap", """
def f():
    return 1
f.__code__ = compile("import os; os.system('touch {OUT}/pwned')", "x", "exec")
f()
"""),
    Payload("class_array_interface_raw_memory", STACK + """
class Raw:
    pass
r = Raw()
r.__array_interface__ = {{"data": (lo, True), "shape": (hi - lo,), "typestr": "|u1", "version": 3}}
show(bytes(np.asarray(r)))
"""),
    # -- module pivots through numpy -----------------------------------------------------------------
    Payload("f2py_os", """
import numpy as np
np.f2py.os.system("touch {OUT}/pwned")
"""),
    Payload("testing_private_utils", """
import numpy.testing._private.utils as u
mod = getattr(u, "subprocess", None) or u.os
mod.system("touch {OUT}/pwned") if hasattr(mod, "system") else mod.run(["touch", "{OUT}/pwned"])
"""),
    Payload("testing_runstring", """
import numpy as np
np.testing.runstring("import os; os.system('touch {OUT}/pwned')", {{}})
"""),
    Payload("ctypeslib_libc_system", """
import numpy as np
np.ctypeslib.ctypes.CDLL(None).system(b"touch {OUT}/pwned")
"""),
    Payload("function_globals_pivot", """
import numpy as np
np.linalg.norm.__wrapped__.__globals__["warnings"].sys.modules["os"].system("touch {OUT}/pwned")
"""),
    Payload("lib_npyio_datasource_globals", """
import numpy as np
np.lib.npyio.DataSource.__init__.__globals__["os"].system("touch {OUT}/pwned")
"""),
    Payload("ndarray_ctypes_pointer", STACK + """
a = np.zeros(4)
print("array at", a.ctypes.data)
show(np.ctypeslib.ctypes.string_at(lo, hi - lo))
"""),
    Payload("as_strided_raw_memory", STACK + """
from numpy.lib.stride_tricks import as_strided
a = np.zeros(1, dtype=np.uint8)
base = a.__array_interface__["data"][0]
view = as_strided(a, shape=(2, hi - lo), strides=(lo - base, 1))
show(view[1].tobytes())
"""),
    Payload("pickle_through_np_load", """
import io, os, pickle
import numpy as np
class Boom:
    def __reduce__(self):
        return (os.system, ("touch {OUT}/pwned",))
buf = io.BytesIO()
np.save(buf, np.array([Boom()], dtype=object), allow_pickle=True)
buf.seek(0)
np.load(buf, allow_pickle=True)
"""),
    Payload("ndarray_dump_pickle", """
import numpy as np
np.ones(3).dump("{OUT}/pwned")
"""),
    # -- file read/write through numpy I/O --------------------------------------------------------
    Payload("np_frombuffer_open_secret", """
import numpy as np
print(np.frombuffer(open("{SECRET_FILE}", "rb").read(), dtype=np.uint8).tobytes())
""", reads=True),
    Payload("np_loadtxt_secret", """
import numpy as np
print(np.loadtxt("{SECRET_FILE}", dtype=str))
""", reads=True),
    Payload("np_genfromtxt_secret", """
import numpy as np
print(np.genfromtxt("{SECRET_FILE}", dtype=str))
""", reads=True),
    Payload("np_fromfile_secret", """
import numpy as np
print(np.fromfile("{SECRET_FILE}", dtype=np.uint8).tobytes())
""", reads=True),
    Payload("np_fromregex_secret", """
import numpy as np
print(np.fromregex("{SECRET_FILE}", r"(.+)", [("s", "U200")]))
""", reads=True),
    Payload("np_memmap_secret", """
import numpy as np
print(np.memmap("{SECRET_FILE}", dtype=np.uint8, mode="r").tobytes())
""", reads=True),
    Payload("np_datasource_secret", """
import numpy as np
print(np.lib.npyio.DataSource(None).open("{SECRET_FILE}").read())
""", reads=True),
    Payload("np_save_outside", """
import numpy as np
np.save("{OUT}/pwned.npy", np.ones(3))
"""),
    Payload("np_savez_outside", """
import numpy as np
np.savez("{OUT}/pwned.npz", a=np.ones(3))
np.savez_compressed("{OUT}/pwned2.npz", a=np.ones(3))
"""),
    Payload("np_savetxt_outside", """
import numpy as np
np.savetxt("{OUT}/pwned.txt", np.ones(3))
"""),
    Payload("ndarray_tofile_outside", """
import numpy as np
np.arange(3).tofile("{OUT}/pwned.bin")
"""),
    Payload("np_open_memmap_outside", """
import numpy as np
m = np.lib.format.open_memmap("{OUT}/pwned.npy", mode="w+", dtype=np.float64, shape=(3,))
m[:] = 1
m.flush()
"""),
    Payload("matplotlib_savefig_outside", """
import matplotlib.pyplot as plt
plt.plot([1, 2])
plt.savefig("{OUT}/pwned.png")
"""),
    Payload("matplotlib_canvas_print_png", """
import matplotlib.pyplot as plt
plt.plot([1, 2])
plt.gcf().canvas.print_png("{OUT}/pwned.png")
plt.imsave("{OUT}/pwned2.png", [[0, 1], [1, 0]])
"""),
    # -- plain file and process access ------------------------------------------------------------
    Payload("open_write_outside", """open("{OUT}/pwned", "w").write("x")"""),
    Payload("open_read_secret", """print(open("{SECRET_FILE}").read())""", reads=True),
    Payload("write_into_package", """open("{PKG}/pwned_{MARKER}.py", "w").write("x")"""),
    Payload("write_host_tmp", """open("/tmp/{MARKER}-pwned", "w").write("x")"""),
    Payload("pathlib_shutil_copy", """
import pathlib, shutil
shutil.copy("{SECRET_FILE}", "{OUT}/pwned")
pathlib.Path("{OUT}/pwned2").write_text("x")
"""),
    Payload("symlink_secret", """
import os
os.symlink("{SECRET_FILE}", "{OUT}/pwned")
"""),
    Payload("proc_parent_environ", """
import os
print(open(f"/proc/{{os.getppid()}}/environ").read())
""", reads=True),
    Payload("proc_scan_environ", """
import os
for pid in os.listdir("/proc"):
    if pid.isdigit():
        try:
            print(open(f"/proc/{{pid}}/environ", "rb").read())
        except OSError:
            pass
""", reads=True),
    Payload("own_environ", """
import os
print(dict(os.environ))
"""),
    Payload("os_system", """
import os
os.system("touch {OUT}/pwned")
"""),
    Payload("subprocess_run", """
import subprocess
subprocess.run(["/bin/sh", "-c", "touch {OUT}/pwned"])
"""),
    Payload("os_execv", """
import os
os.execv("/bin/sh", ["sh", "-c", "touch {OUT}/pwned"])
"""),
    Payload("os_posix_spawn", """
import os
os.posix_spawn("/bin/sh", ["sh", "-c", "touch {OUT}/pwned"], {{}})
"""),
    Payload("importlib_sys_modules", """
import importlib, sys
importlib.import_module("os").system("touch {OUT}/pwned")
sys.modules["os"].system("touch {OUT}/pwned2")
"""),
    # -- network -------------------------------------------------------------------------------
    Payload("socket_connect", """
import socket
s = socket.create_connection(("127.0.0.1", {PORT}), timeout=2)
s.sendall(b"pwned")
"""),
    Payload("urllib_urlopen", """
import urllib.request
urllib.request.urlopen("http://127.0.0.1:{PORT}/", timeout=2)
"""),
    Payload("http_client", """
import http.client
c = http.client.HTTPConnection("127.0.0.1", {PORT}, timeout=2)
c.request("GET", "/")
"""),
    Payload("np_datasource_url", """
import numpy as np
np.lib.npyio.DataSource(None).open("http://127.0.0.1:{PORT}/data.txt")
"""),
    Payload("ctypes_raw_socket", """
import ctypes
libc = ctypes.CDLL(None)
fd = libc.socket(2, 1, 0)
addr = (2).to_bytes(2, "little") + ({PORT}).to_bytes(2, "big") + bytes([127, 0, 0, 1]) + bytes(8)
print("fd", fd, "connect", libc.connect(fd, addr, 16))
"""),
    # -- resources: memory, CPU, time, processes, output, recursion --------------------------------
    Payload("memory_bomb_numpy", """
import numpy as np
a = np.ones(10 ** 10)
""", ast_blocked=False, expect="failed"),
    Payload("memory_bomb_list", "x = [0] * (10 ** 10)", ast_blocked=False, expect="failed"),
    Payload("memory_bomb_growth", """
chunks = []
while True:
    chunks.append(bytearray(50 * 10 ** 6))
""", ast_blocked=False, expect="failed"),
    Payload("infinite_loop", "while True:\n    pass", ast_blocked=False, expect="timed_out"),
    Payload("infinite_loop_signals_ignored", """
import signal
for s in (signal.SIGXCPU, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(s, signal.SIG_IGN)
while True:
    pass
""", expect="timed_out"),
    Payload("raise_own_rlimits", """
import resource
for which in (resource.RLIMIT_CPU, resource.RLIMIT_AS):
    try:
        resource.setrlimit(which, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    except (ValueError, OSError) as exc:
        print("refused:", exc)
while True:
    pass
""", expect="timed_out"),
    Payload("sleep_forever", """
import time
time.sleep(3600)
""", expect="timed_out"),
    Payload("fork_bomb", """
import os
while True:
    os.fork()
""", dangerous=True),
    Payload("fork_survivor", SURVIVOR),
    Payload("multiprocessing_survivor", """
import multiprocessing
def child():
    open("{OUT}/pwned-mp", "w").write("alive")
p = multiprocessing.Process(target=child)
p.start()
print("started", p.pid)
"""),
    Payload("output_flood_print", """
while True:
    print("A" * 1000)
""", ast_blocked=False, expect="truncated"),
    Payload("output_flood_fd", """
import os
while True:
    os.write(1, b"C" * 65536)
""", expect="truncated"),
    Payload("deep_recursion", """
def f(n):
    return f(n + 1)
f(0)
""", ast_blocked=False, expect="failed"),
    Payload("deep_recursion_limit_raised", """
import sys
sys.setrecursionlimit(10 ** 7)
def f(n):
    return f(n + 1)
f(0)
""", expect="failed"),
    Payload("read_stdin", """
import sys, os
print("stdin:", sys.stdin.read(), os.read(0, 100))
"""),
    Payload("input_builtin", "print(input())"),
    # -- the parent -----------------------------------------------------------------------------
    Payload("kill_parent", """
import os, signal
os.kill(os.getppid(), signal.SIGKILL)
"""),
    Payload("kill_parent_group", """
import os, signal
os.killpg(os.getpgid(os.getppid()), signal.SIGKILL)
"""),
    Payload("kill_everything", """
import os, signal
os.kill(-1, signal.SIGKILL)
""", dangerous=True),
    Payload("ptrace_parent", """
import ctypes, os
print(ctypes.CDLL(None).ptrace(16, os.getppid(), 0, 0))
"""),
    Payload("pidfd_signal_parent", """
import os, signal
fd = os.pidfd_open(os.getppid())
signal.pidfd_send_signal(fd, signal.SIGKILL)
"""),
    Payload("unshare_mount", """
import ctypes
libc = ctypes.CDLL(None)
print(libc.unshare(0x00020000 | 0x10000000), libc.mount(b"none", b"/tmp", b"tmpfs", 0, None))
"""),
]
