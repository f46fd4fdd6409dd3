"""Server mode against a real `chroma run` on a free loopback port: ingest, search and grading go
through it, the embedded store is never touched, and a token reaches the server on every request."""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import chromadb
import pytest
from chromadb.config import Settings as ChromaSettings

from interviewer.index.store import KEYPOINTS, QUESTIONS
from interviewer.runtime import Runtime
from interviewer.settings import Settings

TOKEN = "s3cret-token_42"
CARD = "dl-vs-ml"
ANSWER = ("Deep learning is a subset of machine learning built on multi-layer neural networks. The main "
          "difference is that classical ML depends on hand-crafted features that an engineer designs and "
          "selects, whereas a deep model learns its own representations directly from raw data, end to end.")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_chroma(path: Path, env: dict | None = None) -> tuple[subprocess.Popen, str]:
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent))
    if chroma is None:
        pytest.skip("the chroma CLI is not installed in this environment")
    port = free_port()
    proc = subprocess.Popen([chroma, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.2)
    proc.kill()
    pytest.fail("chroma run did not start listening within 60 s")


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    proc, url = start_chroma(tmp_path_factory.mktemp("chroma-server"))
    yield url
    proc.terminate()
    proc.wait(timeout=20)


def plain_client(url: str) -> chromadb.ClientAPI:
    port = int(url.rsplit(":", 1)[1])
    return chromadb.HttpClient(host="127.0.0.1", port=port, settings=ChromaSettings(anonymized_telemetry=False))


def server_runtime(home: Path, url: str, **env: str) -> Runtime:
    """The bundled bank (curated, so grades depend on the index) with the index on a server."""
    return Runtime(Settings.from_env({"INTERVIEWER_HOME": str(home), "INTERVIEWER_CHROMA_URL": url, **env}))


def test_server_mode_ingests_searches_and_grades_through_the_server(tmp_path, chroma_server, indexed_runtime):
    home = tmp_path / "server-home"
    rt = server_runtime(home, chroma_server)
    first = rt.store.ingest(rt.bank, rt.glossary, rebuild=True)
    assert first.added == indexed_runtime.store.count(QUESTIONS) + indexed_runtime.store.count(KEYPOINTS)
    assert rt.store.ingest(rt.bank, rt.glossary).added == 0

    server = plain_client(chroma_server)  # what the server itself holds, seen by another client
    assert server.get_collection(QUESTIONS).count() == len(rt.bank.cards)
    assert server.get_collection(KEYPOINTS).count() == first.added - len(rt.bank.cards)

    hits = rt.store.search("학습 도중에 손실이 갑자기 커지는 원인", limit=3)
    assert "gd-loss-increase" in [h.card_id for h in hits]

    remote = rt.grader.grade(rt.bank.get(CARD), ANSWER)
    local = indexed_runtime.grader.grade(indexed_runtime.bank.get(CARD), ANSWER)
    assert remote.model_dump() == local.model_dump()  # same index content, same verdicts
    assert {kp.verdict for kp in remote.keypoints} == {"covered"}
    assert not (home / "chroma").exists()  # nothing was written to the embedded store


def test_cli_ingests_and_grades_against_the_server_only(tmp_path, home, cli, chroma_server):
    env = {"INTERVIEWER_CHROMA_URL": chroma_server}
    ingest = cli("ingest", env=env)
    assert ingest.returncode == 0, ingest.stderr
    batch = tmp_path / "answers.jsonl"
    batch.write_text(json.dumps({"card_id": CARD, "answer": ANSWER}) + "\n", encoding="utf-8")
    graded = cli("grade", "--batch", str(batch), "--json", env=env)
    assert graded.returncode == 0, graded.stderr
    result = json.loads(graded.stdout.splitlines()[0])
    assert result["card_id"] == CARD and "covered" in {kp["verdict"] for kp in result["keypoints"]}
    assert not (home / "chroma").exists()


def test_unreachable_server_is_a_clear_error(tmp_path, home, cli):
    result = cli("ingest", env={"INTERVIEWER_CHROMA_URL": f"http://127.0.0.1:{free_port()}"})
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (home / "chroma").exists()


class TokenProxy(ThreadingHTTPServer):
    """An authenticating reverse proxy in front of `chroma run`, in the role nginx or Caddy plays in
    production (`chroma run` has no authentication of its own): only requests that carry the bearer
    token reach Chroma; the others get nginx's 401 page."""

    daemon_threads = True

    def __init__(self, upstream: str, token: str):
        super().__init__(("127.0.0.1", 0), _Forward)
        self.upstream = upstream.removeprefix("http://")
        self.token = token
        self.forwarded = self.rejected = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Forward(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: TokenProxy

    def handle_one(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Authorization") != f"Bearer {self.server.token}":
            self.server.rejected += 1
            self.reply(401, b"<html>\r\n<head><title>401 Authorization Required</title></head>\r\n</html>\r\n", "text/html")
            return
        upstream = http.client.HTTPConnection(self.server.upstream, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "authorization", "connection")}
        upstream.request(self.command, self.path, body=body, headers=headers)
        response = upstream.getresponse()
        self.server.forwarded += 1
        self.reply(response.status, response.read(), response.getheader("Content-Type", "application/json"))
        upstream.close()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_one

    def reply(self, status: int, data: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def token_proxy(chroma_server):
    proxy = TokenProxy(chroma_server, TOKEN)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    yield proxy
    proxy.shutdown()
    proxy.server_close()


def test_token_is_sent_on_every_request(home, token_proxy):
    rt = server_runtime(home, token_proxy.url, INTERVIEWER_CHROMA_TOKEN=TOKEN)
    rt.store.ingest(rt.bank, rt.glossary)
    assert rt.grader.grade(rt.bank.get(CARD), ANSWER).score > 0  # key-point vectors came through the proxy
    assert token_proxy.forwarded > 5 and token_proxy.rejected == 0
    assert not (home / "chroma").exists()


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_missing_or_wrong_token_is_a_clear_error(tmp_path, home, cli, token_proxy, token):
    env = {"INTERVIEWER_CHROMA_URL": token_proxy.url, **({"INTERVIEWER_CHROMA_TOKEN": token} if token else {})}
    result = cli("ingest", env=env)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "INTERVIEWER_CHROMA_TOKEN" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert token_proxy.forwarded == 0 and token_proxy.rejected >= 1


def test_chroma_run_ignores_server_auth_settings(tmp_path):
    """Why docs/deployment.md says to put a proxy in front: `chroma run` (1.5) accepts a client without
    any token even when started with Chroma's documented token-auth settings."""
    env = {"PATH": "/usr/bin:/bin", "CHROMA_SERVER_AUTHN_PROVIDER": "chromadb.auth.token_authn.TokenAuthenticationServerProvider",
           "CHROMA_SERVER_AUTHN_CREDENTIALS": TOKEN}
    proc, url = start_chroma(tmp_path / "chroma", env=env)
    try:
        anonymous = plain_client(url)
        anonymous.get_or_create_collection("open-door")
        assert "open-door" in [c.name for c in anonymous.list_collections()]
    finally:
        proc.terminate()
        proc.wait(timeout=20)
