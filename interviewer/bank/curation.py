"""Curation files: what a team adds to its bank's key points, read with line numbers, and written.

A curation file has the schema of `knowledge/keypoints.yaml`: card id → a list of key-point entries,
or card id → `{topic: ..., keypoints: [...]}`. Entry fields: `keyword` (a seed keyword of the card,
verbatim, or a new key point with `curated: true`), `label` (how the chat and the report name it;
the keyword cleaned when absent), `category` (the hint), `explanation`, `terms`
(concept groups), `claims`, `contradictions`, `bindings` (claims tied to their subject: `about`,
`says`, `wrong`, `other`, lists of words), `named`, and `source` (`automatic` or `llm` while a
draft is unreviewed; absent once reviewed). `team.keypoints.yaml` beside `team.md` is loaded with it.
Every mistake is `file:line: reason`, before anything is indexed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from interviewer.core.errors import BankError

SOURCES = ("automatic", "llm", "curated")
TEXT_FIELDS = ("keyword", "label", "category", "explanation", "source")
LIST_FIELDS = ("claims", "contradictions")
BOOL_FIELDS = ("curated", "named")
BINDING_FIELDS = ("about", "says", "wrong", "other")
ENTRY_FIELDS = set(TEXT_FIELDS) | set(LIST_FIELDS) | set(BOOL_FIELDS) | {"terms", "bindings"}
CARD_FIELDS = {"topic", "keypoints"}


@dataclass
class Entry:
    """One key-point entry of a curation file and where it is written."""

    fields: dict[str, Any]
    path: str
    line: int

    @property
    def keyword(self) -> str:
        return self.fields["keyword"]

    def error(self, reason: str) -> BankError:
        return BankError(self.path, self.line, reason)


@dataclass
class CardCuration:
    card_id: str
    path: str
    line: int
    topic: str | None = None
    entries: list[Entry] = field(default_factory=list)


def curation_beside(bank: Path) -> Path:
    """`team.md` → `team.keypoints.yaml`."""
    return bank.with_name(f"{bank.stem}.keypoints.yaml")


def read_curation(path: Path) -> list[CardCuration]:
    """Parse and type-check a curation file; names the line of every mistake."""
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BankError(where, 0, f"cannot read the curation file: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise BankError(where, (mark.line + 1) if mark else 0, f"invalid YAML: {problem}") from None
    if root is None:
        return []
    if not isinstance(root, yaml.MappingNode):
        raise BankError(where, _line(root), "a curation file maps card ids to key-point entries")
    return [_card(where, key, value) for key, value in root.value]


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _scalar(node: yaml.Node) -> Any:
    return yaml.safe_load(yaml.serialize(node)) if node is not None else None


def _card(where: str, key: yaml.Node, value: yaml.Node) -> CardCuration:
    card_id = _scalar(key)
    if not isinstance(card_id, str) or not card_id:
        raise BankError(where, _line(key), "a card id must be a non-empty string")
    card = CardCuration(card_id, where, _line(key))
    entries: yaml.Node | None = value
    if isinstance(value, yaml.MappingNode):
        entries = None
        for k, v in value.value:
            name = _scalar(k)
            if name not in CARD_FIELDS:
                raise BankError(where, _line(k), f"{card_id}: unknown field {name!r} (expected topic, keypoints)")
            if name == "topic":
                topic = _scalar(v)
                if not isinstance(topic, str) or not topic.strip():
                    raise BankError(where, _line(v), f"{card_id}: topic must be a non-empty string")
                card.topic = topic.strip()
            else:
                entries = v
    if entries is None:
        return card
    if not isinstance(entries, yaml.SequenceNode):
        raise BankError(where, _line(entries), f"{card_id}: key points must be a list of entries")
    card.entries = [_entry(where, card_id, item) for item in entries.value]
    return card


def _entry(where: str, card_id: str, node: yaml.Node) -> Entry:
    if not isinstance(node, yaml.MappingNode):
        raise BankError(where, _line(node), f"{card_id}: a key-point entry must be a mapping")
    fields: dict[str, Any] = {}
    for k, v in node.value:
        name, value, line = _scalar(k), _scalar(v), _line(v)
        if name not in ENTRY_FIELDS:
            raise BankError(where, _line(k), f"{card_id}: unknown field {name!r}")
        if name in TEXT_FIELDS and not isinstance(value, str):
            raise BankError(where, line, f"{card_id}: {name} must be a string")
        if name in BOOL_FIELDS and not isinstance(value, bool):
            raise BankError(where, line, f"{card_id}: {name} must be true or false")
        if name in LIST_FIELDS and not (isinstance(value, list) and all(isinstance(x, str) for x in value)):
            raise BankError(where, line, f"{card_id}: {name} must be a list of strings")
        if name == "terms" and not (isinstance(value, list) and all(
                isinstance(g, list) and g and all(isinstance(t, str | int | float) for t in g) for g in value)):
            raise BankError(where, line, f"{card_id}: terms must be a list of lists of words")
        if name == "bindings" and not _bindings_ok(value):
            raise BankError(where, line, f"{card_id}: bindings must be a list of {{about, says, wrong, other}}, each a "
                            "list of words (about, and wrong or other, not empty)")
        if name == "source" and value not in SOURCES:
            raise BankError(where, line, f"{card_id}: source must be one of {', '.join(SOURCES)}")
        fields[name] = value
    if not fields.get("keyword", "").strip():
        raise BankError(where, _line(node), f"{card_id}: an entry needs a keyword")
    if "terms" in fields:
        fields["terms"] = [[str(t) for t in group] for group in fields["terms"]]
    return Entry(fields, where, _line(node))


def _bindings_ok(value: Any) -> bool:
    def words(x: Any) -> bool:
        return isinstance(x, list) and all(isinstance(w, str) and w.strip() for w in x)

    return isinstance(value, list) and all(
        isinstance(b, dict) and set(b) <= set(BINDING_FIELDS) and b.get("about") and (b.get("wrong") or b.get("other"))
        and all(words(b[k]) for k in b) for b in value)


def dump_curation(cards: list[dict]) -> str:
    """YAML for a draft: `[{"card_id", "title", "topic", "keypoints": [entry, ...]}]`, each card headed
    by its question as a comment so a reviewer reads the file without the bank beside it."""
    chunks = ["# Curation draft written by `interviewer curate`. Review each entry, edit freely, and delete",
              "# `source:` once you have checked it. Reviewed `terms` are concept groups that must all appear",
              "# in a sentence; unreviewed ones are words the grader weighs.", ""]
    for card in cards:
        body = {card["card_id"]: {"topic": card["topic"], "keypoints": card["keypoints"]}}
        chunks.append(f"# {card['title']}")
        chunks.append(yaml.safe_dump(body, allow_unicode=True, sort_keys=False, width=100).rstrip())
        chunks.append("")
    return "\n".join(chunks)
