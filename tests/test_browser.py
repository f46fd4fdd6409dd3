"""End to end in headless Debian Chromium (Playwright driving the system browser; nothing downloaded)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from interviewer.interview.voice import FOLLOW_UP_OPENERS, PROBE_ANCHORS, PROBE_FRAMES, PROBES_PLAIN, frame_of
from tests.test_app import Server, launched

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is absent (apt-get install chromium)"),
]


ZONE = "Asia/Seoul"  # not the machine's UTC: the page must show Seoul time
# What a candidate types for each card of the topic 규제와 일반화, by the question's title.
GOOD = {
    "오버피팅일 경우": "augmentation으로 데이터 양을 늘리고, dropout을 쓰고, L2 같은 norm penalty로 weight가 커지지 않게 "
                  "regularization을 합니다.",
    "Regularization이란": "모델에 penalty를 줘서 train data에 대한 완벽한 fit을 포기하는 대신 test 성능을 높이는 방법입니다. "
                        "L1, L2 regularization이 대표적입니다.",
    "Dropout의 효과는": "드롭아웃은 학습 중에 노드를 무작위로 끄기 때문에 노드들이 서로 의존하지 않게 해서 co-adaptation을 "
                    "막습니다. 또한 여러 모델을 앙상블하는 효과가 있습니다.",
}
LITERAL = "sigmoid는 0~1, tanh는 -1~1 범위라서"  # Markdown would strike "~1, tanh는 -1~" through
PARTIAL = {
    "오버피팅일 경우": f"데이터 양을 늘리면 됩니다. {LITERAL} 출력도 중요합니다.",
    "Regularization이란": f"{LITERAL} 값이 작아지는 것 같습니다.",
    "Dropout의 효과는": f"노드들이 co-adaptation 되지 않게 막습니다. {LITERAL} 상관없습니다.",
}
# Records, from the first paint on, whether Gradio's English status text ever became visible.
WATCH_STATUS = """
window.__englishStatus = [];
new MutationObserver(() => {
  for (const el of document.querySelectorAll('.progress-text, .meta-text, .meta-text-center')) {
    if (/processing/i.test(el.textContent) && parseFloat(getComputedStyle(el).fontSize) > 0) {
      window.__englishStatus.push(el.textContent);
    }
  }
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


@pytest.fixture(scope="module")
def server(indexed_home: Path, tmp_path_factory: pytest.TempPathFactory):
    yield from launched(indexed_home, tmp_path_factory, "browser", env={"INTERVIEWER_TZ": ZONE})


@pytest.fixture
def page(tmp_path: Path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(CHROMIUM), headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1280, "height": 1400}, locale="ko-KR")
        context.add_init_script(WATCH_STATUS)
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


def test_a_whole_interview_reads_like_an_interviewer(server: Server, page):
    """Three questions of one topic: a hint and a good answer, a partial one, 모르겠습니다; then the
    report, 기록, numpy 실습 and the Anki deck — asserting what the candidate reads at each step."""
    page.goto(server.url)
    page.get_by_text("LLM 모드").wait_for()
    box = page.locator("#answer-box textarea")
    placeholder = box.get_attribute("placeholder") or ""
    assert "Shift+Enter" in placeholder and "Enter는 줄바꿈" in placeholder
    page.locator("#topic-pick input").click()
    page.get_by_role("option", name="규제와 일반화 (regularization)").click()
    page.keyboard.press("Escape")
    page.locator("#start-btn").click()
    chat = page.locator("#chat")
    chat.get_by_text("[질문 1/3]").wait_for(timeout=30_000)
    assert "뿐이라" not in chat.inner_text()  # the topic, not the card of the same name: three questions

    # 1: a hint, then a good answer, typed the way the placeholder says
    question = current_question(chat)
    page.locator("#hint-btn").click()
    chat.get_by_text("힌트 1/").wait_for(timeout=30_000)
    box.fill(GOOD[question])
    box.press("Enter")  # a line break, nothing sent
    assert box.input_value().endswith("\n") and "점수" not in chat.inner_text()
    box.press("Shift+Enter")
    feedback = wait_for_reply(chat, 1)
    assert "핵심을 모두 정확하게" in feedback or "대부분 잘 설명하셨어요" in feedback, feedback
    follow_up = latest_question(chat)
    assert not follow_up.startswith("좋습니다. 그런데")
    page.screenshot(path=str(artifact("browser_interview.png")), full_page=True)
    skip_to_main(page, chat, 2)

    # 2: a partial answer with text Markdown would mangle; the probe, and a hint that adds to it
    question = current_question(chat)
    send(page, PARTIAL[question])
    feedback = wait_for_reply(chat, 2)
    assert "0~1, tanh는 -1~1" in chat.inner_text() and chat.locator("del, s").count() == 0
    probe = latest_question(chat)
    if "[질문 3/3]" not in probe:  # a probe on the part that was missed
        assert "참고 답변" not in feedback  # the probe's answer is not shown before it is asked
        page.locator("#hint-btn").click()
        hint = chat.get_by_text("힌트 1/").last
        hint.wait_for(timeout=30_000)
        assert hint.inner_text() not in probe
        skip_to_main(page, chat, 3)

    # 3: 모르겠습니다 — the reference answer (or a plain note that there is none), then the report
    page.locator("#dont-know-btn").click()
    report = page.locator("#report-md")
    report.get_by_text("면접 결과").wait_for(timeout=30_000)
    said = chat.inner_text()
    for wrong in ("참고 답변과 비교해 보세요", "(없음)", "interviewer chat", "interviewer sandbox", "**", "좋습니다. 그런데"):
        assert wrong not in said, wrong
    asked = [q for q in questions(chat) if "[질문" not in q]
    frames = [*FOLLOW_UP_OPENERS, *PROBES_PLAIN, *PROBE_ANCHORS, *(f for kind in PROBE_FRAMES.values() for f in kind)]
    assert all(sum(frame_of(f) in q for q in asked) <= 1 for f in frames), asked
    page.get_by_role("tab", name="면접").click()
    page.screenshot(path=str(artifact("browser_chat_end.png")), full_page=True)
    page.get_by_role("tab", name="결과 보고서").click()

    session_id = report_tab_shows_the_report(page, LITERAL.split(",")[0])
    shown = report.inner_text()
    assert "interviewer chat" not in shown and "(없음)" not in shown and report.locator("del, s").count() == 0
    assert f"({seoul_zone_name()})" in shown
    for heading in report.locator("h3").all_inner_texts():
        if "[보충 질문]" in heading:
            assert not any(title in heading for title in GOOD), heading  # the probe asked, not the main question
    page.screenshot(path=str(artifact("browser_report.png")), full_page=True)
    history_tab_lists_the_session(page, session_id)
    page.screenshot(path=str(artifact("browser_history.png")), full_page=True)
    anki_deck_downloads(page)
    emoji_are_drawn_in_colour(page)
    status_line_reads_korean(page)
    assert page.evaluate("window.__englishStatus") == []


def test_start_answer_numpy_and_resume(server: Server, page):
    page.goto(server.url)
    page.get_by_text("LLM 모드").wait_for()
    page.locator("#review-box input").uncheck()
    page.locator("#start-btn").click()
    chat = page.locator("#chat")
    chat.get_by_text("[질문 1/3]").wait_for(timeout=30_000)
    send(page, "학습률이 너무 크면 발산해서 loss가 증가합니다. 과적합은 dropout으로 줄입니다.")
    chat.get_by_text("점수").first.wait_for(timeout=30_000)
    text = chat.inner_text()
    # key points marked, or (a probe on the card still to come) counted for the next question
    assert "학습률이 너무 크면" in text and ("✓" in text or "✗" in text or "이어지는 질문에서" in text)
    numpy_in_the_chat_and_the_lab(page)
    resume_after_reload(page)
    page.locator("#finish-btn").click()
    page.locator("#report-md").get_by_text("면접 결과").wait_for(timeout=30_000)


def artifact(name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name


def send(page, text: str) -> None:
    page.locator("#answer-box textarea").fill(text)
    page.locator("#send-btn").click()


def questions(chat) -> list[str]:
    """Every question the interviewer asked so far, in order (the last paragraph of its bubbles)."""
    bubbles = chat.locator(".bot").all_inner_texts()
    return [b.strip().split("\n")[-1].strip() for b in bubbles if b.strip().endswith(("?", "요.", "요", "세요."))]


def latest_question(chat) -> str:
    return chat.locator(".bot").last.inner_text().strip().split("\n")[-1].strip()


def current_question(chat) -> str:
    """Which card of GOOD the waiting main question is."""
    text = chat.locator(".bot").last.inner_text()
    return next(title for title in GOOD if title in text)


def wait_for_reply(chat, number: int) -> str:
    """The feedback bubble after the `number`th graded answer."""
    chat.get_by_text("점수").nth(number - 1).wait_for(timeout=30_000)
    return chat.locator(".bot").last.inner_text()


def skip_to_main(page, chat, number: int) -> None:
    """Skip follow-ups until main question `number` is asked."""
    for _ in range(3):
        if f"[질문 {number}/3]" in chat.locator(".bot").last.inner_text():
            return
        page.locator("#skip-btn").click()
        page.wait_for_timeout(300)
        chat.get_by_text("질문을 건너뛰었습니다").last.wait_for(timeout=30_000)
    assert f"[질문 {number}/3]" in chat.locator(".bot").last.inner_text()


def seoul_zone_name() -> str:
    return datetime.now(ZoneInfo(ZONE)).tzname() or ""


def anki_deck_downloads(page) -> None:
    with page.expect_download() as download:
        page.locator("#download-anki").click()
    saved = artifact("browser_review.apkg")
    download.value.save_as(saved)
    assert saved.read_bytes()[:2] == b"PK"  # an .apkg is a zip


def status_line_reads_korean(page) -> None:
    """Gradio's status line (its English "processing | 0.4s") is drawn as 처리 중…: checked on an
    element of its class, since a real event here ends too fast to catch it."""
    shown = page.evaluate("""() => {
        const el = document.createElement('div'); el.className = 'progress-text'; el.textContent = 'processing | 0.4s';
        document.body.appendChild(el);
        const style = getComputedStyle(el), before = getComputedStyle(el, '::before');
        const out = [style.fontSize, before.content, before.fontSize]; el.remove(); return out; }""")
    assert shown[0] == "0px" and shown[1] == '"처리 중…"' and shown[2] != "0px", shown


def emoji_are_drawn_in_colour(page) -> None:
    """💡 and 🧪 come from a colour emoji font, not as empty boxes."""
    colours = page.evaluate("""() => ['💡', '🧪'].map(ch => {
        const c = document.createElement('canvas'); c.width = c.height = 64;
        const g = c.getContext('2d'); g.font = '48px sans-serif'; g.fillText(ch, 4, 52);
        const d = g.getImageData(0, 0, 64, 64).data; let n = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i + 3] && Math.max(d[i], d[i+1], d[i+2]) - Math.min(d[i], d[i+1], d[i+2]) > 60) n++;
        return n; })""")
    assert all(n > 50 for n in colours), colours


def numpy_in_the_chat_and_the_lab(page) -> None:
    """`/numpy` in the answer box runs in the sandbox and its figure shows in the chat; the lab tab
    runs its prefilled demo and shows output and figure."""
    chat = page.locator("#chat")
    page.locator("#answer-box textarea").fill("/numpy import matplotlib.pyplot as plt\nplt.plot([1, 2, 4])\n"
                                              "print(6 * 7)")
    page.locator("#send-btn").click()
    chat.get_by_text("numpy 실행 결과").wait_for(timeout=30_000)
    chat.locator("img").first.wait_for(timeout=30_000)
    assert "42" in chat.inner_text()
    page.screenshot(path=str(artifact("browser_numpy_chat.png")), full_page=True)
    page.get_by_role("tab", name="numpy 실습").click()
    page.locator("#lab-run").click()
    page.locator("#lab-figures img").first.wait_for(timeout=30_000)
    assert page.locator("#lab-output textarea").input_value().strip()
    page.screenshot(path=str(artifact("browser_lab.png")), full_page=True)
    page.get_by_role("tab", name="면접").click()


def resume_after_reload(page) -> None:
    """A reloaded tab has lost its state; the unfinished interview is picked up from the list."""
    page.reload()
    page.get_by_text("LLM 모드").wait_for()
    page.locator("#resume-pick input").click()
    page.get_by_role("option").first.click()
    page.locator("#resume-btn").click()
    chat = page.locator("#chat")
    chat.get_by_text("이어서 진행합니다").wait_for(timeout=30_000)
    assert "학습률이 너무 크면" in chat.inner_text()


def report_tab_shows_the_report(page, answered: str) -> str:
    """Finishing switches to the report tab; its HTML download is the self-contained report."""
    report = page.locator("#report-md")
    report.get_by_text("면접 결과").wait_for(timeout=30_000)
    session_id = report.locator("h2").first.inner_text().split("·")[-1].strip()
    page.locator("#report-plot img").wait_for(timeout=30_000)
    with page.expect_download() as download:
        page.locator("#download-html").click()
    saved = artifact("browser_report.html")
    download.value.save_as(saved)
    html = saved.read_text(encoding="utf-8")
    assert session_id in html and "<svg" in html and answered in html and "interviewer chat" not in html
    printed = page.context.new_page()  # the saved file alone, offline, printed as a person would
    printed.goto(saved.as_uri())
    pdf = printed.pdf(path=str(artifact("browser_report.pdf")))
    printed.close()
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    return session_id


def history_tab_lists_the_session(page, session_id: str) -> None:
    from playwright.sync_api import expect

    page.get_by_role("tab", name="기록").click()
    expect(page.locator("#history-sessions")).to_contain_text(session_id, timeout=30_000)
    page.locator("#history-plot img").wait_for(timeout=30_000)
    started = datetime.strptime(session_id[:15], "%Y%m%d-%H%M%S").replace(tzinfo=UTC)  # the id is in UTC
    seoul = started.astimezone(ZoneInfo(ZONE))
    assert f"{seoul:%Y-%m-%d %H:%M}" in page.locator("#history-sessions").inner_text()
