"""The parser on the real seed and on hand-made broken banks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from interviewer.bank.cards import load_bank, parse_markdown, slug_for
from interviewer.core.errors import BankError, UserError
from interviewer.settings import Settings

KNOWLEDGE = Settings.from_env().knowledge
SEED = KNOWLEDGE / "dl_interview_qa.md"


@pytest.fixture(scope="module")
def bank():
    return load_bank(KNOWLEDGE)


def seed_headings() -> list[tuple[int, str]]:
    return [(len(m.group(1)), m.group(2).strip())
            for m in re.finditer(r"^(#{2,3})\s+(.*)$", SEED.read_text(encoding="utf-8"), re.M)]


def seed_keyword_lines() -> list[list[str]]:
    lines = re.findall(r"^Keyword:(.*)$", SEED.read_text(encoding="utf-8"), re.M)
    return [[k.strip() for k in line.split(",") if k.strip()] for line in lines]


def test_knowledge_holds_the_seed_verbatim():
    shared = Path(__file__).resolve().parents[2] / "shared" / "seed" / "dl_interview_qa.md"
    if not shared.exists():
        pytest.skip("shared/seed not beside the checkout")
    assert SEED.read_bytes() == shared.read_bytes()


def test_every_heading_is_a_card_with_its_title(bank):
    titles = {card.title for card in bank.cards}
    headings = seed_headings()
    assert len(headings) == 34
    for _, title in headings:
        assert title in titles


def test_seed_keywords_are_kept_verbatim_on_their_card(bank):
    all_keywords = [kw for card in bank.cards for kw in card.keywords]
    expected = [kw for line in seed_keyword_lines() for kw in line]
    assert all_keywords == expected
    assert bank.get("tensorflow-vs-pytorch").keywords == ["Define and/by run"]
    assert bank.get("overfitting-remedies").keywords == [
        "데이터 양 늘리기", "regularization", "dropout", "norm penalty"]


def test_follow_ups_link_to_an_existing_main_question(bank):
    follow_ups = [c for c in bank.cards if c.kind == "follow_up"]
    assert len(follow_ups) == sum(1 for level, _ in seed_headings() if level == 3)
    for card in follow_ups:
        parent = bank.get(card.parent_id)
        assert parent.kind == "main"
    assert [c.id for c in bank.children("gradient-descent")] == ["gd-loss-increase", "backpropagation"]


def test_ids_are_unique_readable_slugs(bank):
    ids = [card.id for card in bank.cards]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9-]*", i) for i in ids)


def test_struck_text_is_retracted_and_not_used(bank):
    card = bank.get("overfitting-remedies")
    assert "모델 복잡도 줄이기" in card.retracted
    assert all("모델 복잡도 줄이기" not in note for note in card.notes)
    assert all("~~" not in note for note in card.notes)


def test_answer_spans_continuation_lines_and_formulas_stay_text(bank):
    init = bank.get("weight-initialization")
    assert init.answer.endswith("ReLU일 경우 He init을 사용함.")
    norm = bank.get("data-normalization")
    assert any("$x={x−x_{min}}/{x_{max}−x_{min}}$" in note for note in norm.notes)


def test_links_and_images_are_kept_as_references(bank):
    assert "https://skyil.tistory.com/50" in bank.get("data-normalization").references
    assert any(ref.endswith("345ef903-f85e-43c1-9b42-55886bc18ce0/image.png")
               for ref in bank.get("activation-functions").references)
    bn = bank.get("batch-normalization")
    assert {"https://eehoeskrap.tistory.com/430", "https://m.blog.naver.com/laonple/220808903260"} <= set(
        bn.references)


def test_cards_without_keywords_are_gradable_only_with_curated_key_points(bank):
    debugging = bank.get("framework-debugging")
    assert debugging.keywords == []
    assert debugging.gradable == bool(debugging.keypoints)
    assert all(kp.added for kp in debugging.keypoints)
    for card in bank.cards:
        seed = [kp.keyword for kp in card.keypoints if not kp.added]
        assert seed == card.keywords  # seed keywords first, in order, never altered


def test_trailing_question_list_becomes_practice_cards(bank):
    practice = [c for c in bank.cards if c.kind == "practice"]
    assert [c.title for c in practice] == [
        "간단한 MNIST 분류기를 MLP+CPU 버전으로 numpy로 만든다면 몇줄일까?",
        "어느 정도 돌아가는 녀석을 작성하기까지 몇시간 정도 걸릴까?",
        "Back Propagation은 몇줄인가?",
        "CNN으로 바꾼다면 얼마나 추가될까?",
    ]
    assert practice[0].parent_id is None
    assert {c.parent_id for c in practice[1:]} == {practice[0].id}
    assert bank.get("momentum-formula").notes == []


def test_every_card_has_a_known_topic(bank):
    assert all(card.topic in bank.topics for card in bank.cards)


def test_slug_depends_only_on_the_title():
    assert slug_for("Dropout의 효과는?") == slug_for("Dropout의 효과는?")
    assert slug_for("Dropout의 효과는?").startswith("dropout-")
    assert slug_for("드롭아웃 효과") != slug_for("드롭아웃 효과2")


def write(tmp_path: Path, text: str, name: str = "bank.md") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_user_bank_ids_stay_stable_when_another_card_changes(tmp_path):
    first = write(tmp_path, "## 질문 A?\n\nKeyword: a\nAnswer: x\n\n## 질문 B?\n\nKeyword: b\nAnswer: y\n")
    ids_before = {c.title: c.id for c in load_bank(KNOWLEDGE, [first], include_bundled=False).cards}
    edited = write(tmp_path, "## 질문 A가 바뀜?\n\nKeyword: a\nAnswer: x\n\n## 질문 B?\n\nKeyword: b, c\nAnswer: z\n")
    ids_after = {c.title: c.id for c in load_bank(KNOWLEDGE, [edited], include_bundled=False).cards}
    assert ids_after["질문 B?"] == ids_before["질문 B?"]


@pytest.mark.parametrize("text, line, reason", [
    ("### 꼬리 질문?\nKeyword: a\n", 1, "follow-up question (###) before any main question"),
    ("Keyword: a, b\n\n## 질문?\n", 1, "Keyword: line outside a question"),
    ("## 질문?\nKeyword: a\n\n## 질문?\nKeyword: b\n", 4, "duplicate question title"),
    ("## 질문?\nKeyword: a\nKeyword: b\n", 3, "second Keyword: line"),
    ("## 질문?\n#### 너무 깊은 제목\n", 2, "heading level 4"),
])
def test_malformed_banks_are_rejected_with_file_and_line(tmp_path, text, line, reason):
    path = write(tmp_path, text)
    with pytest.raises(BankError) as err:
        load_bank(KNOWLEDGE, [path], include_bundled=False)
    assert err.value.line == line
    assert str(err.value).startswith(f"{path}:{line}: ")
    assert reason in err.value.reason


def test_duplicate_title_across_user_bank_and_seed(tmp_path):
    path = write(tmp_path, "## Dropout의 효과는?\nKeyword: x\n")
    with pytest.raises(BankError, match="duplicate question title"):
        load_bank(KNOWLEDGE, [path])


def test_non_utf8_and_unreadable_files(tmp_path):
    latin = tmp_path / "latin.md"
    latin.write_bytes("## 질문?\n".encode() + b"Keyword: caf\xe9\n")
    with pytest.raises(BankError) as err:
        parse_markdown(latin)
    assert err.value.line == 2 and "not UTF-8" in err.value.reason
    with pytest.raises(BankError, match="cannot read"):
        parse_markdown(tmp_path / "missing.md")


def test_empty_bank_is_an_error(tmp_path):
    with pytest.raises(UserError, match="empty"):
        load_bank(KNOWLEDGE, [write(tmp_path, "그냥 메모\n")], include_bundled=False)


TEAM_BANK = ("# 시퀀스 모델\n\n## RNN의 약점은?\n\nKeyword: 기울기 소실, 순차 계산\n"
             "Answer: BPTT로 기울기가 시간축으로 곱해져 점점 소실됩니다. 또 step을 하나씩 순차 계산해야 해서 느립니다.\n\n"
             "### LSTM은 어떻게 완화하나요?\n\nKeyword: cell state\nAnswer: cell state로 정보를 더하며 흘려 보냅니다.\n\n"
             "# CNN\n\n## Pooling의 역할은?\nTopic: 경량화\nKeyword: 다운샘플링\nAnswer: feature map 크기를 줄입니다.\n\n"
             "## 빈 답변 질문은?\n\nKeyword: 아무거나\nAnswer:\n")


def test_sections_and_topic_lines_give_user_cards_their_topics(tmp_path):
    bank = load_bank(KNOWLEDGE, [write(tmp_path, TEAM_BANK)], include_bundled=False)
    topics = {card.title: card.topic for card in bank.cards}
    assert topics["RNN의 약점은?"] == "시퀀스-모델" and topics["LSTM은 어떻게 완화하나요?"] == "시퀀스-모델"
    assert topics["Pooling의 역할은?"] == "경량화"  # its own Topic: line wins over the section
    assert topics["빈 답변 질문은?"] == "cnn"
    assert bank.topic_label("시퀀스-모델") == "시퀀스 모델" and bank.topic_label("cnn") == "CNN"


def test_uncurated_keywords_get_an_automatic_model_and_empty_answers_stay_ungradable(tmp_path):
    bank = load_bank(KNOWLEDGE, [write(tmp_path, TEAM_BANK)], include_bundled=False)
    rnn = next(c for c in bank.cards if c.title == "RNN의 약점은?")
    assert rnn.gradable and [kp.source for kp in rnn.keypoints] == ["automatic", "automatic"]
    assert all(kp.explanation for kp in rnn.keypoints)
    assert rnn.summary()["keypoints"] == [{"keyword": "기울기 소실", "source": "automatic"},
                                          {"keyword": "순차 계산", "source": "automatic"}]
    empty = next(c for c in bank.cards if c.title == "빈 답변 질문은?")
    assert not empty.gradable and empty.keywords == ["아무거나"]


def card_id_of(bank_path: Path, title: str) -> str:
    return next(c.id for c in load_bank(KNOWLEDGE, [bank_path], include_bundled=False).cards if c.title == title)


def test_a_curation_file_beside_the_bank_extends_its_key_points(tmp_path):
    path = write(tmp_path, TEAM_BANK, "team.md")
    rnn = card_id_of(path, "RNN의 약점은?")
    write(tmp_path, f"{rnn}:\n  topic: 순환 신경망\n  keypoints:\n    - keyword: 순차 계산\n"
                    "      category: 계산 순서\n      claims: [한 step씩 차례로 계산해서 병렬화가 어렵다.]\n",
          "team.keypoints.yaml")
    card = load_bank(KNOWLEDGE, [path], include_bundled=False).get(rnn)
    sequential = card.keypoints[1]
    assert sequential.category == "계산 순서" and "병렬화가 어렵다" in sequential.claims[-1]
    assert sequential.source == "automatic"  # no reviewed terms: still weighed as learned words
    assert card.topic == "순환-신경망"


@pytest.mark.parametrize("curation, line, reason", [
    ("no-such-card:\n  - keyword: x\n", 1, "unknown card id 'no-such-card'"),
    ("{rnn}:\n  - keyword: 순차계산\n", 2, "'순차계산' is not a keyword of the card"),
    ("{rnn}:\n  - keyword: 순차 계산\n    claims: 한 문장\n", 3, "claims must be a list of strings"),
    ("{rnn}:\n  - keyword: 순차 계산\n    named: yes please\n", 3, "named must be true or false"),
    ("{rnn}:\n  - keyword: 순차 계산\n    colour: red\n", 3, "unknown field 'colour'"),
    ("{rnn}:\n  - keyword: [unclosed\n", 3, "invalid YAML"),
    ("{rnn}:\n  - keyword: 순차 계산\n    bindings: [{about: [RNN], says: [순차]}]\n", 3, "bindings must be a list"),
    ("{rnn}:\n  - keyword: 순차 계산\n    bindings: [{about: [RNN], wrong: [병렬], who: [x]}]\n", 3, "bindings must be"),
])
def test_bad_curation_files_name_file_and_line(tmp_path, curation, line, reason):
    path = write(tmp_path, TEAM_BANK, "team.md")
    rnn = card_id_of(path, "RNN의 약점은?")
    extra = write(tmp_path, curation.replace("{rnn}", rnn), "extra.yaml")
    with pytest.raises(BankError) as err:
        load_bank(KNOWLEDGE, [path], include_bundled=False, curation_files=[extra])
    assert str(err.value).startswith(f"{extra}:{line}: "), str(err.value)
    assert reason in str(err.value)
