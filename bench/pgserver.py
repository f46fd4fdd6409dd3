"""A throw-away PostgreSQL server for the tests and the benchmarks: Debian's `postgresql` binaries,
`initdb` into a fresh temp directory, listening on 127.0.0.1 on a free port only (its Unix socket in
that directory), run as the `postgres` user when we are root (the server refuses to run as root),
stopped and removed when the `with` block ends.

    with postgres_server() as pg:
        url = pg.create_database()   # postgresql://postgres@127.0.0.1:PORT/test_1

`Unavailable` says why there can be no server here (no binaries, root without a `postgres` user).
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

START_TIMEOUT_S = 30
SERVER_USER = "postgres"


class Unavailable(Exception):
    """No PostgreSQL server can be started here; the message says why."""


def bindir() -> Path:
    """The newest installed server's binaries (Debian: /usr/lib/postgresql/N/bin), else initdb on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    initdb = found[-1] if found else shutil.which("initdb")
    if initdb is None:
        raise Unavailable("PostgreSQL is not installed (Debian: apt-get install postgresql; `make test` does it as root)")
    return Path(initdb).parent


def run_as() -> tuple[list[str], pwd.struct_passwd | None]:
    """How to run the server: as ourselves unless we are root, else as the `postgres` user."""
    if os.geteuid() != 0:
        return [], None
    try:
        user = pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise Unavailable("running as root and there is no `postgres` user to run the server as") from None
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise Unavailable("running as root and `setpriv` (util-linux) is missing to drop to the postgres user")
    return [setpriv, f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups", "--"], user


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PostgresServer:
    port: int
    directory: Path
    process: subprocess.Popen
    _names: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{SERVER_USER}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, prefix: str = "test") -> str:
        """A new, empty database; its URL."""
        name = f"{prefix}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextlib.contextmanager
def postgres_server(durable: bool = False) -> Iterator[PostgresServer]:
    """A server for as long as the block runs. `durable=False` (tests) turns fsync off."""
    binaries = bindir()
    prefix, user = run_as()
    directory = Path(tempfile.mkdtemp(prefix="interviewer-pg-"))
    if user is not None:
        os.chown(directory, user.pw_uid, user.pw_gid)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "HOME": str(directory)}
    data = directory / "data"
    try:
        _initdb(prefix, binaries, data, env)
        port = free_port()
        options = ["listen_addresses=127.0.0.1", f"unix_socket_directories={directory}", "max_connections=200"]
        if not durable:
            options += ["fsync=off", "synchronous_commit=off", "full_page_writes=off"]
        with (directory / "server.log").open("w") as log:
            process = subprocess.Popen([*prefix, str(binaries / "postgres"), "-D", str(data), "-p", str(port),
                                        *(arg for option in options for arg in ("-c", option))],
                                       stdout=log, stderr=subprocess.STDOUT, env=env, cwd=directory)
        server = PostgresServer(port, directory, process)
        try:
            _wait_ready(server, directory / "server.log")
            yield server
        finally:
            process.send_signal(signal.SIGINT)  # fast shutdown: roll back, close connections, stop
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _initdb(prefix: list[str], binaries: Path, data: Path, env: dict[str, str]) -> None:
    try:
        subprocess.run([*prefix, str(binaries / "initdb"), "-D", str(data), "-U", SERVER_USER, "-A", "trust",
                        "-E", "UTF8", "--locale=C", "--no-sync"],
                       check=True, capture_output=True, env=env, cwd=data.parent, timeout=120)
    except subprocess.CalledProcessError as exc:
        raise Unavailable(f"initdb failed: {' '.join(exc.stderr.decode(errors='replace').split())[:300]}") from None


def _wait_ready(server: PostgresServer, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if server.process.poll() is not None:
            raise Unavailable(f"the server exited: {' '.join(log.read_text(errors='replace').split())[-300:]}")
        try:
            psycopg.connect(server.url(), connect_timeout=1).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise Unavailable(f"the server did not accept connections within {START_TIMEOUT_S} s") from None
            time.sleep(0.1)
