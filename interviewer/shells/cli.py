"""Command-line shell: parse arguments, call the domain, print. No domain logic lives here."""

from __future__ import annotations

import argparse
import functools
import json
import shutil
import sys
import unicodedata
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, NoReturn

from interviewer import __version__
from interviewer.core.errors import UserError
from interviewer.core.models import Grade, to_json
from interviewer.core.verdicts import VERDICT_MARKS
from interviewer.interview.events import Event
from interviewer.interview.planning import (
    DEFAULT_MAX_FOLLOW_UPS,
    DEFAULT_QUESTIONS,
    FEEDBACK_MODES,
    MAX_QUESTIONS,
)
from interviewer.interview.steps import Step
from interviewer.llm.calls import drafting
from interviewer.llm.config import BACKENDS
from interviewer.reports.report import FORMATS
from interviewer.runtime import Runtime
from interviewer.settings import Settings

Command = Callable[[argparse.Namespace, Runtime], int]
COMMANDS: dict[str, Command] = {}


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def command(name: str) -> Callable[[Command], Command]:
    def register(fn: Command) -> Command:
        COMMANDS[name] = fn
        return fn
    return register


def print_json(data: object) -> None:
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
    print(rt.build_index(rebuild=args.rebuild).summary())
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
    from interviewer.shells.app import serve

    serve(rt, host=args.host, port=args.port, auth=parse_auth(args.auth))
    return 0


def parse_auth(value: str | None) -> tuple[str, str] | None:
    if value is None:
        return None
    user, _, password = value.partition(":")
    if not user or not password:
        raise UserError("--auth needs USER:PASSWORD, both non-empty")
    return user, password


CHAT_CLIENT = "chat"  # the terminal's sessions belong to the local user
ANSWER_PROMPT = "답변> "
PIPED_WIDTH = 10_000  # columns of piped output: wide enough that no line is wrapped
RULE_WIDTH = 40  # the divider between what an answer got and the next question
CHAT_HELP = ("명령: /hint(/힌트) /skip(/건너뛰기) /모르겠습니다 /quit(/종료) /demo(/예시: 방금 채점한 질문의 예시 실행) "
             "/numpy 코드(한 줄, 문장은 ;로 구분) — 그 밖의 입력은 답변입니다.")


class DraftLine:
    """The LLM's reply while it streams, on one terminal line; the final message replaces it."""

    def __init__(self, out: IO[str]):
        self.out = out

    def __call__(self, draft: str) -> None:
        tail = tail_within(" ".join(draft.split()), shutil.get_terminal_size().columns - 3)
        if draft and not tail:
            return  # only white space so far: nothing to show, and nothing to erase yet
        self.out.write("\r\x1b[2K" + (f"… {tail}" if tail else ""))
        self.out.flush()


def tail_within(text: str, columns: int) -> str:
    """The end of `text` that fits in `columns` terminal cells (Hangul takes two): one line, so
    the carriage return can erase it."""
    used = 0
    for start in range(len(text) - 1, -1, -1):
        used += 2 if unicodedata.east_asian_width(text[start]) in "WF" else 1
        if used > columns:
            return text[start + 1:]
    return text


def terminal_drafts(run: Command) -> Command:
    """On a terminal, show LLM replies as they stream; piped output stays a clean transcript."""
    @functools.wraps(run)
    def with_drafts(args: argparse.Namespace, rt: Runtime) -> int:
        if not sys.stdout.isatty():
            return run(args, rt)
        with drafting(DraftLine(sys.stdout)):
            return run(args, rt)
    return with_drafts


