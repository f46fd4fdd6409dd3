"""The OS layers of the sandbox: bubblewrap (parent side), rlimits, privilege drop and seccomp (child side).

These are the security boundary. Each layer is independent, so a machine without one of them
(no bubblewrap, no libseccomp) still gets the others, and says which ones are active.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import resource
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

NOBODY = 65534
SCRATCH_IN_BWRAP = "/tmp/scratch"
PACKAGE_DIR = Path(__file__).resolve().parent.parent  # interviewer/, for the editable install


@dataclass(frozen=True)
class Limits:
    memory_bytes: int = 1 << 30
    cpu_seconds: int = 5
    wall_seconds: float = 10.0
    output_bytes: int = 64 * 1024
    file_bytes: int = 1 << 20
    open_files: int = 64
    processes: int = 16
    max_figures: int = 8
    result_bytes: int = 16 << 20  # the JSON result channel, figures included


# ---- bubblewrap (parent side) -----------------------------------------------------------------

def bwrap_binary() -> str | None:
    return shutil.which("bwrap") or ("/usr/bin/bwrap" if os.access("/usr/bin/bwrap", os.X_OK) else None)


def readonly_paths() -> list[str]:
    """What the worker needs to see: system libraries, the Python install, the venv, our package."""
    # /etc/fonts: matplotlib asks fontconfig for system fonts (the Korean Nanum font among them).
    wanted = ["/usr", "/lib", "/lib64", "/bin", "/etc/fonts", sys.base_prefix, sys.prefix, str(PACKAGE_DIR)]
    seen: list[str] = []
    for path in wanted:
        real = os.path.realpath(path)
        for candidate in (path, real):
            if os.path.exists(candidate) and candidate not in seen:
                seen.append(candidate)
    return seen


def bwrap_argv(binary: str) -> list[str]:
    """All namespaces unshared (no network), read-only system, private tmpfs, unprivileged uid."""
    argv = [binary, "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--uid", str(NOBODY), "--gid", str(NOBODY), "--hostname", "sandbox",
            "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    for path in readonly_paths():
        if os.path.islink(path):
            argv += ["--symlink", os.readlink(path), path]
        else:
            argv += ["--ro-bind", path, path]
    argv += ["--dir", SCRATCH_IN_BWRAP, "--chdir", SCRATCH_IN_BWRAP, "--"]
    return argv


@functools.lru_cache(maxsize=1)
def bwrap_status() -> tuple[str | None, str]:
    """(bwrap binary or None, reason); probed once per process by running `true` inside it."""
    binary = bwrap_binary()
    if binary is None:
        return None, "bubblewrap(bwrap)가 설치되어 있지 않습니다"
    try:
        probe = subprocess.run([*bwrap_argv(binary), sys.executable, "-I", "-S", "-c", "pass"],
                               capture_output=True, timeout=10, env={}, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"bwrap 실행 실패: {exc}"
    if probe.returncode != 0:
        detail = probe.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["?"]
        return None, f"bwrap 사용 불가: {detail[0]}"
    return binary, "ok"


# ---- child side: applied by the worker before user code ---------------------------------------

def apply_rlimits(limits: Limits) -> None:
    """Hard caps the kernel enforces; the CPU hard limit is one second past the soft one (SIGKILL)."""
    caps = {
        resource.RLIMIT_AS: (limits.memory_bytes, limits.memory_bytes),
        resource.RLIMIT_CPU: (limits.cpu_seconds, limits.cpu_seconds + 1),
        resource.RLIMIT_FSIZE: (limits.file_bytes, limits.file_bytes),
        resource.RLIMIT_NOFILE: (limits.open_files, limits.open_files),
        resource.RLIMIT_NPROC: (limits.processes, limits.processes),
        resource.RLIMIT_CORE: (0, 0),
    }
    for which, (soft, hard) in caps.items():
        current_soft, current_hard = resource.getrlimit(which)
        if current_hard != resource.RLIM_INFINITY:
            hard = min(hard, current_hard)
            soft = min(soft, hard)
        resource.setrlimit(which, (soft, hard))


def drop_privileges() -> bool:
    """Outside bubblewrap a root worker becomes `nobody`, so it cannot read the parent's /proc or files."""
    if os.geteuid() != 0:
        return False
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)
    return True


