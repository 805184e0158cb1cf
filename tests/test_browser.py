"""End to end in a real browser: `streamlit run app.py` on a free loopback port, driven by
Debian's Chromium through Playwright. Asks a seed question, checks the cited answer,
opens the citation and checks that the highlighted passage is exactly the cited span.

A second test has a local OpenAI-compatible server answer with `<script>` and
`<img onerror>` and checks, in the page itself, that neither ran nor became an element.

Saves test-artifacts/browser.png and records how long the page took to load and the
question to be answered (printed, and in test-artifacts/browser-timings.json); the
figure is not asserted, as it depends on the machine. Never downloads a browser: it
fails when /usr/bin/chromium is missing (`make test` installs it first).
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from app_server import launch_chromium, running_app
from conftest import GENEVA, GENEVA_TITLE, ROOT
from fake_openai_server import FakeOpenAIServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = ROOT / "test-artifacts"
QUESTION = "Who represented the United States at the Geneva talks?"
WAIT_MS = 60_000


def ask(page: Page, question: str) -> None:
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    box.press("Enter")


def test_a_seed_question_is_answered_with_a_checkable_citation(app_url: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            opened = time.perf_counter()
            page.goto(app_url)
            page.get_by_test_id("stChatInputTextArea").wait_for(timeout=WAIT_MS)
            loaded = time.perf_counter()
            ask(page, QUESTION)
            reply = page.get_by_test_id("stChatMessage").filter(has=page.locator("details"))
            reply.wait_for(timeout=WAIT_MS)
            answered = time.perf_counter()
            record_timings(loaded - opened, answered - loaded)

            assert "Sherman" in reply.get_by_test_id("stMarkdownContainer").nth(1).inner_text()
            assert reply.locator(".stMarkdownBadge").first.inner_text() == "1"
            check_first_citation(page, reply)
        finally:
            browser.close()


def check_first_citation(page: Page, reply) -> None:
    """Opens citation [1]; its highlighted text is the document's exact cited span."""
    source = reply.get_by_test_id("stExpander").first
    label = source.locator("summary").get_by_test_id("stMarkdownContainer").inner_text()
    assert label.startswith(f"[1] {GENEVA_TITLE} — “")
    source.locator("summary").click()
    mark = source.locator(".citechat-source mark")
    mark.wait_for(timeout=WAIT_MS)
    where = source.get_by_test_id("stCaptionContainer").first.inner_text()
    doc, start, end = re.fullmatch(r"(.+), characters (\d+)–(\d+)", where.strip()).groups()
    text = (ROOT / "seeds" / doc).read_text(encoding="utf-8")
    assert doc == GENEVA
    assert mark.text_content() == text[int(start) : int(end)]
    assert "Sherman" in mark.text_content()
    mark.scroll_into_view_if_needed()
    page.wait_for_timeout(500)  # let the expander finish opening before the screenshot
    page.screenshot(path=ARTIFACTS / "browser.png", animations="disabled")


def record_timings(load_s: float, answer_s: float) -> None:
    timings = {"page_load_s": round(load_s, 2), "load_to_answer_s": round(answer_s, 2),
               "total_s": round(load_s + answer_s, 2)}
    print(f"\nbrowser timings: {timings}")
    (ARTIFACTS / "browser-timings.json").write_text(json.dumps(timings) + "\n")


HOSTILE_REPLY = ("Wendy Sherman <script>window.pwned = 1</script>"
                 "<img src=x onerror=\"window.pwned = 2\"> represented the U.S. [1].")


def test_hostile_model_output_stays_inert_in_the_page(tmp_path: Path, seeded_dir: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(seeded_dir, data)
    with FakeOpenAIServer() as model, sync_playwright() as playwright:
        model.responder = lambda messages: HOSTILE_REPLY
        env = {"CITECHAT_ENGINE": "openai", "CITECHAT_OPENAI_BASE_URL": model.base_url}
        with running_app(data, tmp_path / "streamlit.log", env) as url:
            browser = launch_chromium(playwright)
            try:
                page = browser.new_page()
                dialogs: list[str] = []
                page.on("dialog", lambda dialog: (dialogs.append(dialog.message),
                                                  dialog.dismiss()))
                page.goto(url)
                page.get_by_test_id("stChatInputTextArea").wait_for(timeout=WAIT_MS)
                ask(page, QUESTION)
                reply = page.get_by_test_id("stChatMessage").filter(
                    has=page.locator("details"))
                reply.wait_for(timeout=WAIT_MS)
                page.wait_for_timeout(500)  # time for an onerror handler to fire, were it there
                shown = reply.inner_text()
                assert "Sherman" in shown and "<script>" in shown  # shown as text
                assert page.evaluate("window.pwned") is None and not dialogs
                assert page.locator("[data-testid=stChatMessage] script").count() == 0
                assert page.locator("[data-testid=stChatMessage] img[src=x]").count() == 0
            finally:
                browser.close()