@command("chat")
@terminal_drafts
def cmd_chat(args: argparse.Namespace, rt: Runtime) -> int:
    """The interview in the terminal; with piped input, one answer (or /command) per line."""
    from interviewer.interview.planning import Options
    from interviewer.reports.report import to_markdown
    from interviewer.shells.presenter import say

    sessions = rt.sessions()
    show = markdown_printer()
    if args.resume:
        interview, step = sessions.resume(args.resume, CHAT_CLIENT)
        show(to_markdown(interview.report()) if interview.finished else say(step, "terminal"))
    else:
        options = Options(n_questions=args.questions, topics=args.topics or "", seed=args.seed,
                          feedback_mode=args.feedback, max_follow_ups=args.follow_ups,
                          review=not args.no_review, client=CHAT_CLIENT)
        interview, step = sessions.start(options)
        show(say(step, "terminal"))
    rt.build_index()  # before the first answer is graded: the grader only reads the index
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
            if not interactive:  # a piped answer is not on the screen yet: the transcript shows it
                print(f"{ANSWER_PROMPT}{line}")
            if line.strip() == "/help":
                print(CHAT_HELP)
                continue
            step = sessions.act(interview.session.id, Event.MESSAGE, line)
            print()
            show(say(step, "terminal"))
            print(saved_figures(step, rt), end="", flush=True)
    finally:
        print(f"session: {interview.session.id}", flush=True)
    return 0


def markdown_printer() -> Callable[[str], None]:
    """Print chat Markdown as a terminal shows it (bold, quotes, lists, code; `rich`). Piped output
    is plain text, its lines never wrapped, so a transcript reads like the screen."""
    from rich.console import Console, ConsoleOptions, RenderResult
    from rich.markdown import HorizontalRule
    from rich.markdown import Markdown as RichMarkdown
    from rich.text import Text

    class ShortRule(HorizontalRule):
        """A divider as wide as a short line, whatever the width (piped output has no width)."""

        def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
            yield Text("─" * min(options.max_width, RULE_WIDTH), style=console.get_style("markdown.hr", default="none"))
            yield Text()

    class Markdown(RichMarkdown):
        elements = {**RichMarkdown.elements, "hr": ShortRule}

    tty = sys.stdout.isatty()
    console = Console(file=sys.stdout, width=None if tty else PIPED_WIDTH, highlight=False)

    def show(text: str) -> None:
        if tty:
            console.print(Markdown(text, code_theme="ansi_dark"))
            return
        with console.capture() as captured:
            console.print(Markdown(text))
        print("\n".join(line.rstrip() for line in captured.get().splitlines()), flush=True)
    return show


def saved_figures(step: Step, rt: Runtime) -> str:
    """A terminal shows no images: a sandbox run's figures go to INTERVIEWER_HOME/figures/."""
    if step.run is None or not step.run.figures:
        return ""
    prefix = f"{step.session_id}-{datetime.now(UTC):%H%M%S%f}"
    paths = step.run.save_figures(rt.settings.home / "figures", prefix)
    return "".join(f"그림 저장: {path}\n" for path in paths)


def _read_answer(interactive: bool) -> str | None:
    """One answer: a line of input, or None at the end of input."""
    if not interactive:
        line = sys.stdin.readline()
        return line.rstrip("\r\n") if line else None
    try:
        return input(ANSWER_PROMPT)
    except EOFError:
        return None


@command("report")
def cmd_report(args: argparse.Namespace, rt: Runtime) -> int:
    """One session's keyword feedback report, as Markdown, HTML or JSON."""
    from interviewer.reports.report import load_report, render, write_report

    report = load_report(rt.history, rt.bank, args.session_id, rt.settings.zone)
    if args.out is None:
        sys.stdout.write(render(report, args.format))
        return 0
    write_report(report, args.format, args.out)
    print(f"보고서를 저장했습니다: {args.out}")
    return 0


@command("history")
def cmd_history(args: argparse.Namespace, rt: Runtime) -> int:
    """Past sessions with their scores, and the weakest key points of the local user."""
    from interviewer.history.progress import history_data
    from interviewer.shells.presenter import keyword_rows, session_rows

    if args.json:
        print_json(history_data(rt.history, learner=""))
        return 0
    past = rt.sessions().history(CHAT_CLIENT)
    for row in session_rows(past.sessions, rt.settings.zone):
        score = "-" if row.average_score is None else f"{row.average_score}점"
        print(f"{row.id}  {row.started}  {row.state}  질문 {row.questions}개  평균 {score}")
    if past.keywords:
        print("\n약한 키워드 (맞힌 횟수/출제 횟수, 다음 복습):")
    for k in keyword_rows(past.keywords, rt.settings.zone, rt.bank):
        print(f"  {k.keyword}  [{k.card_id}]  {k.record}  {k.due}")
    return 0


