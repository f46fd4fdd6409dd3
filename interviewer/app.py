"""The Gradio app: a thin shell over the interview engine.

Each browser tab or `gradio_client.Client` holds only its session id in a `gr.State`; the interview
itself lives in `LiveSessions` and, durably, in the history store, so a restarted server resumes any
unfinished session. Three named endpoints (`/start`, `/answer`, `/finish`) make the app scriptable.
"""

from __future__ import annotations

import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable

from interviewer.errors import UserError
from interviewer.interview import MAX_ANSWER_CHARS, NO_INTERVIEW, Deps, Interview, Options, Reply, question_api
from interviewer.runtime import Runtime

CONCURRENCY = 8  # events handled at once; grading is short, so a few workers serve many candidates
MAX_QUESTIONS = 20
LIVE_CAPACITY = 512  # interviews kept in memory; older ones are resumed from SQLite when needed
MODE_CHOICES = [("즉시 피드백 (답변마다)", "immediate"), ("실전 모드 (피드백은 마지막에)", "end")]


class LiveSessions:
    """Interviews in memory by session id, bounded; a miss is resumed from the history store."""

    def __init__(self, deps: Callable[[], Deps], capacity: int = LIVE_CAPACITY):
        self._deps = deps
        self._capacity = capacity
        self._items: OrderedDict[str, Interview] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, interview: Interview) -> None:
        with self._lock:
            self._items[interview.session.id] = interview
            self._items.move_to_end(interview.session.id)
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)

    def get(self, session_id: str) -> Interview:
        # Resuming under the lock: two events for one evicted session must share one Interview.
        with self._lock:
            interview = self._items.get(session_id)
            if interview is None:
                interview = self._items[session_id] = Interview.resume(self._deps(), session_id)
                while len(self._items) > self._capacity:
                    self._items.popitem(last=False)
            self._items.move_to_end(session_id)
            return interview


class Coach:
    """The app's domain side: start, act on, and finish interviews by session id."""

    def __init__(self, rt: Runtime):
        self.rt = rt
        self._deps: Deps | None = None
        self._deps_lock = threading.Lock()
        self.live = LiveSessions(self.deps)

    def deps(self) -> Deps:
        with self._deps_lock:
            if self._deps is None:
                self._deps = Deps.from_runtime(self.rt)
            return self._deps

    def warm_up(self) -> None:
        """Load the grader's models before the first candidate answers, not during their answer."""
        try:
            deps = self.deps()
            card = next((c for c in deps.bank.cards if c.gradable), None)
            if card is not None:
                deps.grader.grade(card, card.answer or card.title)
        except UserError as exc:  # e.g. no index yet: the first answer will say so to the user
            print(f"interviewer: warning: {exc}", file=sys.stderr)

    def start(self, n_questions: int, topics: str | list[str], seed: int | None,
              feedback_mode: str = "immediate", client: str = "app") -> Reply:
        n = int(n_questions) if n_questions is not None else 3
        if not 1 <= n <= MAX_QUESTIONS:
            raise UserError(f"질문 수는 1에서 {MAX_QUESTIONS} 사이로 골라 주세요.")
        options = Options(n_questions=n, topics=topics, seed=None if seed is None else int(seed),
                          feedback_mode=feedback_mode, client=client)
        interview, reply = Interview.start(self.deps(), options)
        self.live.add(interview)
        return reply

    def act(self, session_id: str | None, event: str, text: str = "") -> Reply:
        if not session_id:
            return Reply(None, NO_INTERVIEW)
        interview = self.live.get(session_id)
        with interview.lock:
            if event == "answer":
                return interview.answer(text)
            return getattr(interview, event)()

    def resume(self, session_id: str, client: str = "app") -> tuple[Interview, Reply]:
        if self.rt.history.session(session_id).client != client and client != "app":
            raise UserError("다른 사용자의 면접은 이어할 수 없습니다.")
        interview = self.live.get(session_id)
        with interview.lock:
            return interview, interview.resume_reply()

    def unfinished(self, client: str = "app") -> list[tuple[str, str]]:
        """Unfinished sessions to resume: with a login only the user's own, else all on this machine."""
        sessions = self.rt.history.sessions(status="running", limit=100)
        if client != "app":
            sessions = [s for s in sessions if s.client == client]
        return [(f"{s.id} · {len(s.plan)}문항 · {s.updated_at[:16].replace('T', ' ')} UTC", s.id)
                for s in sessions[:30]]