DENIED_SYSCALLS = (
    "execve", "execveat", "fork", "vfork", "socket", "socketpair", "connect", "bind", "listen",
    "accept", "accept4", "ptrace", "process_vm_readv", "process_vm_writev", "mount", "umount2",
    "pivot_root", "chroot", "unshare", "setns", "keyctl", "add_key", "request_key", "bpf",
    "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
    "pidfd_open", "pidfd_send_signal", "pidfd_getfd", "kexec_load", "init_module", "finit_module",
    "delete_module", "reboot", "swapon", "swapoff", "acct", "iopl", "ioperm", "personality",
    "name_to_handle_at", "open_by_handle_at", "setrlimit", "prlimit64", "setuid", "setgid",
    "setreuid", "setregid", "setresuid", "setresgid", "setgroups", "sethostname", "setdomainname",
    "settimeofday", "clock_settime", "syslog", "quotactl", "move_pages", "migrate_pages",
    "fanotify_init", "creat", "rename", "renameat", "renameat2", "unlink", "unlinkat", "mkdir",
    "mkdirat", "rmdir", "symlink", "symlinkat", "link", "linkat", "chmod", "fchmod", "fchmodat",
    "chown", "fchown", "lchown", "fchownat", "truncate", "mknod", "mknodat",
)
CLONE_THREAD = 0x00010000
WRITE_OPEN_FLAGS = (os.O_WRONLY, os.O_RDWR, os.O_CREAT, os.O_TRUNC, os.O_APPEND)


@functools.lru_cache(maxsize=1)
def native_libraries() -> dict[str, str]:
    """libc and libseccomp paths, resolved in the parent: inside bwrap `ldconfig` has no cache to read."""
    import ctypes.util

    found = {name: ctypes.util.find_library(name) for name in ("c", "seccomp")}
    return {name: path for name, path in found.items() if path}


def _import_pyseccomp(libraries: dict[str, str]):
    """pyseccomp looks its libraries up with ctypes.util.find_library at import; answer from the parent's list."""
    import ctypes.util

    original = ctypes.util.find_library
    ctypes.util.find_library = lambda name: libraries.get(name) or original(name)
    try:
        import pyseccomp
    finally:
        ctypes.util.find_library = original
    return pyseccomp


def load_seccomp(libraries: dict[str, str]):
    """Import pyseccomp (and ctypes) while the Python install is still readable; the module or a reason."""
    try:
        return _import_pyseccomp(libraries)
    except (ImportError, OSError, RuntimeError) as exc:
        return f"pyseccomp/libseccomp 없음: {exc}"


def install_seccomp(sc) -> str | None:
    """No exec, no new processes, no sockets, no ptrace, no file writes, signals only to itself.

    `sc` is what load_seccomp returned. Returns None when installed, else why not. Must run after
    every import user code relies on (imports read files, which stays allowed; writes do not).
    """
    if isinstance(sc, str):
        return sc
    deny = sc.ERRNO(errno.EPERM)
    flt = sc.SyscallFilter(defaction=sc.ALLOW)
    for name in DENIED_SYSCALLS:
        _add_rule(flt, deny, name)
    # glibc falls back from clone3 (whose flags sit in a struct we cannot inspect) to clone.
    _add_rule(flt, sc.ERRNO(errno.ENOSYS), "clone3")
    _add_rule(flt, sc.ERRNO(errno.ENOSYS), "openat2")
    _add_rule(flt, deny, "clone", sc.Arg(0, sc.MASKED_EQ, CLONE_THREAD, 0))
    for flag in WRITE_OPEN_FLAGS:
        _add_rule(flt, deny, "open", sc.Arg(1, sc.MASKED_EQ, flag, flag))
        _add_rule(flt, deny, "openat", sc.Arg(2, sc.MASKED_EQ, flag, flag))
    pid = os.getpid()
    for name in ("kill", "tkill", "tgkill"):
        _add_rule(flt, deny, name, sc.Arg(0, sc.NE, pid))
    try:
        flt.load()
    except OSError as exc:
        return f"seccomp 필터 적재 실패: {exc}"
    return None


def _add_rule(flt, action: int, name: str, *args) -> None:
    with contextlib.suppress(OSError, ValueError, RuntimeError):  # a syscall this arch does not have
        flt.add_rule(action, name, *args)