@command("review")
def cmd_review(args: argparse.Namespace, rt: Runtime) -> int:
    """The local user's key points by FSRS due date: what is due now, then what comes next."""
    from interviewer.core.records import now
    from interviewer.history.progress import review_items
    from interviewer.shells.presenter import review_rows

    items = review_items(rt.history, rt.bank, learner="")
    if args.json:
        print_json([asdict(item) for item in items])
        return 0
    if not items:
        print("아직 복습할 키워드가 없습니다. 면접을 한 번 보면 키워드마다 복습 일정이 생깁니다.")
        return 0
    print("언제  복습 예정            키워드  [질문 카드]  상태  안정도  난이도  마지막 판정")
    for r in review_rows(items, now(), rt.settings.zone, rt.bank):
        print(f"{r.when}  {r.due}  {r.keyword}  [{r.card_id}]  {r.state}  {r.stability}  {r.difficulty}  "
              f"{r.last_verdict}")
    return 0


@command("export")
def cmd_export(args: argparse.Namespace, rt: Runtime) -> int:
    """The missed or due key points of the local user as an Anki deck (or CSV)."""
    from interviewer.reports.export import flashcards, writable, write

    writable(args.out)
    cards = flashcards(rt.history, rt.bank, learner="", everything=args.all)
    if not cards:
        print("내보낼 키워드가 없습니다: 복습할 때가 되었거나 놓친 적이 있는 키워드가 아직 없습니다 "
              "(--all은 채점된 키워드 전부). 파일은 만들지 않았습니다.")
        return 0
    write(cards, args.out, args.format)
    print(f"키워드 {len(cards)}개를 내보냈습니다: {args.out}")
    return 0


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
    card = rt.bank.get(args.card)
    answer = sys.stdin.read() if args.answer == "-" else args.answer
    ready_to_grade(rt)
    grade = graded(rt, card.id, answer)
    print(to_json(grade, indent=2) if args.json else format_grade(grade))
    return 0


def ready_to_grade(rt: Runtime) -> None:
    """The grader as configured (a judge without an LLM fails here, before any work), over an index
    that is built or brought up to date first: the grader itself only reads it."""
    rt.grader  # noqa: B018 -- building it checks the configuration
    rt.build_index()


def graded(rt: Runtime, card_id: str, answer: str) -> Grade:
    """The grade; when an LLM judge's call failed (the grader's verdict stands), a note on stderr."""
    grade = rt.grader.grade(rt.bank.get(card_id), answer)
    for notice in rt.voice.stats.drain_notices():
        print(f"interviewer: note: {notice}", file=sys.stderr)
    return grade


def _grade_batch(path: Path, rt: Runtime, as_json: bool) -> int:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    ready_to_grade(rt)
    failures = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict) or not isinstance(item.get("answer"), str):
                raise UserError('expected {"card_id": ..., "answer": "..."}')
            grade = graded(rt, str(item.get("card_id")), item["answer"])
        except (ValueError, UserError) as exc:
            failures += 1
            message = f"{path}:{number}: {exc}"
            print(f"interviewer: error: {message}", file=sys.stderr)
            print(json.dumps({"line": number, "error": message}, ensure_ascii=False), flush=True)
            continue
        print(to_json(grade) if as_json else format_grade(grade), flush=True)
    return 2 if failures else 0


def format_grade(grade: Grade) -> str:
    lines = [f"{grade.card_id}: {grade.score}점 (등급 {grade.grade}/4)"]
    for kp in grade.keypoints:
        evidence = f" — “{kp.evidence}”" if kp.evidence else ""
        extra = " (보충)" if kp.added else ""
        lines.append(f"  {VERDICT_MARKS[kp.verdict]} {kp.keyword}{extra}: {kp.verdict}{evidence}")
    lines += [f"  ※ {notice}" for notice in grade.notices]
    return "\n".join(lines)


