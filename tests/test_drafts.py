"""`interviewer curate`: drafts of the automatic model, LLM enrichment checked in code, `--check`."""

from __future__ import annotations

import json

import yaml
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from interviewer.bank.cards import load_bank
from interviewer.bank.drafts import DraftSummary, LLMEnricher, draft_cards
from interviewer.interview.llm_voice import LLMVoice
from interviewer.settings import Settings
from tests.test_bank import TEAM_BANK, write

KNOWLEDGE = Settings.from_env().knowledge


def team_bank(tmp_path):
    path = write(tmp_path, TEAM_BANK, "team.md")
    return path, load_bank(KNOWLEDGE, [path], include_bundled=False)


def test_draft_without_llm_is_the_automatic_model(tmp_path):
    _, bank = team_bank(tmp_path)
    drafted = draft_cards(bank, bank.cards)
    rnn = next(card for card in drafted if card["title"] == "RNN의 약점은?")
    assert rnn["topic"] == "시퀀스 모델"
    entries = {e["keyword"]: e for e in rnn["keypoints"]}
    assert set(entries) == {"기울기 소실", "순차 계산"}
    assert all(e["source"] == "automatic" and e["terms"] for e in entries.values())
    assert all(card["title"] != "빈 답변 질문은?" for card in drafted)  # nothing to learn it from


def test_cli_curate_writes_a_draft_the_grader_then_loads(cli, tmp_path):
    bank, _ = team_bank(tmp_path)
    out = tmp_path / "draft.yaml"
    result = cli("--bank", str(bank), "--no-bundled", "curate", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "카드 3개" in result.stderr
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert len(data) == 3 and all("keypoints" in card for card in data.values())
    checked = cli("--bank", str(bank), "--no-bundled", "curate", "--check", str(out))
    assert checked.returncode == 0 and "ok" in checked.stdout, checked.stderr
    with_draft = cli("--bank", str(bank), "--no-bundled", "--curation", str(out), "cards", "--json")
    sources = {kp["source"] for card in json.loads(with_draft.stdout) for kp in card["keypoints"]}
    assert sources == {"automatic"}  # an unreviewed draft is still read as learned words
    again = cli("--bank", str(bank), "--no-bundled", "curate", "--out", str(out))
    assert again.returncode == 2 and "never overwrites" in again.stderr
    assert out.read_text(encoding="utf-8").startswith("# Curation draft")


def test_cli_curate_check_names_the_line_of_a_mistake(cli, tmp_path):
    bank, _ = team_bank(tmp_path)
    bad = write(tmp_path, "no-such-card:\n  - keyword: x\n", "bad.yaml")
    result = cli("--bank", str(bank), "--no-bundled", "curate", "--check", str(bad))
    assert result.returncode == 2
    assert result.stderr.strip() == f"interviewer: error: {bad}:1: unknown card id 'no-such-card' (see `interviewer cards`)"


def test_llm_suggestions_are_checked_before_they_are_written(tmp_path):
    _, bank = team_bank(tmp_path)
    rnn = next(card for card in bank.cards if card.title == "RNN의 약점은?")
    reply = json.dumps({
        "기울기 소실": {
            "claims_ko": ["시간을 거슬러 역전파할수록 gradient가 곱해져 0에 가까워집니다.",
                          "기울기 소실",  # a copy of the keyword
                          "**굵게** 쓴 문장은 버립니다"],  # markup
            "claims_en": ["Gradients shrink exponentially as they flow back through time.",
                          "한국어가 섞인 영어 문장 is rejected"],
            "aliases": ["vanishing gradient", "gradient vanishing"],
            "wrong": ["RNN은 gradient가 항상 커지기만 해서 소실 문제는 없다."],
            "category": "역전파 중 신호의 크기"},
        "순차 계산": {"claims_ko": ["BPTT로 기울기가 시간축으로 곱해져 점점 소실됩니다"],  # the reference verbatim
                     "category": "순차 계산의 단점"}}, ensure_ascii=False)
    voice = LLMVoice(FakeListChatModel(responses=[reply, "JSON이 아닙니다", "없음"]), backend="local", model_name="fake")
    summary = DraftSummary()
    drafted = draft_cards(bank, [rnn, *[c for c in bank.cards if c is not rnn]], LLMEnricher(voice.client), summary)
    entries = {e["keyword"]: e for e in drafted[0]["keypoints"]}
    vanishing = entries["기울기 소실"]
    assert vanishing["source"] == "llm" and vanishing["category"] == "역전파 중 신호의 크기"
    assert "시간을 거슬러 역전파할수록 gradient가 곱해져 0에 가까워집니다." in vanishing["claims"]
    assert "Gradients shrink exponentially as they flow back through time." in vanishing["claims"]
    assert not any("**" in c or "한국어가 섞인" in c or c == "기울기 소실" for c in vanishing["claims"])
    assert vanishing["contradictions"] == ["RNN은 gradient가 항상 커지기만 해서 소실 문제는 없다."]
    sequential = entries["순차 계산"]
    assert "claims" not in sequential or all("BPTT로 기울기가" not in c for c in sequential["claims"])
    assert "category" not in sequential  # a hint that names the keyword gives it away
    assert summary.llm_cards == 1 and summary.llm_failures == 2 and summary.rejected_items == 4
    later = {e["keyword"]: e for card in drafted[1:] for e in card["keypoints"]}
    assert all(e["source"] == "automatic" for e in later.values())  # failed replies keep the automatic draft