def client_of(request) -> str:
    """Who is asking: `app:<login>` behind --auth, plain `app` on an open (local) server."""
    username = getattr(request, "username", None) if request is not None else None
    return f"app:{username}" if username else "app"


# --- UI callbacks: Korean messages in the chat, never a traceback ---------------------------------

def _say(chat: list, reply_text: str, user_text: str | None = None) -> list:
    chat = list(chat or [])
    if user_text is not None:
        chat.append({"role": "user", "content": user_text})
    chat.append({"role": "assistant", "content": reply_text})
    return chat


def _shown(text: str) -> str | None:
    """The candidate's answer as the chat shows it: nothing for an empty one, long pastes cut."""
    text = (text or "").strip()
    if not text:
        return None
    return text if len(text) <= MAX_ANSWER_CHARS else text[:MAX_ANSWER_CHARS] + " …"


def _warn(exc: UserError) -> str:
    return f"⚠️ {exc}"


def build_app(rt: Runtime, coach: Coach | None = None):
    import gradio as gr

    coach = coach or Coach(rt)
    bank = rt.bank
    topic_choices = [(f"{rt.bank.topic_label(t)} ({t})", t) for t in _topics_in_use(bank)]

    with gr.Blocks(title="딥러닝 모의 면접", analytics_enabled=False) as demo:
        session = gr.State(None)
        gr.Markdown("# 딥러닝 모의 면접\n주제와 질문 수를 고르고 **면접 시작**을 누르세요. "
                    "답변은 한국어, 영어, 섞어서 모두 괜찮습니다.")
        gr.Markdown(f"**LLM 모드:** {rt.voice.stats.label}", elem_id="llm-mode")
        with gr.Row():
            topics = gr.Dropdown(topic_choices, multiselect=True, label="주제 (비우면 전체)", scale=3)
            n_questions = gr.Slider(1, 10, value=3, step=1, label="질문 수", scale=2)
            mode = gr.Radio(MODE_CHOICES, value="immediate", label="피드백 방식", scale=2)
        with gr.Row():
            start_btn = gr.Button("면접 시작", variant="primary", elem_id="start-btn")
            resume_pick = gr.Dropdown([], label="이어할 면접 (미완료)", scale=3, elem_id="resume-pick")
            resume_btn = gr.Button("이어하기", elem_id="resume-btn")
            refresh_btn = gr.Button("목록 새로고침")
        chatbot = gr.Chatbot(label="면접", height=520, elem_id="chat")
        answer = gr.Textbox(label="답변", placeholder="답변을 입력하고 Enter (줄바꿈은 Shift+Enter)",
                            lines=3, elem_id="answer-box")
        with gr.Row():
            send_btn = gr.Button("보내기", variant="primary", elem_id="send-btn")
            hint_btn = gr.Button("힌트", elem_id="hint-btn")
            skip_btn = gr.Button("건너뛰기", elem_id="skip-btn")
            dont_know_btn = gr.Button("모르겠습니다", elem_id="dont-know-btn")
            finish_btn = gr.Button("종료", variant="stop", elem_id="finish-btn")

        def on_start(topic_list, n, feedback_mode, chat, request: gr.Request):
            try:
                reply = coach.start(n, topic_list or [], None, feedback_mode or "immediate",
                                    client=client_of(request))
            except UserError as exc:
                return _say(chat, _warn(exc)), None
            return [{"role": "assistant", "content": reply.message}], reply.session_id

        def run(event: str, sid, chat, text: str, shown: str | None):
            keep = text if event == "hint" else ""  # a hint must not wipe a half-written answer
            try:
                reply = coach.act(sid, event, text if event == "answer" else "")
            except UserError as exc:
                return _say(chat, _warn(exc), shown), sid, text
            return _say(chat, reply.message, shown), sid, keep

        def on_resume(pick, chat, request: gr.Request):
            if not pick:
                return _say(chat, "이어할 면접을 먼저 고르세요."), None
            try:
                interview, reply = coach.resume(pick, client_of(request))
            except UserError as exc:
                return _say(chat, _warn(exc)), None
            return interview.messages() + [{"role": "assistant", "content": reply.message}], pick

        def on_refresh(request: gr.Request):
            return gr.Dropdown(choices=coach.unfinished(client_of(request)), value=None)

        start_btn.click(on_start, [topics, n_questions, mode, chatbot], [chatbot, session],
                        api_visibility="private")
        for trigger in (send_btn.click, answer.submit):
            trigger(lambda sid, chat, text: run("answer", sid, chat, text, _shown(text)),
                    [session, chatbot, answer], [chatbot, session, answer], api_visibility="private")
        for button, event, label in ((hint_btn, "hint", "💡 힌트"), (skip_btn, "skip", "⏭ 건너뛰기"),
                                     (dont_know_btn, "dont_know", "모르겠습니다"),
                                     (finish_btn, "finish", "⏹ 종료")):
            button.click(lambda sid, chat, text, e=event, shown=label: run(e, sid, chat, text, shown),
                         [session, chatbot, answer], [chatbot, session, answer], api_visibility="private")
        resume_btn.click(on_resume, [resume_pick, chatbot], [chatbot, session], api_visibility="private")
        refresh_btn.click(on_refresh, None, resume_pick, api_visibility="private")
        demo.load(on_refresh, None, resume_pick, api_visibility="private")
        _api_endpoints(gr, coach, session)
    return demo.queue(default_concurrency_limit=CONCURRENCY)


