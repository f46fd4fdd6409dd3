"""The missed key points as flashcards: an Anki deck (`genanki`) or a CSV file for other tools.

One note per key point of the learner's progress that is due or was ever not covered (every graded
key point with `everything`). The front asks the question and names the idea asked for — the hint's
category, never the keyword; the back gives the keyword, the reference sentence that explains it,
the candidate's best quote so far and the card's reference answer. The deck id, the model id and each
note's GUID (from the card id and the keyword) never change, so importing a newer export into Anki
updates its notes instead of adding copies.
"""

from __future__ import annotations

import csv
import html
from dataclasses import dataclass
from pathlib import Path

import genanki

from interviewer.bank.cards import Bank
from interviewer.core.errors import UserError
from interviewer.core.records import now
from interviewer.history.sqlite import History

FORMATS = ("apkg", "csv")
# Fixed forever: Anki recognises the deck and the note type by them on every later import.
DECK_ID = 1_733_040_715
MODEL_ID = 1_733_040_716
DECK_NAME = "interviewer::딥러닝 면접 복습"
FIELDS = ("Question", "Asks", "Keyword", "Explanation", "Evidence", "Reference")
CSS = """.card { font-family: "Noto Sans KR", "Apple SD Gothic Neo", "Malgun Gothic", NanumGothic, sans-serif;
  font-size: 18px; text-align: left; line-height: 1.5; }
.asks { color: #57606a; margin-top: .6em; }
.keyword { font-size: 1.2em; font-weight: bold; }
.label { color: #57606a; font-size: .85em; margin-top: .8em; }
blockquote { margin: .3em 0; padding-left: .8em; border-left: 3px solid #d0d7de; }"""
FRONT = '{{Question}}<div class="asks">묻는 것: {{Asks}}</div>'
BACK = ('{{FrontSide}}<hr id="answer"><div class="keyword">{{Keyword}}</div>'
        '{{#Explanation}}<div class="label">설명</div><div>{{Explanation}}</div>{{/Explanation}}'
        '{{#Evidence}}<div class="label">내 답변에서 가장 좋았던 문장</div>'
        '<blockquote>{{Evidence}}</blockquote>{{/Evidence}}'
        '{{#Reference}}<div class="label">참고 답변</div><div>{{Reference}}</div>{{/Reference}}')
MODEL = genanki.Model(MODEL_ID, "interviewer keyword", fields=[{"name": name} for name in FIELDS],
                      templates=[{"name": "keyword", "qfmt": FRONT, "afmt": BACK}], css=CSS)


@dataclass(frozen=True)
class Flashcard:
    """One key point as a note; fields are plain text (HTML-escaped when a deck is written)."""

    guid: str
    card_id: str
    keyword: str
    question: str
    asks: str
    explanation: str
    evidence: str
    reference: str
    tag: str
    due: str

    def fields(self) -> list[str]:
        return [_html(text) for text in (self.question, self.asks, self.keyword, self.explanation, self.evidence,
                                          self.reference)]


def _html(text: str) -> str:
    return html.escape(text).replace("\n", "<br>")


def anki_tag(topic: str) -> str:
    """A topic as an Anki tag: no spaces inside (`bank.cards.topic_tag` is its `--topics` name)."""
    return "interviewer::" + "_".join(topic.split() or ["general"])


def flashcards(history: History, bank: Bank, learner: str, everything: bool = False,
               at: str | None = None) -> list[Flashcard]:
    """The key points to export, soonest due first: due by `at` or ever not covered, or all of them."""
    at = at or now()
    out = []
    for k in history.keyword_progress(learner):
        card = bank.by_id.get(k.card_id)
        kp = next((kp for kp in card.keypoints if kp.keyword == k.keyword), None) if card else None
        if card is None or kp is None:
            continue  # the bank or its curation changed since
        if not (everything or k.due_at <= at or k.covered < k.asked):
            continue
        out.append(Flashcard(guid=genanki.guid_for(k.card_id, k.keyword), card_id=k.card_id, keyword=k.keyword,
                             question=card.title, asks=kp.category or bank.topic_label(card.topic),
                             explanation=kp.explanation, evidence=k.best_evidence or "",
                             reference=card.answer or "", tag=anki_tag(card.topic), due=k.due_at))
    return out


def writable(out: Path) -> None:
    """A one-line error before any work when `out` cannot be written."""
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise UserError(f"cannot write {out}: directory {folder} does not exist")
    if out.is_dir():
        raise UserError(f"cannot write {out}: it is a directory")


def write_apkg(cards: list[Flashcard], out: Path) -> Path:
    deck = genanki.Deck(DECK_ID, DECK_NAME)
    for c in cards:
        deck.add_note(genanki.Note(model=MODEL, fields=c.fields(), tags=[c.tag], guid=c.guid))
    try:
        genanki.Package(deck).write_to_file(str(out))
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
    return out


CSV_COLUMNS = ("guid", "card_id", "keyword", "question", "asks", "explanation", "evidence", "reference", "tags",
               "due")


def write_csv(cards: list[Flashcard], out: Path) -> Path:
    """UTF-8 with a header row; one line per key point, the same fields as the deck in plain text."""
    try:
        with out.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(CSV_COLUMNS)
            for c in cards:
                writer.writerow([c.guid, c.card_id, c.keyword, c.question, c.asks, c.explanation, c.evidence,
                                 c.reference, c.tag, c.due])
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
    return out


def write(cards: list[Flashcard], out: Path, fmt: str = "apkg") -> Path:
    return write_csv(cards, out) if fmt == "csv" else write_apkg(cards, out)
