"""The question bank: markdown Q&A documents parsed into cards, joined with the curated files.

Format (the seed's): `##` main question, `###` follow-up of the `##` above it, a `Keyword:` line of
comma-separated phrases, an `Answer:` paragraph, then bullet notes. `~~struck~~` text is retracted;
a trailing bullet list of questions at the end of a document becomes practice cards.
Curation (`cards.yaml`, `keypoints.yaml`) only adds to the seed: seed keywords are never altered.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import yaml

from interviewer.bank.curation import CardCuration, curation_beside, read_curation
from interviewer.bank.keypoints import automatic_keypoint, reference_units
from interviewer.core.errors import BankError, UserError
from interviewer.core.models import Card, CardKind, KeyPoint
from interviewer.lang.patterns import CARD_SENTENCE_BREAK
from interviewer.lang.phrasing import readable
from interviewer.lang.text import Glossary

HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")
KEYWORD_LINE = re.compile(r"^Keyword:(.*)$")
TOPIC_LINE = re.compile(r"^Topic:(.*)$")
ANSWER_LINE = re.compile(r"^Answer:(.*)$")
BULLET = re.compile(r"^(\s*)(?:[-*+]|\d+\.)\s+(.*)$")
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")
URL = re.compile(r"https?://[^\s)<>\]]+")
STRUCK = re.compile(r"~~(.+?)~~", re.S)
SLUG_WORD = re.compile(r"[A-Za-z0-9]+")
DEFAULT_TOPIC = "general"


@dataclass
class _Section:
    """A card while it is being parsed: raw lines, before curation."""

    title: str
    level: int
    line: int
    path: str
    parent: _Section | None = None
    keywords: list[str] | None = None
    answer_lines: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    practice_parent: _Section | None = None
    topic: str | None = None  # from a `# Section` above it or its own `Topic:` line


def split_keywords(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def strip_struck(text: str) -> tuple[str, list[str]]:
    """Remove `~~retracted~~` spans; return the clean text and what was removed."""
    removed = [m.group(1).strip() for m in STRUCK.finditer(text)]
    return STRUCK.sub("", text), removed


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in CARD_SENTENCE_BREAK.split(text) if s and s.strip()]


def slug_for(title: str) -> str:
    """A readable id for an uncurated card, stable because it depends on its own title only."""
    words = "-".join(w.lower() for w in SLUG_WORD.findall(title))[:40].strip("-")
    digest = hashlib.sha1(title.encode("utf-8")).hexdigest()[:6]
    return f"{words}-{digest}" if words else f"q-{digest}"


class _Parser:
    def __init__(self, path: str, text: str):
        self.path = path
        self.lines = text.splitlines()
        self.sections: list[_Section] = []
        self.main: _Section | None = None
        self.current: _Section | None = None
        self.in_answer = False
        self.section_topic: str | None = None

    def error(self, lineno: int, reason: str) -> BankError:
        return BankError(self.path, lineno, reason)

    def parse(self) -> list[_Section]:
        for lineno, line in enumerate(self.lines, start=1):
            self.feed(lineno, line)
        self.extract_practice()
        return self.sections

    def feed(self, lineno: int, line: str) -> None:
        stripped = line.strip()
        if heading := HEADING.match(line):
            self.start_section(lineno, len(heading.group(1)), heading.group(2))
            return
        if (topic := TOPIC_LINE.match(stripped)) and self.current is not None and not self.current.keywords:
            self.set_topic(lineno, topic.group(1))
            return
        if keyword := KEYWORD_LINE.match(stripped):
            self.set_keywords(lineno, keyword.group(1))
            return
        if answer := ANSWER_LINE.match(stripped):
            self.start_answer(lineno, answer.group(1))
            return
        if not stripped or stripped in ("<br/>", "<br>", "<br />"):
            self.in_answer = False
            return
        if self.current is None:
            return  # preamble text before the first question is not part of any card
        self.current.references.extend(IMAGE.findall(line))
        text_only = IMAGE.sub("", line).strip()
        if not text_only:
            return
        self.current.references.extend(URL.findall(text_only))
        bullet = BULLET.match(line)
        if self.in_answer and not bullet:
            self.current.answer_lines.append(text_only)
            return
        self.in_answer = False
        if bullet and not bullet.group(1):
            self.current.notes.append(bullet.group(2).strip())
        elif self.current.notes:
            self.current.notes[-1] += "\n" + stripped
        else:
            self.current.notes.append(stripped)

    def start_section(self, lineno: int, level: int, title: str) -> None:
        self.in_answer = False
        if level == 1:
            self.section_topic = title.strip() or None  # a section: the topic of the questions below it
            return
        if level > 3:
            raise self.error(lineno, f"heading level {level} is not a question (use ## or ###)")
        if not title:
            raise self.error(lineno, "empty question heading")
        if level == 3 and self.main is None:
            raise self.error(lineno, "follow-up question (###) before any main question (##)")
        section = _Section(title=title, level=level, line=lineno, path=self.path,
                           parent=self.main if level == 3 else None, topic=self.section_topic)
        if level == 2:
            self.main = section
        self.current = section
        self.sections.append(section)

    def set_topic(self, lineno: int, raw: str) -> None:
        if self.current is None:
            raise self.error(lineno, "Topic: line outside a question")
        if not raw.strip():
            raise self.error(lineno, "empty Topic: line")
        self.current.topic = raw.strip()

    def set_keywords(self, lineno: int, raw: str) -> None:
        if self.current is None:
            raise self.error(lineno, "Keyword: line outside a question")
        if self.current.keywords is not None:
            raise self.error(lineno, "second Keyword: line in one question")
        self.in_answer = False
        self.current.keywords = split_keywords(raw)

    def start_answer(self, lineno: int, first: str) -> None:
        if self.current is None:
            raise self.error(lineno, "Answer: line outside a question")
        if self.current.answer_lines:
            raise self.error(lineno, "second Answer: line in one question")
        self.in_answer = True
        if first.strip():
            self.current.answer_lines.append(first.strip())

    def extract_practice(self) -> None:
        """Turn a trailing list of questions at the end of the document into practice cards."""
        block_start = self.trailing_bullet_block()
        if block_start is None or self.current is None:
            return
        owner = self.current
        items = [(i + 1, BULLET.match(self.lines[i])) for i in range(block_start, len(self.lines))
                 if self.lines[i].strip()]
        if not all(m and m.group(2).rstrip().endswith("?") for _, m in items):
            return
        top: _Section | None = None
        for lineno, m in items:
            assert m is not None  # every item matched BULLET (checked just above)
            nested = bool(m.group(1))
            practice = _Section(title=m.group(2).strip(), level=4, line=lineno, path=self.path)
            practice.practice_parent = top if nested else None
            if not nested:
                top = practice
            self.sections.append(practice)
            owner.notes = [n for n in owner.notes if n.split("\n")[0] != practice.title]

    def trailing_bullet_block(self) -> int | None:
        end = len(self.lines)
        while end > 0 and not self.lines[end - 1].strip():
            end -= 1
        start = end
        while start > 0 and self.lines[start - 1].strip():
            start -= 1
        if start == end or not BULLET.match(self.lines[start]):
            return None
        return start


def parse_markdown(path: Path) -> list[_Section]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BankError(str(path), 0, f"cannot read the bank: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        lineno = raw[: exc.start].count(b"\n") + 1
        raise BankError(str(path), lineno, "not UTF-8 text") from None
    return _Parser(str(path), text.lstrip("\ufeff")).parse()


@dataclass
class Curation:
    """What is added to the seed: ids and topics (`knowledge/cards.yaml`), key points
    (`knowledge/keypoints.yaml`, and the curation files of user banks). Read once per bank load."""

    cards: dict[str, dict] = field(default_factory=dict)
    topics: dict[str, str] = field(default_factory=dict)
    keypoints: dict[str, list[dict]] = field(default_factory=dict)
    files: list[CardCuration] = field(default_factory=list)
    bundled_path: str = ""

    @classmethod
    def load(cls, knowledge: Path, files: Sequence[Path] = ()) -> Curation:
        meta = _read_yaml(knowledge / "cards.yaml")
        curation = cls(cards=meta.get("cards") or {}, topics=meta.get("topics") or {},
                       keypoints=_read_yaml(knowledge / "keypoints.yaml"),
                       bundled_path=str(knowledge / "keypoints.yaml"))
        for path in files:
            for card in read_curation(path):
                curation.files.append(card)
                curation.keypoints[card.card_id] = [entry.fields for entry in card.entries]
        return curation

    @property
    def card_topics(self) -> dict[str, str]:
        return {card.card_id: card.topic for card in self.files if card.topic}

    def file_card(self, card_id: str) -> CardCuration | None:
        return next((card for card in reversed(self.files) if card.card_id == card_id), None)

    def check_entries(self, card: Card) -> None:
        """A curation file's entries name seed keywords of their card, or are marked `curated: true`."""
        curated = self.file_card(card.id)
        if curated is None:
            return
        seen: set[str] = set()
        for entry in curated.entries:
            if entry.keyword in seen:
                raise entry.error(f"{card.id}: {entry.keyword!r} is curated twice")
            seen.add(entry.keyword)
            if entry.keyword in card.keywords and entry.fields.get("curated"):
                raise entry.error(f"{card.id}: seed keyword {entry.keyword!r} must not be marked curated")
            if entry.keyword not in card.keywords and not entry.fields.get("curated"):
                raise entry.error(f"{card.id}: {entry.keyword!r} is not a keyword of the card "
                                  f"({', '.join(card.keywords) or 'it has none'}); fix the spelling or mark it "
                                  "`curated: true`")

    def check_cards(self, card_ids: set[str], check_bundled: bool) -> None:
        for card in self.files:
            if card.card_id not in card_ids:
                raise BankError(card.path, card.line, f"unknown card id {card.card_id!r} (see `interviewer cards`)")
        from_files = {card.card_id for card in self.files}
        unknown = set(self.keypoints) - card_ids - from_files
        if unknown and check_bundled:
            raise UserError(f"{self.bundled_path}: key points for unknown card ids: {', '.join(sorted(unknown))}")


