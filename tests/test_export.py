"""`review` and `export anki`: the FSRS schedule per keyword, and the missed keywords as an Anki deck
(opened as Anki's format: a zip holding the collection SQLite) or CSV."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import genanki
import pytest

from interviewer.core.records import stamp
from interviewer.history.progress import record
from interviewer.interview.engine import Deps, Interview, all_missing
from interviewer.interview.planning import Options
from interviewer.reports.export import DECK_ID, MODEL_ID, flashcards
from interviewer.runtime import Runtime
from interviewer.shells.app import ServedFiles
from tests.test_progress import GOOD_DROPOUT

REVIEW_KEYS = {"card_id", "keyword", "title", "due", "stability", "difficulty", "state", "last_verdict"}


@pytest.fixture
def deps(indexed_runtime: Runtime) -> Deps:
    return indexed_runtime.interview_deps()


def practised(deps: Deps) -> None:
    """dropout covered (Easy) and overfitting-remedies missed, in one real interview."""
    interview, _ = Interview.start(deps, Options(n_questions=2, topics=["dropout", "overfitting-remedies"],
                                                 seed=3, max_follow_ups=0, review=False))
    while not interview.finished:
        interview.answer(GOOD_DROPOUT if interview.current.card_id == "dropout" else "모르겠습니다")


def anki_notes(path: Path) -> list[tuple[str, str, str]]:
    """(guid, fields, tags) of every note in an .apkg, read the way Anki reads it."""
    with zipfile.ZipFile(path) as z:
        assert "collection.anki2" in z.namelist()
        (path.parent / "unzipped").mkdir(exist_ok=True)
        collection = Path(z.extract("collection.anki2", path.parent / "unzipped"))
    db = sqlite3.connect(collection)
    try:
        models = json.loads(db.execute("SELECT models FROM col").fetchone()[0])
        decks = json.loads(db.execute("SELECT decks FROM col").fetchone()[0])
        assert str(MODEL_ID) in models and str(DECK_ID) in decks
        return db.execute("SELECT guid, flds, tags FROM notes ORDER BY guid").fetchall()
    finally:
        db.close()
        collection.unlink()


def test_review_json_lists_every_graded_keyword_soonest_due_first(cli, deps: Deps):
    practised(deps)
    result = cli("review", "--json")
    assert result.returncode == 0, result.stderr
    items = json.loads(result.stdout)
    card = deps.bank.get("overfitting-remedies")
    assert len(items) == len(card.keypoints) + 2 and all(set(item) == REVIEW_KEYS for item in items)
    assert [item["due"] for item in items] == sorted(item["due"] for item in items)
    missed, covered = items[0], items[-1]
    assert (missed["card_id"], missed["title"], missed["last_verdict"], missed["state"]) == \
        ("overfitting-remedies", card.title, "missing", "learning")
    assert (covered["card_id"], covered["last_verdict"], covered["state"]) == ("dropout", "covered", "review")
    assert covered["stability"] > missed["stability"] and missed["due"] < covered["due"]
    text = cli("review")
    assert text.returncode == 0 and "co-adaptation 방지" in text.stdout and card.title not in text.stdout
    assert "L2 규제 (norm penalty)" in text.stdout  # people read the label; `--json` keeps the keyword


def test_review_with_nothing_graded_says_so(cli):
    assert json.loads(cli("review", "--json").stdout) == []
    result = cli("review")
    assert result.returncode == 0 and "복습할 키워드가 없습니다" in result.stdout


def test_anki_deck_holds_the_missed_keywords_and_keeps_its_guids(cli, deps: Deps, tmp_path: Path):
    practised(deps)
    card = deps.bank.get("overfitting-remedies")
    out = tmp_path / "review.apkg"
    result = cli("export", "anki", "--out", str(out))
    assert result.returncode == 0, result.stderr
    notes = anki_notes(out)
    assert len(notes) == len(card.keypoints)  # dropout was covered and is not due: not exported
    assert {guid for guid, _, _ in notes} == {genanki.guid_for(card.id, kp.keyword) for kp in card.keypoints}
    for _, flds, tags in notes:
        question, asks, keyword, _explanation, _evidence, reference = flds.split("\x1f")
        assert question == card.title and keyword in card.keywords + [kp.keyword for kp in card.keypoints]
        assert keyword not in asks and asks  # the front names the idea, never the keyword
        assert reference.startswith(card.answer.split("\n")[0][:20]) and tags.strip() == f"interviewer::{card.topic}"
    again = tmp_path / "again.apkg"
    assert cli("export", "anki", "--out", str(again), "--all").returncode == 0
    everything = anki_notes(again)
    assert len(everything) == len(card.keypoints) + 2
    assert {g for g, _, _ in notes} < {g for g, _, _ in everything}  # same notes, same GUIDs: Anki updates them
    dropout = [flds for guid, flds, _ in everything if guid == genanki.guid_for("dropout", "co-adaptation 방지")]
    assert "co-adaptation" in dropout[0].split("\x1f")[4]  # the best quote so far, on the back


def test_csv_export_has_the_same_notes(cli, deps: Deps, tmp_path: Path):
    practised(deps)
    out = tmp_path / "review.csv"
    assert cli("export", "anki", "--out", str(out), "--format", "csv").returncode == 0
    with out.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    card = deps.bank.get("overfitting-remedies")
    assert {r["guid"] for r in rows} == {genanki.guid_for(card.id, kp.keyword) for kp in card.keypoints}
    assert all(r["question"] == card.title and r["tags"] == f"interviewer::{card.topic}" for r in rows)


def test_nothing_to_export_writes_no_file(cli, tmp_path: Path):
    out = tmp_path / "review.apkg"
    result = cli("export", "anki", "--out", str(out))
    assert result.returncode == 0 and "내보낼 키워드가 없습니다" in result.stdout and not out.exists()


def test_out_in_a_missing_or_unwritable_directory_is_one_line_exit_2(cli, deps: Deps, tmp_path: Path):
    practised(deps)
    missing = cli("export", "anki", "--out", str(tmp_path / "nope" / "review.apkg"))
    assert missing.returncode == 2 and len(missing.stderr.strip().splitlines()) == 1
    assert "does not exist" in missing.stderr
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as root: a read-only directory is still writable")
        refused = cli("export", "anki", "--out", str(locked / "review.apkg"))
        assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1
    finally:
        locked.chmod(0o700)


def test_due_keywords_are_exported_and_each_learner_gets_their_own(deps: Deps):
    at = stamp(datetime.now(UTC) - timedelta(days=1))
    with deps.history.transaction() as tx:
        record(tx, deps.scheduler, "kim", "s1", all_missing(deps.bank.get("dropout")), at)
    assert flashcards(deps.history, deps.bank, "") == []
    kim = flashcards(deps.history, deps.bank, "kim")
    assert {c.card_id for c in kim} == {"dropout"} and all(c.evidence == "" for c in kim)


def test_the_history_tab_offers_the_learners_deck(indexed_runtime: Runtime, deps: Deps):
    files = ServedFiles(indexed_runtime)
    assert files.anki_deck("") is None
    practised(deps)
    deck = files.anki_deck("")
    assert deck is not None and deck.suffix == ".apkg"
    assert len(anki_notes(deck)) == len(deps.bank.get("overfitting-remedies").keypoints)
