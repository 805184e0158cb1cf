"""End to end in a real browser: `streamlit run app.py` on a free loopback port, driven by
Debian's Chromium through Playwright. Asks a seed question, checks the cited answer,
opens the citation and checks that the highlighted passage is exactly the cited span.

Saves test-artifacts/browser.png and records how long the page took to load and the
question to be answered (printed, and in test-artifacts/browser-timings.json); the
figure is not asserted, as it depends on the machine. Never downloads a browser: it
fails when /usr/bin/chromium is missing (`make test` installs it first).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from conftest import GENEVA, ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
ARTIFACTS = ROOT / "test-artifacts"
QUESTION = "Who represented the United States at the Geneva talks?"
WAIT_MS = 60_000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_healthy(url: str, server: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"streamlit exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"streamlit did not become healthy in {timeout:.0f} s:\n{log.read_text()}")


@pytest.fixture
def app_url(tmp_path: Path, seeded_dir: Path) -> Iterator[str]:
    """The app served by a real `streamlit run` on a copy of the seeded data directory."""
    data = tmp_path / "data"
    shutil.copytree(seeded_dir, data)
    port, log = free_port(), tmp_path / "streamlit.log"
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
               "--server.address", "127.0.0.1", "--server.port", str(port),
               "--browser.gatherUsageStats", "false"]
    with log.open("w") as out:
        server = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                  env={**os.environ, "CITECHAT_DATA_DIR": str(data)})
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, server, log)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def ask(page: Page, question: str) -> None:
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    box.press("Enter")


def test_a_seed_question_is_answered_with_a_checkable_citation(app_url: str) -> None:
    assert CHROMIUM.exists(), "Debian's chromium is missing: apt-get install chromium"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
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
    assert label.startswith(f"[1] {GENEVA} — “")
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
