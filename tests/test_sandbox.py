"""The numpy sandbox: the escape suite (run with every layer, then with the OS layers alone),
legitimate programs, bad input, the demos and the CLI."""

from __future__ import annotations

import base64
import os
import secrets
import socket
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from interviewer.sandbox import Limits, Policy, demos_for, load_demos, run_program, sandbox_layers
from interviewer.sandbox import layers as sandbox_os
from interviewer.sandbox.policy import NUMPY_DENY, build_facades, check_program
from interviewer.settings import PACKAGE_ROOT
from tests.sandbox_payloads import PAYLOADS

SUITE_LIMITS = Limits(cpu_seconds=2, wall_seconds=4)  # short, so loops and sleeps cost little
HANG_GUARD_S = 60  # far beyond any limit: a run that takes this long means the parent hung
PKG = PACKAGE_ROOT / "interviewer"
HAS_BWRAP = sandbox_os.bwrap_status()[0] is not None
IS_ROOT = os.geteuid() == 0


class Fixture:
    """Everything a payload could touch, and the checks that it did not."""

    def __init__(self, tmp_path: Path):
        self.secret_env = "env-" + secrets.token_hex(12)
        self.secret_file_text = "file-" + secrets.token_hex(12)
        self.marker = "sbx" + secrets.token_hex(4)
        self.secret_file = tmp_path / "secret.txt"  # tmp_path is private to this user (0700)
        self.secret_file.write_text(self.secret_file_text)
        # World-writable and reachable by uid nobody: only the sandbox may keep files out of it.
        self.out = Path(tempfile.mkdtemp(prefix="sandbox-outside-", dir="/tmp"))
        self.out.chmod(0o777)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.port = self.listener.getsockname()[1]

    def fill(self, code: str) -> str:
        """Substitute the placeholders; `{{`/`}}` stand for literal braces (as in str.format)."""
        values = {"OUT": self.out, "SECRET_FILE": self.secret_file, "PORT": self.port, "MARKER": self.marker,
                  "PKG": PKG}
        for key, value in values.items():
            code = code.replace("{" + key + "}", str(value))
        return code.replace("{{", "{").replace("}}", "}")

    def leaks(self, result) -> list[str]:
        found = []
        text = "\n".join([result.stdout, result.result or "", result.error or ""])
        # The parent's PATH is a canary for its initial environment (/proc/PID/environ), which the
        # secret set by monkeypatch never reaches; the worker itself has no PATH at all.
        for secret in (self.secret_env, self.secret_file_text, "PATH=" + os.environ.get("PATH", "-")):
            if secret in text:
                found.append(f"secret {secret[:4]}… in output")
        if any(self.out.iterdir()):
            found.append(f"files appeared outside: {sorted(p.name for p in self.out.iterdir())}")
        for path in (PKG / f"pwned_{self.marker}.py", Path(f"/tmp/{self.marker}-pwned")):
            if path.exists():
                path.unlink()
                found.append(f"file written at {path}")
        try:
            conn, _ = self.listener.accept()
            conn.close()
            found.append("a connection reached the loopback listener")
        except TimeoutError:
            pass
        survivors = surviving_processes(self.marker)
        if survivors:
            found.append(f"processes outlived the run: {survivors}")
        return found

    def close(self):
        self.listener.close()
        for path in self.out.iterdir():
            path.unlink()
        self.out.rmdir()


def surviving_processes(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "comm").read_text():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    fixture = Fixture(tmp_path)
    monkeypatch.setenv("INTERVIEWER_SANDBOX_TEST_SECRET", fixture.secret_env)
    yield fixture
    fixture.close()