@command("eval")
def cmd_eval(args: argparse.Namespace, rt: Runtime) -> int:
    """Agreement with a labelled file; with --llm-judge, the same file without and with the judge."""
    from interviewer.grading.evaluation import (
        Outcome,
        compare_judge,
        evaluate,
        format_accuracy,
        format_comparison,
        read_examples,
    )

    examples = read_examples(args.file)
    ready_to_grade(rt)
    cards = [rt.bank.get(ex.card_id) for ex in examples]
    plain = [Outcome(ex, rt.deterministic_grader.grade(card, ex.answer)) for ex, card in zip(examples, cards, strict=True)]
    if not rt.settings.llm_judge:
        report = evaluate(plain, worst=args.worst)
        if args.json:
            print_json(report.as_dict())
        else:
            print(format_accuracy(report))
        return 0
    judge = rt.grader
    judged = [Outcome(ex, judge.grade(card, ex.answer)) for ex, card in zip(examples, cards, strict=True)]
    stats = rt.voice.stats
    comparison = compare_judge(plain, judged, stats.calls, stats.failures, worst=args.worst)
    if args.json:
        print_json(comparison.as_dict())
    else:
        print(format_comparison(comparison))
    return 0


@command("curate")
def cmd_curate(args: argparse.Namespace, rt: Runtime) -> int:
    """A reviewable curation draft of the loaded bank(s), or a check of a curation file."""
    from interviewer.bank.curation import dump_curation
    from interviewer.bank.drafts import DraftSummary, draft_cards

    if args.check is not None:
        return _check_curation(args.check, rt)
    if args.out is not None and args.out.exists():
        raise UserError(f"{args.out} exists: curate never overwrites a curation file; choose another --out")
    enrich = None
    if rt.settings.llm != "none":
        from interviewer.bank.drafts import LLMEnricher
        from interviewer.llm import LLMClient, LLMConfig, build_chat_model
        from interviewer.llm.calls import VoiceStats

        config = LLMConfig.from_settings(rt.settings)
        enrich = LLMEnricher(LLMClient(build_chat_model(config), VoiceStats(config.backend, config.model),
                                       timeout=config.timeout))
    own = {str(path) for path in rt.settings.extra_banks}
    cards = [c for c in rt.bank.cards if not own or c.source.rsplit(":", 1)[0] in own]
    summary = DraftSummary()
    text = dump_curation(draft_cards(rt.bank, cards, enrich, summary))
    if args.out is None:
        sys.stdout.write(text)
    else:
        try:
            args.out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UserError(f"cannot write {args.out}: {exc.strerror or exc}") from None
        print(f"초안을 저장했습니다: {args.out}")
    print(summary.line(), file=sys.stderr)
    return 0


def _check_curation(path: Path, rt: Runtime) -> int:
    """Load the bank with the file: every mistake is `file:line: reason` (exit 2)."""
    from interviewer.bank.cards import load_bank

    settings = rt.settings
    bank = load_bank(settings.knowledge, list(settings.extra_banks), include_bundled=settings.include_bundled,
                     curation_files=[*settings.curation_files, path], glossary=rt.glossary)
    learned = sum(kp.learned for card in bank.cards for kp in card.keypoints)
    total = sum(len(card.keypoints) for card in bank.cards)
    print(f"{path}: ok — 키워드 {total}개 중 검토된 것 {total - learned}개, 초안·자동 {learned}개")
    return 0


