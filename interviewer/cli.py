"""Command-line shell: parse arguments, call the domain, print. No domain logic lives here."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from interviewer import __version__
from interviewer.errors import UserError
from interviewer.runtime import Runtime
from interviewer.settings import Settings

Command = Callable[[argparse.Namespace, Runtime], int]
COMMANDS: dict[str, Command] = {}


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line on stderr and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def command(name: str) -> Callable[[Command], Command]:
    def register(fn: Command) -> Command:
        COMMANDS[name] = fn
        return fn
    return register


def print_json(data) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


@command("cards")
def cmd_cards(args: argparse.Namespace, rt: Runtime) -> int:
    cards = [card.summary() for card in rt.bank.cards]
    if args.json:
        print_json(cards)
        return 0
    for card in cards:
        marker = "" if card["gradable"] else "  (채점 불가)"
        indent = "  " if card["parent_id"] else ""
        print(f"{indent}{card['id']}  [{card['topic']}]  {card['title']}{marker}")
    return 0


@command("ingest")
def cmd_ingest(args: argparse.Namespace, rt: Runtime) -> int:
    result = rt.store.ingest(rt.bank, rt.glossary, rebuild=args.rebuild)
    print(result.summary())
    return 0


@command("search")
def cmd_search(args: argparse.Namespace, rt: Runtime) -> int:
    if not args.query.strip():
        raise UserError("search needs a non-empty query")
    hits = rt.store.search(args.query, limit=args.limit)
    if args.json:
        print_json([hit.__dict__ for hit in hits])
        return 0
    for hit in hits:
        print(f"{hit.similarity:.3f}  {hit.card_id}  {hit.title}")
    return 0


@command("serve")
def cmd_serve(args: argparse.Namespace, rt: Runtime) -> int:
    from interviewer.app import serve

    serve(rt, host=args.host, port=args.port)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="interviewer", description="딥러닝 면접 모의 코치 (mock-interview coach)")
    parser.add_argument("--version", action="version", version=f"interviewer {__version__}")
    parser.add_argument("--bank", action="append", type=Path, default=[], metavar="PATH",
                        help="load a markdown question bank (repeatable), beside the bundled one")
    parser.add_argument("--no-bundled", action="store_true",
                        help="with --bank: use only the given banks, not the bundled one")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    p = sub.add_parser("cards", help="list the cards of the bank")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("ingest", help="index the bank into Chroma (idempotent)")
    p.add_argument("--rebuild", action="store_true", help="drop the index and embed everything again")

    p = sub.add_parser("search", help="semantic search over the questions")
    p.add_argument("query")
    p.add_argument("--limit", type=int, default=5)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("serve", help="start the Gradio app")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    settings = Settings.from_env()
    if args.bank:
        settings = settings.with_(extra_banks=tuple(args.bank), include_bundled=not args.no_bundled)
    return settings


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        runtime = Runtime(settings_from_args(args))
        return COMMANDS[args.command](args, runtime)
    except UserError as exc:
        print(f"interviewer: error: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print("interviewer: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