def _read_yaml(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", -1) + 1
        raise BankError(str(path), line, f"unreadable curation file: {exc}".splitlines()[0]) from None
    if data is not None and not isinstance(data, dict):
        raise BankError(str(path), 1, "curation file must be a mapping")
    return data or {}


def explanation_for(keyword: str, answer: str) -> str:
    """The reference-answer sentence that shares the most words with the keyword."""
    sentences = split_sentences(answer)
    if not sentences:
        return ""
    words = [w for w in re.split(r"[\s/,]+", keyword.lower()) if w]
    return max(sentences, key=lambda s: sum(w in s.lower() for w in words))


def _keypoint(keyword: str, curated: bool, entry: dict, automatic: KeyPoint | None, answer: str) -> KeyPoint:
    """A key point from its curation entry, over the automatic model of the same keyword: what the
    entry gives wins; without curated `terms` the key point stays a learned one."""
    if automatic is not None and not entry.get("terms"):
        fields = {**automatic.model_dump(exclude={"keyword", "source", "added"}), "source": entry.get("source", "automatic")}
    else:
        fields = {"explanation": explanation_for(keyword, answer) if not curated else "",
                  "source": entry.get("source", "curated")}
    for name in ("label", "category", "explanation", "claims", "contradictions", "bindings", "named"):
        if entry.get(name):
            fields[name] = entry[name]
    if entry.get("terms"):
        fields["terms"] = [[str(t) for t in group] for group in entry["terms"]]
    return KeyPoint(keyword=keyword, added=curated, **fields)


def glossed(keyword: str, glossary: Glossary) -> str:
    """An English seed keyword labelled with its Korean term from the glossary ("신경망 (Neural
    network)"); empty when there is none, so the keyword cleaned is shown."""
    if not keyword.isascii():
        return ""
    terms = [term for term in glossary.group(keyword) if not term.isascii()]
    mixed = [term for term in terms if re.search(r"[A-Za-z]", term)]  # "He 초기화" over "카이밍"
    korean = mixed or terms
    return f"{korean[0]} ({readable(keyword)})" if korean else ""


def build_keypoints(card: Card, curated: list[dict], path: str, glossary: Glossary) -> list[KeyPoint]:
    """Every seed keyword of the card (curated or automatic), then the curated additions."""
    by_keyword: dict[str, dict] = {str(entry.get("keyword")): entry for entry in curated}
    units = reference_units(card)
    points = []
    for keyword in card.keywords:
        entry = by_keyword.pop(keyword, {})
        if not entry and not units:
            continue  # nothing to learn it from: the card stays ungradable (`doctor` says why)
        if entry.get("curated"):
            raise UserError(f"{path}: {card.id}: seed keyword {keyword!r} must not be marked curated")
        point = _keypoint(keyword, False, entry, automatic_keypoint(card, keyword, glossary, units), card.answer)
        points.append(point if point.label else point.model_copy(update={"label": glossed(keyword, glossary)}))
    for keyword, entry in by_keyword.items():
        if not entry.get("curated"):
            raise UserError(f"{path}: {card.id}: {keyword!r} is not a seed keyword of the card; "
                            "mark it `curated: true` or fix the spelling")
        points.append(_keypoint(keyword, True, entry, None, card.answer))
    return points


def topic_tag(name: str) -> str:
    """The tag of a `# Section` or `Topic:` name, as `--topics` takes it: lower case, no commas."""
    return "-".join(name.replace(",", " ").lower().split())


class Bank:
    def __init__(self, cards: list[Card], topics: dict[str, str]):
        self.cards = cards
        self.topics = topics
        self.by_id = {card.id: card for card in cards}

    def get(self, card_id: str) -> Card:
        try:
            return self.by_id[card_id]
        except KeyError:
            raise UserError(f"unknown card id: {card_id!r} (see `interviewer cards`)") from None

    def children(self, card_id: str) -> list[Card]:
        return [c for c in self.cards if c.parent_id == card_id]

    @cached_property
    def fingerprint(self) -> str:
        """Content hash of everything that goes into the index."""
        digest = hashlib.sha256()
        for card in self.cards:
            digest.update(card.model_dump_json().encode("utf-8"))
        return digest.hexdigest()

    def topic_label(self, topic: str) -> str:
        return self.topics.get(topic, topic)


def build_cards(sections: list[_Section], curation: Curation, knowledge: Path, glossary: Glossary,
                check_curation: bool = True) -> tuple[list[Card], dict[str, str]]:
    cards: list[Card] = []
    ids: dict[int, str] = {}
    topics: dict[str, str] = {}
    labels = dict(curation.topics)
    seen_titles: dict[str, str] = {}
    seen_ids: dict[str, str] = {}
    for s in sections:
        where = f"{s.path}:{s.line}"
        if s.title in seen_titles:
            raise BankError(s.path, s.line, f"duplicate question title (first at {seen_titles[s.title]})")
        seen_titles[s.title] = where
        meta = curation.cards.get(s.title) or {}
        card_id = meta.get("id") or slug_for(s.title)
        if card_id in seen_ids:
            raise BankError(s.path, s.line, f"card id {card_id!r} already used at {seen_ids[card_id]}")
        seen_ids[card_id] = where
        ids[id(s)] = card_id
        parent = s.parent or s.practice_parent
        parent_id = ids[id(parent)] if parent else None
        kind: CardKind = "practice" if s.level == 4 else ("follow_up" if s.level == 3 else "main")
        inherited = "practice" if kind == "practice" else topics.get(parent_id or "", DEFAULT_TOPIC)
        own = curation.card_topics.get(card_id) or s.topic
        if own and not meta.get("topic"):
            labels.setdefault(topic_tag(own), own)
        topic = topics[card_id] = meta.get("topic") or (topic_tag(own) if own else inherited)
        answer, answer_struck = strip_struck("\n".join(s.answer_lines))
        notes, retracted = [], list(answer_struck)
        for note in s.notes:
            clean, struck = strip_struck(note)
            retracted += struck
            if clean.strip():
                notes.append(clean.strip())
        card = Card(id=card_id, title=s.title, parent_id=parent_id, kind=kind, topic=topic,
                    keywords=s.keywords or [], answer=answer.strip(), notes=notes,
                    references=list(dict.fromkeys(s.references)), retracted=retracted, source=where)
        curation.check_entries(card)
        card.keypoints = build_keypoints(card, curation.keypoints.get(card_id) or [], curation.bundled_path, glossary)
        cards.append(card)
    curation.check_cards(set(seen_ids), check_bundled=check_curation)
    return cards, labels


def load_bank(knowledge: Path, extra_banks: list[Path] | None = None, include_bundled: bool = True,
              curation_files: list[Path] | None = None, glossary: Glossary | None = None) -> Bank:
    """Parse the bundled bank (every `*.md` in `knowledge/`) and any user banks, with their curation:
    `team.keypoints.yaml` beside `team.md`, and any `curation_files`."""
    paths = sorted(knowledge.glob("*.md")) if include_bundled else []
    paths += list(extra_banks or [])
    if not paths:
        raise UserError("the question bank is empty: no markdown files to load")
    sections = [section for path in paths for section in parse_markdown(path)]
    beside = [curation_beside(path) for path in extra_banks or [] if curation_beside(path).exists()]
    curation = Curation.load(knowledge, [*beside, *(curation_files or [])])
    if not sections:
        raise UserError(f"the question bank is empty: no questions in {', '.join(map(str, paths))}")
    cards, topics = build_cards(sections, curation, knowledge, glossary or Glossary.load(knowledge),
                                check_curation=include_bundled)
    return Bank(cards, topics)


# The topic namespace `--topics` reads: topic tags and card ids, which may share a name.
CARD_PREFIX = "card:"  # `--topics card:ID` names a card even where a topic tag has the same name


def valid_topics(bank: Bank) -> list[str]:
    return list(dict.fromkeys([*bank.topics, *(c.topic for c in bank.cards)]))


def card_topic(card_id: str, bank: Bank) -> str:
    """How `--topics` names one card: its id, prefixed when a topic tag has the same name."""
    return f"{CARD_PREFIX}{card_id}" if card_id in valid_topics(bank) else card_id
