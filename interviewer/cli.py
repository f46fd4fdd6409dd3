"""Command-line shell: parse arguments, call the domain, print. No domain logic lives here."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from interviewer import __version__
from interviewer.errors import UserError
from interviewer.models import to_json
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

    serve(rt, host=args.host, port=args.port, auth=parse_auth(args.auth))
    return 0


def parse_auth(value: str | None) -> tuple[str, str] | None:
    if value is None:
        return None
    user, _, password = value.partition(":")
    if not user or not password:
        raise UserError("--auth needs USER:PASSWORD, both non-empty")
    return user, password


CHAT_COMMANDS = {"/hint": "hint", "/힌트": "hint", "/skip": "skip", "/건너뛰기": "skip",
                 "/모르겠습니다": "dont_know", "/dontknow": "dont_know", "/quit": "finish",
                 "/종료": "finish", "/finish": "finish"}
CHAT_HELP = "명령: /hint(/힌트) /skip(/건너뛰기) /모르겠습니다 /quit(/종료) — 그 밖의 입력은 답변입니다."


@command("chat")
def cmd_chat(args: argparse.Namespace, rt: Runtime) -> int:
    """The interview in the terminal; with piped input, one answer (or /command) per line."""
    from interviewer.interview import Deps, Interview, Options

    deps = Deps.from_runtime(rt)
    if args.resume:
        interview = Interview.resume(deps, args.resume)
        print(interview.resume_reply().message if not interview.finished else interview.report()[0])
    else:
        options = Options(n_questions=args.questions, topics=args.topics or "", seed=args.seed,
                          feedback_mode=args.feedback, client="chat")
        interview, reply = Interview.start(deps, options)
        print(reply.message)
    interactive = sys.stdin.isatty()
    if interactive:
        print(CHAT_HELP)
    try:
        while not interview.finished:
            line = _read_answer(interactive)
            if line is None:
                print(f"\n입력이 끝났습니다. 면접은 저장되어 있으니 "
                      f"`interviewer chat --resume {interview.session.id}`로 이어서 할 수 있습니다.")
                break
            event = CHAT_COMMANDS.get(line.strip().lower())
            if line.strip() == "/help":
                print(CHAT_HELP)
                continue
            reply = getattr(interview, event)() if event else interview.answer(line)
            print(f"\n{reply.message}\n", flush=True)
    finally:
        print(f"session: {interview.session.id}", flush=True)
    return 0


def _read_answer(interactive: bool) -> str | None:
    """One answer: a line of input, or None at the end of input."""
    if not interactive:
        line = sys.stdin.readline()
        return line.rstrip("\r\n") if line else None
    try:
        return input("답변> ")
    except EOFError:
        return None


@command("sandbox")
def cmd_sandbox(args: argparse.Namespace, rt: Runtime) -> int:
    """Run a numpy program (stdin, a file, or a curated demo) in the sandbox."""
    from interviewer.sandbox import run_program

    result = run_program(_sandbox_code(args, rt))
    if args.json:
        print_json(result.to_dict())
        return 0 if result.ok else 1
    if result.stdout:
        print(result.stdout, end="" if result.stdout.endswith("\n") else "\n")
    if result.result is not None:
        print(result.result)
    if result.figures:
        print(f"[그림 {len(result.figures)}개 — --json으로 받으면 PNG(base64)가 들어 있습니다]")
    if result.error:
        print(f"오류: {result.error}", file=sys.stderr)
    for note in result.notes:
        print(f"참고: {note}", file=sys.stderr)
    return 0 if result.ok else 1


def _sandbox_code(args: argparse.Namespace, rt: Runtime) -> str:
    if args.demo:
        return rt.demos.get(args.demo).code
    if args.file and args.file != "-":
        try:
            return Path(args.file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"cannot read {args.file}: {exc}") from None
    code = sys.stdin.read()
    if not code.strip():
        raise UserError("sandbox needs a program on stdin (or a FILE, or --demo ID)")
    return code


@command("grade")
def cmd_grade(args: argparse.Namespace, rt: Runtime) -> int:
    """Grade one answer, or a JSONL batch in one process (one result line per input line)."""
    if args.batch is not None:
        return _grade_batch(args.batch, rt, as_json=args.json)
    if args.card is None or args.answer is None:
        raise UserError("grade needs --card ID --answer TEXT (or --answer - for stdin), or --batch FILE")
    answer = sys.stdin.read() if args.answer == "-" else args.answer
    grade = rt.grader.grade(rt.bank.get(args.card), answer)
    print(to_json(grade, indent=2) if args.json else format_grade(grade))
    return 0


def _grade_batch(path: Path, rt: Runtime, as_json: bool) -> int:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    failures = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict) or not isinstance(item.get("answer"), str):
                raise UserError('expected {"card_id": ..., "answer": "..."}')
            grade = rt.grader.grade(rt.bank.get(str(item.get("card_id"))), item["answer"])
        except (ValueError, UserError) as exc:
            failures += 1
            message = f"{path}:{number}: {exc}"
            print(f"interviewer: error: {message}", file=sys.stderr)
            print(json.dumps({"line": number, "error": message}, ensure_ascii=False), flush=True)
            continue
        print(to_json(grade) if as_json else format_grade(grade), flush=True)
    return 2 if failures else 0


def format_grade(grade) -> str:
    marks = {"covered": "✓", "partial": "△", "missing": "✗", "contradicted": "✗!"}
    lines = [f"{grade.card_id}: {grade.score}점 (등급 {grade.grade}/4)"]
    for kp in grade.keypoints:
        evidence = f" — “{kp.evidence}”" if kp.evidence else ""
        extra = " (보충)" if kp.curated else ""
        lines.append(f"  {marks[kp.verdict]} {kp.keyword}{extra}: {kp.verdict}{evidence}")
    lines += [f"  ※ {notice}" for notice in grade.notices]
    return "\n".join(lines)


@command("eval")
def cmd_eval(args: argparse.Namespace, rt: Runtime) -> int:
    from interviewer.evaluation import Outcome, evaluate, format_report, read_examples

    outcomes = [Outcome(ex, rt.grader.grade(rt.bank.get(ex.card_id), ex.answer))
                for ex in read_examples(args.file)]
    report = evaluate(outcomes, worst=args.worst)
    if args.json:
        print_json(report.as_dict())
    else:
        print(format_report(report))
    return 0


@command("doctor")
def cmd_doctor(args: argparse.Namespace, rt: Runtime) -> int:
    """Each part checked for real; exit status 1 when a configured part does not work."""
    from interviewer.doctor import run_checks

    checks = run_checks(rt)
    if args.json:
        print_json([check.as_dict() for check in checks])
    else:
        for check in checks:
            print(check.line())
    return 0 if all(check.ok for check in checks) else 1


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

    p = sub.add_parser("grade", help="grade an answer against a card's key points")
    p.add_argument("--card", metavar="ID")
    p.add_argument("--answer", metavar="TEXT", help="the answer, or - to read it from stdin")
    p.add_argument("--batch", type=Path, metavar="FILE.jsonl", help='lines of {"card_id", "answer"}')
    p.add_argument("--json", action="store_true")
    add_llm_flags(p)

    p = sub.add_parser("eval", help="grader accuracy on a labelled JSONL file")
    p.add_argument("file", type=Path)
    p.add_argument("--worst", type=int, default=10, help="how many misses to list")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("serve", help="start the Gradio app")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    add_llm_flags(p)
    p.add_argument("--auth", metavar="USER:PASSWORD", help="require this login")

    p = sub.add_parser("chat", help="the interview in the terminal (piped input: one answer per line)")
    p.add_argument("--questions", type=int, default=3, metavar="N", help="main questions (default 3)")
    p.add_argument("--seed", type=int, help="fix the random choices")
    p.add_argument("--topics", default="", help="comma-separated topic tags or card ids (default: all)")
    p.add_argument("--feedback", choices=["immediate", "end"], default="immediate",
                   help="feedback after each answer, or all at the end (실전 모드)")
    p.add_argument("--resume", metavar="SESSION_ID", help="continue an unfinished interview")
    add_llm_flags(p)

    p = sub.add_parser("sandbox", help="run a numpy program in the sandbox (code on stdin)")
    p.add_argument("file", nargs="?", help="program file (default: stdin)")
    p.add_argument("--demo", metavar="ID", help="run a curated demo from knowledge/demos/")
    p.add_argument("--json", action="store_true",
                   help='print {"ok","stdout","result","error","timed_out","figures",...}')

    p = sub.add_parser("doctor", help="show what is configured and reachable (bank, index, embeddings, LLM, sandbox)")
    p.add_argument("--json", action="store_true")
    add_llm_flags(p)
    return parser


def add_llm_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--llm", choices=["none", "openai", "local"], help="LLM backend (default: from the environment)")
    p.add_argument("--base-url", help="OpenAI-compatible server URL (for --llm local)")
    p.add_argument("--model", help="LLM model name")
    p.add_argument("--llm-judge", action="store_const", const=True, default=None,
                   help="ask the LLM for a second opinion on key points the grader is unsure about")


def settings_from_args(args: argparse.Namespace) -> Settings:
    settings = Settings.from_env()
    settings = settings.with_(llm=getattr(args, "llm", None), llm_base_url=getattr(args, "base_url", None),
                              llm_model=getattr(args, "model", None),
                              llm_judge=getattr(args, "llm_judge", None))
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