@command("doctor")
def cmd_doctor(args: argparse.Namespace, rt: Runtime) -> int:
    """Each part checked for real; exit status 1 when a configured part does not work."""
    from interviewer.shells.doctor import run_checks

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
    parser.add_argument("--curation", action="append", type=Path, default=[], metavar="FILE",
                        help="load a key-point curation file (repeatable); BANK.keypoints.yaml beside "
                             "a --bank BANK.md is loaded without it")
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
    add_llm_flags(p)

    p = sub.add_parser("serve", help="start the Gradio app")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    add_llm_flags(p)
    p.add_argument("--auth", metavar="USER:PASSWORD", help="require this login")

    p = sub.add_parser("chat", help="the interview in the terminal (piped input: one answer per line)")
    p.add_argument("--questions", type=int, default=DEFAULT_QUESTIONS, metavar="N",
                   help=f"main questions, 1 to {MAX_QUESTIONS} (default {DEFAULT_QUESTIONS})")
    p.add_argument("--seed", type=int, help="fix the random choices")
    p.add_argument("--topics", default="", help="comma-separated topic tags or card ids (default: all)")
    p.add_argument("--feedback", choices=FEEDBACK_MODES, default=FEEDBACK_MODES[0],
                   help="feedback after each answer, or all at the end (실전 모드)")
    p.add_argument("--resume", metavar="SESSION_ID", help="continue an unfinished interview")
    p.add_argument("--follow-ups", type=int, default=DEFAULT_MAX_FOLLOW_UPS, metavar="N",
                   help=f"follow-up questions per main question at most (default {DEFAULT_MAX_FOLLOW_UPS})")
    p.add_argument("--no-review", action="store_true",
                   help="do not start with the questions whose key points are due for review")
    add_llm_flags(p)

    p = sub.add_parser("report", help="a session's keyword feedback report")
    p.add_argument("session_id", metavar="SESSION_ID")
    p.add_argument("--format", choices=list(FORMATS), default="md")
    p.add_argument("--out", type=Path, metavar="PATH", help="write to this file instead of stdout")

    p = sub.add_parser("history", help="past sessions with scores, and the weakest key points")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("review", help="key points by FSRS due date: due now, then next")
    p.add_argument("--json", action="store_true",
                   help='print [{"card_id","keyword","title","due","stability","difficulty","state","last_verdict"}]')

    p = sub.add_parser("export", help="missed or due key points as an Anki deck (or CSV)")
    p.add_argument("target", choices=["anki"], metavar="anki", help="what to export to")
    p.add_argument("--out", type=Path, required=True, metavar="FILE.apkg", help="the file to write")
    p.add_argument("--all", action="store_true", help="every graded key point, not only the due or missed ones")
    p.add_argument("--format", choices=["apkg", "csv"], default="apkg", help="Anki package (default) or CSV")

    p = sub.add_parser("sandbox", help="run a numpy program in the sandbox (code on stdin)")
    p.add_argument("file", nargs="?", help="program file (default: stdin)")
    p.add_argument("--demo", metavar="ID", help="run a curated demo from knowledge/demos/")
    p.add_argument("--json", action="store_true",
                   help='print {"ok","stdout","result","error","timed_out","figures",...}')

    p = sub.add_parser("curate", help="write a reviewable key-point curation draft for the bank(s)")
    p.add_argument("--out", type=Path, metavar="FILE", help="write the draft here (default: stdout); never overwritten")
    p.add_argument("--check", type=Path, metavar="FILE", help="validate a curation file against its bank")
    add_llm_flags(p)

    p = sub.add_parser("doctor", help="show what is configured and reachable (bank, index, embeddings, LLM, sandbox)")
    p.add_argument("--json", action="store_true")
    add_llm_flags(p)
    return parser


def add_llm_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--llm", choices=BACKENDS,
                   help="LLM backend (default: INTERVIEWER_LLM, else openai with OPENAI_API_KEY, else none)")
    p.add_argument("--base-url", help="OpenAI-compatible server URL, e.g. http://127.0.0.1:11434/v1 "
                   "(alone it means --llm local; env OPENAI_BASE_URL)")
    p.add_argument("--model", help="LLM model name (env INTERVIEWER_LLM_MODEL)")
    p.add_argument("--llm-judge", action="store_const", const=True, default=None,
                   help="ask the LLM for a second opinion on key points the grader is unsure about")


def settings_from_args(args: argparse.Namespace) -> Settings:
    settings = Settings.from_env().with_llm(backend=getattr(args, "llm", None), base_url=getattr(args, "base_url", None),
                                            model=getattr(args, "model", None), judge=getattr(args, "llm_judge", None))
    if args.bank:
        settings = settings.with_(extra_banks=tuple(args.bank), include_bundled=not args.no_bundled)
    if args.curation:
        settings = settings.with_(curation_files=tuple(args.curation))
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
