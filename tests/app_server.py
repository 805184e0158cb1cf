"""The real app for browser tests: `streamlit run app.py` on a free loopback port over a
data directory of the test's own, and Debian's Chromium to drive it through Playwright.

Shared by the browser tests, benchmarks/answers.py and benchmarks/app_load.py, so it
needs nothing from pytest (`saved_chats` reads what the app saved); the other local
servers of the tests take its `free_port`.
Never downloads a browser: `launch_chromium` uses /usr/bin/chromium (`make test`
installs it when it is missing).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
HEALTH_WAIT_S = 60
STOP_WAIT_S = 10
SAVED_WAIT_S = 120


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_healthy(url: str, server: subprocess.Popen, log: Path,
                 timeout: float = HEALTH_WAIT_S, path: str = "/_stcore/health") -> None:
    """Waits until `url + path` answers 200 (streamlit's health check by default)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            command = " ".join(map(str, server.args[2:4]))
            raise RuntimeError(f"{command} exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}{path}", timeout=1) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not become healthy in {timeout:.0f} s:\n{log.read_text()}")


def stop(server: subprocess.Popen) -> None:
    """Terminates `server`, and kills it if it has not stopped in STOP_WAIT_S."""
    server.terminate()
    try:
        server.wait(timeout=STOP_WAIT_S)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


@contextmanager
def running_app(data: Path, log: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """Serves app.py with CITECHAT_DATA_DIR=`data` (and `env`) on 127.0.0.1, its output
    in `log`; yields the URL once the server is healthy and always stops it."""
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
               "--server.address", "127.0.0.1", "--server.port", str(port),
               "--browser.gatherUsageStats", "false"]
    with log.open("w") as out:
        server = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                  env={**os.environ, **(env or {}), "CITECHAT_DATA_DIR": str(data)})
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, server, log)
        yield url
    finally:
        stop(server)


@contextmanager
def app_page(url: str, wait_ms: int, height: int = 1000):
    """A Chromium page (sync Playwright) on the app at `url`, yielded once its chat input
    shows; the browser is closed after."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": height})
            page.goto(url)
            page.get_by_test_id("stChatInputTextArea").wait_for(timeout=wait_ms)
            yield page
        finally:
            browser.close()


def wait_until_idle(page, wait_ms: int):
    """Until the page's script run has ended, so that everything it draws (a saved reply's
    citations come one element at a time) is on the page. With the async Playwright API,
    await what it returns."""
    return page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]') \
        .wait_for(timeout=wait_ms)


def launch_chromium(playwright):
    """Debian's Chromium, headless. Works with either Playwright API: with the sync one it
    returns the Browser, with the async one an awaitable of it."""
    assert CHROMIUM.exists(), "Debian's chromium is missing: apt-get install chromium"
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def saved_chats(data: Path, wait_s: float = SAVED_WAIT_S) -> list[list[tuple[str, str, dict]]]:
    """Every saved chat's messages (role, content, response), once no question is left
    without its reply (or, after `wait_s`, as they are)."""
    from rag.chats import FILENAME, ChatStore

    chats = ChatStore(data / FILENAME)
    deadline = time.monotonic() + wait_s
    while True:
        saved = [[(m.role, m.content, m.response or {}) for m in chats.load(c.id).messages]
                 for c in chats.chats()]
        if all(c and c[-1][0] == "assistant" for c in saved) or time.monotonic() > deadline:
            return saved
        time.sleep(0.5)
