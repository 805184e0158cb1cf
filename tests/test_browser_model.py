"""The sidebar's model settings in a real browser (`streamlit run app.py`, Debian's
Chromium through Playwright): a wrong base URL gets one line from Test connection; the
local fake OpenAI-compatible server's URL, a key and the model it lists, once saved,
drive the generative engine; the key reaches the server but never the page, the log or
an export, and is kept with mode 0600."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from rag.app.model_settings import KEY_FILE
from rag.chats import FILENAME, ChatStore, export_markdown

from app_server import free_port, launch_chromium, running_app, wait_until_idle
from fake_openai_server import FakeOpenAIServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WAIT_MS = 60_000
KEY = "sk-test-SECRET-4242"
REPLY = "Wendy Sherman represented the United States at the Geneva talks [1]."


def settled(page: Page) -> None:
    wait_until_idle(page, WAIT_MS)


def enter(page: Page, key: str, text: str) -> None:
    field = page.locator(f".st-key-{key} input")
    field.fill(text)
    field.press("Enter")
    settled(page)


def click(page: Page, key: str) -> None:
    page.locator(f".st-key-{key} button").click()
    settled(page)


def note(page: Page, kind: str, says: str) -> str:
    """The sidebar's one note once it says `says` (the previous one may still show)."""
    alert = page.get_by_test_id("stSidebar").get_by_test_id(f"stAlertContent{kind}")
    expect(alert).to_contain_text(says, timeout=WAIT_MS)
    return alert.inner_text().strip()


def test_sidebar_model_settings_drive_the_generative_engine(tmp_path: Path,
                                                            seeded_dir: Path) -> None:
    data, log = tmp_path / "data", tmp_path / "streamlit.log"
    shutil.copytree(seeded_dir, data)
    with FakeOpenAIServer(responder=lambda messages: REPLY) as model, \
            running_app(data, log) as url, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1200})
            page.goto(url)
            page.get_by_test_id("stChatInputTextArea").wait_for(timeout=WAIT_MS)
            page.locator(".st-key-engine").click()
            page.get_by_role("option", name="openai").click()
            settled(page)
            page.get_by_test_id("stSidebar").get_by_text("Model server").click()

            enter(page, "model_url", f"http://127.0.0.1:{free_port()}/v1")
            click(page, "model_test")
            wrong = note(page, "Error", "Cannot reach a model server at http://127.0.0.1:")
            assert "\n" not in wrong

            enter(page, "model_url", model.base_url)
            enter(page, "model_key", KEY)
            click(page, "model_save")
            assert note(page, "Success", "Saved.") == "Saved."
            assert page.locator(".st-key-model_key input").input_value() == ""  # not shown back
            page.locator(".st-key-model_pick").click()  # the models the server lists
            page.get_by_role("option", name="fake").click()
            settled(page)
            click(page, "model_save")
            click(page, "model_test")
            connected = f"Connected to {model.base_url}: 1 model."
            assert note(page, "Success", connected) == connected
            expect(page.get_by_test_id("stSidebar")).to_contain_text(f"fake @ {model.base_url}")

            box = page.get_by_test_id("stChatInputTextArea")
            box.fill("Who represented the United States at the Geneva talks?")
            box.press("Enter")
            reply = page.get_by_test_id("stChatMessage").filter(has=page.locator("details"))
            reply.wait_for(timeout=WAIT_MS)
            assert "Wendy Sherman" in reply.inner_text()
            assert KEY not in page.content()
        finally:
            browser.close()
    asked = [body for body in model.requests if "messages" in body]
    assert asked and asked[-1]["model"] == "fake" and asked[-1]["stream"] is True
    assert f"Bearer {KEY}" in model.authorizations
    assert stat.S_IMODE((data / KEY_FILE).stat().st_mode) == 0o600
    assert KEY not in log.read_text()
    chats = ChatStore(data / FILENAME)
    assert all(KEY not in export_markdown(chats.load(c.id)) for c in chats.chats())
    assert KEY not in (data / "model.json").read_text()
