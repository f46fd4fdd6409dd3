"""Korean/English text normalisation and the glossary of term aliases."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from interviewer.errors import BankError

# Cyrillic and Greek letters that look like Latin ones. The seed itself contains "Mасhine Leаrning"
# spelled with Cyrillic а/с, which would otherwise never match "machine learning".
_CONFUSABLES = str.maketrans({
    "а": "a", "с": "c", "е": "e", "о": "o", "р": "p", "х": "x", "у": "y", "і": "i", "ј": "j",
    "ѕ": "s", "һ": "h", "ԁ": "d", "ɡ": "g", "ո": "n", "ν": "v", "ο": "o", "α": "a",
    "А": "A", "В": "B", "С": "C", "Е": "E", "Н": "H", "І": "I", "К": "K", "М": "M", "О": "O",
    "Р": "P", "Т": "T", "Х": "X", "Ү": "Y",
})
_SQUASH = re.compile(r"[\s\-_·./]+")


def normalize(text: str) -> str:
    """NFKC, Latin look-alikes folded, lower-cased: the form every matcher compares."""
    return unicodedata.normalize("NFKC", text).translate(_CONFUSABLES).lower()


def squash(text: str) -> str:
    """Normalised and without spaces or hyphens, so `learning rate` == `learning-rate` == `learningrate`."""
    return _SQUASH.sub("", normalize(text))


@dataclass
class Glossary:
    """Groups of spellings that mean the same term; the first of each group is canonical."""

    groups: list[list[str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._group_of: dict[str, int] = {}
        for index, group in enumerate(self.groups):
            for term in group:
                self._group_of.setdefault(squash(term), index)

    @classmethod
    def load(cls, knowledge: Path) -> Glossary:
        path = knowledge / "glossary.yaml"
        if not path.exists():
            return cls()
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise BankError(str(path), 0, f"unreadable glossary: {exc}".splitlines()[0]) from None
        groups = data.get("groups") if isinstance(data, dict) else None
        if not isinstance(groups, list) or not all(isinstance(g, list) for g in groups):
            raise BankError(str(path), 1, "glossary must have `groups:`, a list of lists of terms")
        return cls([[str(term) for term in group] for group in groups])

    def group(self, term: str) -> list[str]:
        index = self._group_of.get(squash(term))
        return self.groups[index] if index is not None else []

    def canonical(self, term: str) -> str:
        group = self.group(term)
        return group[0] if group else term

    def aliases_in(self, phrase: str) -> list[str]:
        """Aliases of the phrase itself, or of each glossary term it contains."""
        whole = self.group(phrase)
        if whole:
            return [t for t in whole if squash(t) != squash(phrase)]
        found: list[str] = []
        squashed = squash(phrase)
        for key, index in self._group_of.items():
            if len(key) >= (4 if key.isascii() else 2) and key in squashed:
                found += [t for t in self.groups[index] if squash(t) != key and t not in found]
        return found
