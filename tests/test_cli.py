"""The foundation commands end to end, as scripts call them."""

from __future__ import annotations

import json

from interviewer import __version__


def test_version(cli):
    result = cli("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"interviewer {__version__}"


def test_cards_json_contract(cli):
    result = cli("cards", "--json")
    assert result.returncode == 0, result.stderr
    cards = json.loads(result.stdout)
    ids = {card["id"] for card in cards}
    for card in cards:
        assert {"id", "title", "parent_id", "keywords", "gradable"} <= set(card)
        assert card["parent_id"] is None or card["parent_id"] in ids
    by_id = {card["id"]: card for card in cards}
    assert by_id["dropout"]["keywords"][:2] == ["co-adaptation 방지", "다양한 모델 학습"]
    assert by_id["dropout"]["parent_id"] == "batch-normalization"
    assert by_id["weight-initialization"]["title"] == (
        "Weight Initialization 방법에 대해 말해주세요. 그리고 무엇을 많이 사용하나요?")


def test_cards_human_listing(cli):
    result = cli("cards")
    assert result.returncode == 0
    assert "gd-loss-increase" in result.stdout and "GD 중에 때때로 Loss가 증가하는 이유는?" in result.stdout


def test_ingest_then_search_end_to_end(cli):
    first = cli("ingest")
    assert first.returncode == 0, first.stderr
    assert "embedded" in first.stdout
    second = cli("ingest")
    assert second.returncode == 0 and " 0 embedded" in second.stdout
    found = cli("search", "드롭아웃을 쓰면 어떤 효과가 있나요", "--json", "--limit", "3")
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)
    assert "dropout" in [hit["card_id"] for hit in hits]
    assert all(0.0 <= hit["similarity"] <= 1.0 for hit in hits)


def test_search_before_ingest_is_a_clear_error(cli):
    result = cli("search", "dropout")
    assert result.returncode == 2
    assert result.stderr.strip() == "interviewer: error: the index is empty: run `interviewer ingest` first"


def test_user_bank_beside_and_instead_of_the_bundled_one(cli, tmp_path):
    bank = tmp_path / "mine.md"
    bank.write_text("## Attention이란?\n\nKeyword: query key value\nAnswer: 가중합입니다.\n", encoding="utf-8")
    beside = json.loads(cli("--bank", str(bank), "cards", "--json").stdout)
    alone = json.loads(cli("--bank", str(bank), "--no-bundled", "cards", "--json").stdout)
    assert len(beside) == len(alone) + len(json.loads(cli("cards", "--json").stdout))
    assert [c["title"] for c in alone] == ["Attention이란?"]


def test_malformed_bank_fails_with_file_line_and_keeps_the_index(cli, tmp_path):
    assert cli("ingest").returncode == 0
    broken = tmp_path / "broken.md"
    broken.write_text("## 질문?\nKeyword: a\n\n### 꼬리?\n\n## 질문?\n", encoding="utf-8")
    result = cli("--bank", str(broken), "ingest")
    assert result.returncode == 2
    assert result.stderr.strip() == f"interviewer: error: {broken}:6: duplicate question title (first at {broken}:1)"
    assert " 0 embedded" in cli("ingest").stdout  # the existing index is intact


def test_bad_usage_is_one_line(cli):
    for args in (["--frobnicate"], ["cards", "--nope"], ["no-such-command"]):
        result = cli(*args)
        assert result.returncode == 2
        assert len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.stderr


def test_missing_bank_file_is_one_line(cli, tmp_path):
    result = cli("--bank", str(tmp_path / "nope.md"), "cards")
    assert result.returncode == 2
    assert result.stderr.startswith(f"interviewer: error: {tmp_path / 'nope.md'}:0: cannot read the bank")
