"""Curated demo programs (knowledge/demos/), each linked to the cards it illustrates."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from interviewer.core.errors import UserError


@dataclass(frozen=True)
class Demo:
    id: str
    title: str
    cards: tuple[str, ...]
    code: str


class Demos:
    def __init__(self, demos: list[Demo]):
        self.all = demos
        self._by_id = {demo.id: demo for demo in demos}

    def get(self, demo_id: str) -> Demo:
        try:
            return self._by_id[demo_id]
        except KeyError:
            known = ", ".join(self._by_id) or "없음"
            raise UserError(f"unknown demo {demo_id!r} (known: {known})") from None

    def for_card(self, card_id: str) -> list[Demo]:
        """Demos of a card, those whose main card it is first."""
        linked = [demo for demo in self.all if card_id in demo.cards]
        return sorted(linked, key=lambda demo: demo.cards.index(card_id))


def load_demos(knowledge: Path) -> Demos:
    """Read knowledge/demos/index.yaml; a missing index means no demos, a broken one is a UserError."""
    index = Path(knowledge) / "demos" / "index.yaml"
    if not index.exists():
        return Demos([])
    try:
        entries = yaml.safe_load(index.read_text(encoding="utf-8"))["demos"]
        demos = [Demo(id=str(e["id"]), title=str(e["title"]), cards=tuple(e["cards"]),
                      code=(index.parent / e["file"]).read_text(encoding="utf-8")) for e in entries]
    except (OSError, KeyError, TypeError, yaml.YAMLError) as exc:
        raise UserError(f"{index}: broken demo index ({type(exc).__name__}: {exc})") from None
    return Demos(demos)


def demos_for(card_id: str, knowledge: Path | None = None) -> list[Demo]:
    """The demos of one card, from the bundled knowledge directory unless another is given."""
    from interviewer.settings import PACKAGE_ROOT

    return load_demos(knowledge or PACKAGE_ROOT / "knowledge").for_card(card_id)