def run_guarded(code: str, policy: Policy):
    """Run in a thread so a hanging parent fails the test instead of freezing the suite."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run_program, code, policy=policy).result(timeout=HANG_GUARD_S)


MODES = {
    "all-layers": Policy(ast=True, limits=SUITE_LIMITS),
    "os-layers-only": Policy(ast=False, limits=SUITE_LIMITS),
    "no-bwrap-no-ast": Policy(ast=False, bwrap=False, limits=SUITE_LIMITS),
}


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("payload", PAYLOADS, ids=[p.name for p in PAYLOADS])
def test_escape_suite(payload, mode, world):
    policy = MODES[mode]
    if mode == "no-bwrap-no-ast" and payload.reads and not IS_ROOT:
        pytest.skip("without bwrap, reading the user's own files is stopped only by the uid drop (root)")
    if not policy.ast and payload.dangerous and not HAS_BWRAP and not sandbox_layers()["seccomp"]:
        pytest.skip("no bwrap and no seccomp here: too risky to run")
    result = run_guarded(world.fill(payload.code), policy)
    assert world.leaks(result) == [], result
    assert os.getppid() > 1  # the parent (this process) is alive and still has its own parent
    if policy.ast and payload.ast_blocked:
        assert result.blocked, f"the AST layer should have refused {payload.name}: {result}"
        assert "차단됨" in result.error
    elif payload.expect == "timed_out":
        assert result.timed_out and not result.ok, result
    elif payload.expect == "truncated":
        assert result.truncated and not result.ok
        assert len(result.stdout.encode()) <= SUITE_LIMITS.output_bytes + 200
        assert "잘렸습니다" in result.stdout
    elif payload.expect == "failed":
        assert not result.ok and result.error, result


def test_the_suite_is_big_enough():
    assert len(PAYLOADS) >= 50
    assert len({p.name for p in PAYLOADS}) == len(PAYLOADS)


# ---- which layers are active -------------------------------------------------------------------

def test_layers_report_what_is_active():
    report = sandbox_layers()
    assert report["rlimits"] and report["ast"]
    assert report["bwrap"] == HAS_BWRAP
    if sandbox_os.native_libraries().get("seccomp"):
        assert report["seccomp"], report["notes"]


def test_without_bwrap_the_worker_runs_with_the_other_layers():
    result = run_program("print(6 * 7)", policy=Policy(bwrap=False))
    assert result.ok and result.stdout == "42\n"
    assert "bwrap" not in result.layers and "ast" in result.layers and "rlimits" in result.layers
    if IS_ROOT:
        assert "nobody" in result.layers


@pytest.mark.skipif(not HAS_BWRAP, reason="bubblewrap not available")
def test_bwrap_worker_is_isolated():
    code = ("import os, socket\nprint(os.getuid(), sorted(os.listdir('/')), os.environ.get('HOME'))\n"
            "print(len([p for p in os.listdir('/proc') if p.isdigit()]))")
    result = run_program(code, policy=Policy(ast=False))
    assert result.ok, result
    uid_line, procs = result.stdout.splitlines()
    assert uid_line.startswith("65534 ")
    assert "'home'" not in uid_line and "'var'" not in uid_line
    assert int(procs) <= 3  # its own pid namespace: bwrap's init and the worker


# ---- legitimate programs -----------------------------------------------------------------------

def test_linear_algebra_is_right():
    result = run_program("import numpy as np\nA = np.array([[3., 1.], [1., 2.]])\n"
                         "x = np.linalg.solve(A, np.array([9., 8.]))\nprint(x)\nnp.linalg.det(A)")
    assert result.ok, result
    assert result.stdout.strip() == "[2. 3.]"
    assert float(result.result.split("(")[-1].rstrip(")")) == pytest.approx(5.0)


def test_seeded_random_numbers_match_numpy_outside():
    import numpy as np

    expected = np.random.default_rng(123).normal(size=3).round(6).tolist()
    code = "import numpy as np\nnp.random.default_rng(123).normal(size=3).round(6).tolist()"
    first, second = run_program(code), run_program(code)
    assert first.result == second.result == repr(expected)


def test_plot_comes_back_as_png():
    result = run_program("import numpy as np\nimport matplotlib.pyplot as plt\n"
                         "x = np.linspace(0, 1, 50)\nplt.plot(x, x ** 2)\nplt.title('손실 곡선')\n"
                         "fig, ax = plt.subplots()\nax.hist(np.arange(10))")
    assert result.ok, result
    assert len(result.figures) == 2
    assert all(base64.b64decode(f).startswith(b"\x89PNG\r\n\x1a\n") for f in result.figures)
    assert result.stdout == ""  # no font warnings leak into the user's output


def test_repl_result_and_stdout():
    result = run_program("print('안녕')\nx = 2\nx ** 10")
    assert (result.ok, result.stdout, result.result) == (True, "안녕\n", "1024")
    assert run_program("x = 1").result is None


def test_ordinary_python_is_allowed():
    code = ("import math\nclass Counter:\n    def __init__(self):\n        self.n = 0\n"
            "c = Counter()\nfor i in range(3):\n    c.n += i\n"
            "print(f'{c.n} {math.sqrt(16):.1f}', '{} {:.2f}'.format(1, 2.5))\n"
            "try:\n    1 / 0\nexcept ZeroDivisionError as e:\n    print('잡음', e)\n"
            "sorted({'b': 2, 'a': 1}.items())")
    result = run_program(code)
    assert result.ok, result
    assert result.stdout == "3 4.0 1 2.50\n잡음 division by zero\n"
    assert result.result == "[('a', 1), ('b', 2)]"


@pytest.mark.parametrize("demo", load_demos(PACKAGE_ROOT / "knowledge").all, ids=lambda d: d.id)
def test_demos_run_with_every_layer(demo):
    result = run_program(demo.code)
    assert result.ok, result.error
    assert result.stdout.strip(), "a demo explains itself in print()s"
    assert any("\uac00" <= ch <= "\ud7a3" for ch in result.stdout), "demo output is in Korean"


# ---- bad input ---------------------------------------------------------------------------------

def test_syntax_error_names_the_line():
    result = run_program("x = 1\ny = (\nprint(x)")
    assert not result.ok and result.blocked == "syntax"
    assert "2번째 줄" in result.error or "3번째 줄" in result.error


def test_runtime_error_names_the_line():
    result = run_program("import numpy as np\na = np.ones(3)\nb = a @ np.ones(4)")
    assert not result.ok and "ValueError" in result.error and "3번째 줄" in result.error


def test_timeout_is_reported_plainly():
    result = run_program("while True:\n    pass", policy=Policy(limits=Limits(cpu_seconds=1, wall_seconds=3)))
    assert result.timed_out and not result.ok
    assert "제한" in result.error and "중단" in result.error


def test_wall_clock_limit_kills_a_sleeper():
    result = run_program("import time\ntime.sleep(30)", policy=Policy(ast=False, limits=Limits(wall_seconds=1.5)))
    assert result.timed_out and "1.5초" in result.error


def test_output_over_the_cap_is_truncated_with_a_notice():
    result = run_program("for i in range(10 ** 6):\n    print(i)")
    assert result.truncated and not result.ok
    assert "잘렸습니다" in result.stdout
    assert len(result.stdout.encode()) <= Limits().output_bytes + 200


@pytest.mark.parametrize("code, rule", [
    ("import os", "import"), ("from numpy import *", "import"), ("open('x')", "builtin"),
    ("getattr(1, 'real')", "builtin"), ("(1).__class__", "dunder"), ("import numpy as np\nnp._core", "private"),
    ("import numpy as np\nnp.load('x')", "attribute"), ("s = '{0.real}'\ns.format(1)", "format"),
    ("'{0.__class__}'.format(1)", "format"), ("x = 1\n" * 20_000, "size"),
])
def test_blocked_construct_names_its_rule(code, rule):
    blocked = check_program(code)
    assert blocked is not None and blocked.rule == rule
    result = run_program(code)
    assert result.blocked == rule and f"[{rule}]" in result.error


def test_numpy_facade_has_no_file_pickle_or_ffi_functions():
    facades = build_facades(with_pyplot=True)
    np_facade = facades["numpy"]
    for name in NUMPY_DENY | {"memmap", "ctypeslib", "lib", "testing", "f2py", "ma", "rec", "char"}:
        assert not hasattr(np_facade, name), name
    assert np_facade.linalg.solve and np_facade.random.default_rng and np_facade.fft.fft
    plt = facades["matplotlib.pyplot"]
    assert not any(hasattr(plt, name) for name in ("savefig", "imsave", "imread", "rcParams", "style"))


# ---- demos and the CLI ------------------------------------------------------------------------

def test_demo_index_links_real_cards(runtime):
    demos = load_demos(PACKAGE_ROOT / "knowledge").all
    assert len(demos) >= 9
    card_ids = {card.id for card in runtime.bank.cards}
    for demo in demos:
        assert demo.cards and set(demo.cards) <= card_ids, demo.id
    wanted = {"activation-functions", "sigmoid-vs-relu", "momentum-formula", "gd-loss-increase",
              "data-normalization", "dropout", "bn-inference", "weight-initialization", "small-minibatch"}
    assert all(demos_for(card) for card in wanted)
    assert demos_for("sigmoid-vs-relu")[0].id == "vanishing-gradient"  # its main card first
    assert demos_for("tensorflow-vs-pytorch") == []


def test_cli_sandbox_json(cli):
    import json

    done = cli("sandbox", "--json", input="import numpy as np\nprint(np.arange(3).sum())\nnp.eye(2).trace()")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert {"ok", "stdout", "result", "error", "timed_out", "figures"} <= set(data)
    assert (data["ok"], data["stdout"], data["result"]) == (True, "3\n", "np.float64(2.0)")


def test_cli_sandbox_human_and_errors(cli, tmp_path):
    done = cli("sandbox", "--demo", "dropout-mask")
    assert done.returncode == 0 and "스케일링" in done.stdout
    blocked = cli("sandbox", input="import os\n")
    assert blocked.returncode == 1 and "[import]" in blocked.stderr and "Traceback" not in blocked.stderr
    empty = cli("sandbox", input="")
    assert empty.returncode == 2 and empty.stderr.count("\n") == 1
    unknown = cli("sandbox", "--demo", "no-such-demo")
    assert unknown.returncode == 2 and "Traceback" not in unknown.stderr


def test_worker_cannot_read_the_callers_stdin():
    """The caller's stdin carries a secret; even with the AST layer off the program reads nothing."""
    import subprocess
    import sys

    code = "import sys, os\nprint('got', repr(sys.stdin.read()), os.read(0, 10))"
    caller = ("import sys\nfrom interviewer.sandbox import Policy, run_program\n"
              f"r = run_program({code!r}, policy=Policy(ast=False))\nprint(r.ok, r.stdout)")
    secret = "stdin-" + secrets.token_hex(8)
    done = subprocess.run([sys.executable, "-c", caller], input=secret, capture_output=True, text=True,
                          timeout=HANG_GUARD_S, cwd=PACKAGE_ROOT)
    assert done.stdout.startswith("True got ''"), done
    assert secret not in done.stdout