def _api_endpoints(gr, coach: Coach, session) -> None:
    """`/start`, `/answer`, `/finish` for gradio_client; state is per Client, like a browser tab."""
    with gr.Group(visible=False):
        n_in = gr.Number(value=3, precision=0, label="n_questions")
        topics_in = gr.Textbox(label="topics")
        seed_in = gr.Number(value=0, precision=0, label="seed")
        text_in = gr.Textbox(label="text")
        out = gr.JSON(label="result")
        start, answer, finish = gr.Button(), gr.Button(), gr.Button()

    def api_start(n_questions, topics, seed, _sid, request: gr.Request):
        try:
            reply = coach.start(n_questions, topics or "", seed, client=client_of(request))
        except UserError as exc:
            raise gr.Error(str(exc)) from None
        q = question_api(reply.question)
        return {"session_id": reply.session_id, "card_id": q["card_id"], "question": q["question"],
                "message": reply.message}, reply.session_id

    def api_answer(text, sid):
        try:
            return coach.act(sid, "answer", text or "").api(), sid
        except UserError as exc:
            raise gr.Error(str(exc)) from None

    def api_finish(sid):
        if not sid:
            return {"session_id": None, "report_markdown": NO_INTERVIEW, "report_json": None}, sid
        try:
            coach.act(sid, "finish")
            markdown, data = coach.live.get(sid).report()
        except UserError as exc:
            raise gr.Error(str(exc)) from None
        return {"session_id": sid, "report_markdown": markdown, "report_json": data}, sid

    start.click(api_start, [n_in, topics_in, seed_in, session], [out, session], api_name="start")
    answer.click(api_answer, [text_in, session], [out, session], api_name="answer")
    finish.click(api_finish, [session], [out, session], api_name="finish")


def _topics_in_use(bank) -> list[str]:
    used = {c.topic for c in bank.cards if c.gradable and c.kind != "practice"}
    return [t for t in dict.fromkeys([*bank.topics, *(c.topic for c in bank.cards)]) if t in used]


def serve(rt: Runtime, host: str = "127.0.0.1", port: int = 7860,
          auth: tuple[str, str] | None = None) -> None:
    # The embedding engine's OpenMP threads spin while waiting; beside Gradio's worker threads and
    # Kiwi on 2 cores that made one grading take up to 1.7 s instead of ~40 ms (p95 0.47 s → 0.05 s
    # measured with PASSIVE). Read when the engine loads, which happens after this line.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    coach = Coach(rt)
    app = build_app(rt, coach)
    threading.Thread(target=coach.warm_up, name="warm-up", daemon=True).start()
    app.launch(server_name=host, server_port=port, auth=auth, show_error=True,
               footer_links=["api"], quiet=False)
