"""End to end in headless Debian Chromium (Playwright driving the system browser; nothing downloaded)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_app import Server, launched

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is absent (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def server(indexed_home: Path, tmp_path_factory: pytest.TempPathFactory):
    yield from launched(indexed_home, tmp_path_factory, "browser")


@pytest.fixture
def page(tmp_path: Path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(CHROMIUM), headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1280, "height": 1400}, locale="ko-KR")
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


def test_start_answer_and_see_feedback(server: Server, page):
    page.goto(server.url)
    page.get_by_text("LLM 모드").wait_for()
    page.locator("#start-btn").click()
    chat = page.locator("#chat")
    chat.get_by_text("[질문 1/3]").wait_for(timeout=30_000)
    page.locator("#answer-box textarea").fill("학습률이 너무 크면 발산해서 loss가 증가합니다. 과적합은 dropout으로 줄입니다.")
    page.locator("#send-btn").click()
    chat.get_by_text("점수").first.wait_for(timeout=30_000)
    text = chat.inner_text()
    assert "학습률이 너무 크면" in text and ("✓" in text or "✗" in text)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "browser_interview.png"), full_page=True)
    page.locator("#hint-btn").click()
    chat.get_by_text("힌트").last.wait_for(timeout=30_000)
    numpy_in_the_chat_and_the_lab(page)
    resume_after_reload(page)
    page.locator("#finish-btn").click()
    session_id = report_tab_shows_the_report(page)
    page.screenshot(path=str(ARTIFACTS / "browser_report.png"), full_page=True)
    history_tab_lists_the_session(page, session_id)
    page.screenshot(path=str(ARTIFACTS / "browser_history.png"), full_page=True)


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
    page.screenshot(path=str(ARTIFACTS / "browser_numpy_chat.png"), full_page=True)
    page.get_by_role("tab", name="numpy 실습").click()
    page.locator("#lab-run").click()
    page.locator("#lab-figures img").first.wait_for(timeout=30_000)
    assert page.locator("#lab-output textarea").input_value().strip()
    page.screenshot(path=str(ARTIFACTS / "browser_lab.png"), full_page=True)
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


def report_tab_shows_the_report(page) -> str:
    """Finishing switches to the report tab; its HTML download is the self-contained report."""
    report = page.locator("#report-md")
    report.get_by_text("면접 결과").wait_for(timeout=30_000)
    session_id = report.locator("h2").first.inner_text().split("·")[-1].strip()
    page.locator("#report-plot img").wait_for(timeout=30_000)
    with page.expect_download() as download:
        page.locator("#download-html").click()
    saved = ARTIFACTS / "browser_report.html"
    download.value.save_as(saved)
    html = saved.read_text(encoding="utf-8")
    assert session_id in html and "<svg" in html and "학습률이 너무 크면" in html
    printed = page.context.new_page()  # the saved file alone, offline, printed as a person would
    printed.goto(saved.as_uri())
    pdf = printed.pdf(path=str(ARTIFACTS / "browser_report.pdf"))
    printed.close()
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    return session_id


def history_tab_lists_the_session(page, session_id: str) -> None:
    from playwright.sync_api import expect

    page.get_by_role("tab", name="기록").click()
    expect(page.locator("#history-sessions")).to_contain_text(session_id, timeout=30_000)
    page.locator("#history-plot img").wait_for(timeout=30_000)
