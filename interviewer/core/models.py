"""Plain data models shared by every module, and the one place they become JSON.

Cards and key points come from the bank; grades from the grader. Everything that leaves the
process (CLI JSON, SQLite rows, reports, the app API) goes through `to_json` / `from_json`.
"""

from __future__ import annotations

import json
from typing import Literal, TypeVar

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from interviewer.core.verdicts import Method, Verdict

CardKind = Literal["main", "follow_up", "practice"]
# Where a key point's model comes from: reviewed curation, the bank alone, or a draft an LLM helped
# write (`interviewer curate --llm`) that nobody has reviewed yet.
KeyPointSource = Literal["curated", "automatic", "llm"]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Binding(Model):
    """A claim tied to what it is about: said of `about`, one of `says` is right, one of `wrong` is the
    swapped or false version ("Xavier … ReLU용" where Xavier goes with sigmoid/tanh), one of `other`
    another idea altogether (momentum described as RMSprop's squared-gradient average)."""

    about: list[str]
    says: list[str] = Field(default_factory=list)
    wrong: list[str] = Field(default_factory=list)
    other: list[str] = Field(default_factory=list)


class KeyPoint(Model):
    """One thing a good answer should say: a seed keyword, or one a curation file adds (`added`; the
    file marks it `curated: true`). Whether it was reviewed is `source`, another thing."""

    keyword: str
    added: bool = False
    label: str = ""  # how people read it (curation's `label`); the keyword cleaned when empty
    category: str = ""
    explanation: str = ""
    terms: list[list[str]] = Field(default_factory=list)
    claims: list[str] = Field(default_factory=list)
    contradictions: list[str] = Field(default_factory=list)
    bindings: list[Binding] = Field(default_factory=list)
    # The keyword names the idea itself (an optimizer, an init scheme), so naming it covers it.
    named: bool = False
    source: KeyPointSource = "curated"
    # False when the keyword's words appear nowhere in the card's answer or notes (automatic only).
    anchored: bool = True

    @property
    def learned(self) -> bool:
        """Modelled from the bank (or drafted) rather than reviewed: its terms are words to weigh,
        not concept groups that must all appear."""
        return self.source != "curated"


class Card(Model):
    id: str
    title: str
    parent_id: str | None = None
    kind: CardKind = "main"
    topic: str = "basics"
    keywords: list[str] = Field(default_factory=list)
    answer: str = ""
    notes: list[str] = Field(default_factory=list)
    references: list[str] = Field(default_factory=list)
    retracted: list[str] = Field(default_factory=list)
    keypoints: list[KeyPoint] = Field(default_factory=list)
    source: str = ""

    @property
    def gradable(self) -> bool:
        return bool(self.keypoints)

    def summary(self) -> dict:
        """The `cards --json` contract: seed keywords verbatim, then curated key points."""
        extra = [kp.keyword for kp in self.keypoints if kp.added]
        return {
            "id": self.id,
            "title": self.title,
            "parent_id": self.parent_id,
            "keywords": self.keywords + extra,
            "gradable": self.gradable,
            "keypoints": [{"keyword": kp.keyword, "source": kp.source} for kp in self.keypoints],
            "kind": self.kind,
            "topic": self.topic,
        }


class KeyPointResult(Model):
    keyword: str
    verdict: Verdict
    evidence: str | None = None
    similarity: float | None = None
    method: Method = Method.NONE
    # An added key point's result. Its JSON key stays `curated` (`grade --json`, stored grades).
    added: bool = Field(default=False, validation_alias=AliasChoices("added", "curated"), serialization_alias="curated")
    # Set when an LLM judge's verdict replaced the grader's (method `llm`): the grader's own verdict.
    deterministic_verdict: Verdict | None = None


class Grade(Model):
    card_id: str
    score: int
    grade: int
    keypoints: list[KeyPointResult]
    llm_used: bool = False
    notices: list[str] = Field(default_factory=list)


M = TypeVar("M", bound=BaseModel)


def to_json(obj: BaseModel | list[BaseModel], **kwargs) -> str:
    if isinstance(obj, list):
        return json.dumps([o.model_dump(mode="json", by_alias=True) for o in obj], ensure_ascii=False, **kwargs)
    return json.dumps(obj.model_dump(mode="json", by_alias=True), ensure_ascii=False, **kwargs)


def from_json(cls: type[M], text: str) -> M:
    return cls.model_validate_json(text)
