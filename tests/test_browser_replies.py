"""No reply is lost, in a real browser: `streamlit run app.py` with the generative engine
against the local fake OpenAI-compatible server streaming slowly (tests/app_server.py,
tests/fake_openai_server.py), driven by Debian's Chromium through Playwright.

A streaming reply is interrupted by Stop, by a question in a new chat and by a page
reload; the saved chat then holds the part streamed marked stopped, or the full reply.
Six browser sessions then ask three questions each in quick succession (the next sent
as soon as the previous reply starts to appear): every saved question has its saved
reply, no page shows an exception, and no session lists another's chats. One app server
for the module.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
from playwright.async_api import Page as AsyncPage
from playwright.async_api import async_playwright
from playwright.sync_api import Page, expect, sync_playwright

from rag.chats import FILENAME, ChatStore

from app_server import launch_chromium, running_app, saved_chats
from fake_openai_server import FakeOpenAIServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WAIT_MS = 60_000
WORDS = " ".join(f"word{i}" for i in range(40))
FULL = f"Wendy Sherman represented the United States at the talks [1]. {WORDS} end."
TROUBLE = '[data-testid="stException"]'
SPELLED = ["zero", "one", "two", "three", "four", "five", "six", "seven"]


class App(NamedTuple):
    url: str
    data: Path


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, seeded_dir: Path) -> Iterator[App]:
    root = tmp_path_factory.mktemp("replies")
    data = root / "data"
    shutil.copytree(seeded_dir, data)
    with FakeOpenAIServer(responder=lambda messages: FULL, pace=0.1) as model:
        env = {"CITECHAT_ENGINE": "openai", "CITECHAT_OPENAI_BASE_URL": model.base_url}
        with running_app(data, root / "streamlit.log", env) as url:
            yield App(url, data)


def ask(page: Page, question: str) -> None:
    box = page.get_by_test_id("stChatInputTextArea")
    expect(box).to_be_enabled(timeout=WAIT_MS)
    box.fill(question)
    box.press("Enter")


def streaming(page: Page) -> None:
    """Waits for the reply to start appearing; the input is disabled meanwhile."""
    page.get_by_text("Wendy Sherman represented").first.wait_for(timeout=WAIT_MS)
    expect(page.get_by_test_id("stChatInputTextArea")).to_be_disabled()


def finished(page: Page | AsyncPage):
    """The reply streamed to its end (its text, not the claim note quoting it)."""
    return page.get_by_test_id("stChatMessage").filter(has_text="Wendy Sherman represented") \
        .filter(has_text="end.").first


def new_chat(page: Page) -> None:
    page.locator(".st-key-new_chat button").click()
    expect(page.get_by_test_id("stChatMessage")).to_have_count(0, timeout=WAIT_MS)


def test_a_streaming_reply_survives_stop_a_new_question_and_a_reload(app: App) -> None:
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_context().new_page()
            page.goto(app.url)
            ask(page, "Stopped: who represented the United States?")
            streaming(page)
            page.locator(".st-key-stop_reply button").click()
            page.get_by_test_id("stCaptionContainer").filter(has_text="Stopped").wait_for(
                timeout=WAIT_MS)
            page.locator(".st-key-retry_reply button").wait_for(timeout=WAIT_MS)

            new_chat(page)
            ask(page, "Left for a new chat: who represented the United States?")
            streaming(page)
            new_chat(page)
            ask(page, "Asked meanwhile: who represented the United States?")
            finished(page).wait_for(timeout=WAIT_MS)  # this one streams to its end

            new_chat(page)
            ask(page, "Reloaded: who represented the United States?")
            streaming(page)
            page.reload()  # the same chat reopens, its reply still streaming or saved
            page.get_by_test_id("stChatMessage").filter(has_text="Reloaded:").wait_for(
                timeout=WAIT_MS)
            finished(page).wait_for(timeout=WAIT_MS)
            # the same browser after the reload: its four chats are still its own
            listed = page.get_by_test_id("stSidebar").get_by_test_id("stBaseButton-tertiary")
            expect(listed).to_have_count(4, timeout=WAIT_MS)
            assert page.locator(TROUBLE).count() == 0
        finally:
            browser.close()
    replies = {chat[0][1].split(":")[0]: chat[1:] for chat in saved_chats(app.data)}
    assert set(replies) == {"Stopped", "Left for a new chat", "Asked meanwhile", "Reloaded"}
    ((role, partial, stopped),) = replies["Stopped"]
    assert role == "assistant" and stopped.get("stopped")
    assert partial and FULL.startswith(partial) and len(partial) < len(FULL)
    for name in ("Left for a new chat", "Asked meanwhile", "Reloaded"):
        ((role, content, response),) = replies[name]
        assert role == "assistant" and "end." in content and not response.get("stopped"), name


SESSIONS = 6
QUESTIONS = 3


async def keep_asking(page: AsyncPage, session: int) -> list[str]:
    """Asks QUESTIONS questions, each in a new chat as soon as the previous reply starts
    to appear; returns the chat titles the sidebar then lists."""
    from playwright.async_api import expect as expect_async

    asked = []
    for n in range(QUESTIONS):
        if n:
            await page.locator(".st-key-new_chat button").click(timeout=WAIT_MS)
            await expect_async(page.get_by_test_id("stChatMessage")).to_have_count(
                0, timeout=WAIT_MS)
        # labelled in words: a number or a name the documents lack is refused before the model
        question = f"session {SPELLED[session]}, question {SPELLED[n]}: who represented the " \
                   "United States?"
        box = page.get_by_test_id("stChatInputTextArea")
        await expect_async(box).to_be_enabled(timeout=WAIT_MS)
        await box.fill(question)
        await box.press("Enter")
        await page.get_by_text("Wendy Sherman represented").first.wait_for(timeout=WAIT_MS)
        asked.append(question)
    await finished(page).wait_for(timeout=WAIT_MS)  # the last one to its end
    listed = page.get_by_test_id("stSidebar").get_by_test_id("stBaseButton-tertiary")
    await expect_async(listed).to_have_count(QUESTIONS, timeout=WAIT_MS)
    assert await page.locator(TROUBLE).count() == 0, await page.locator(TROUBLE).all_inner_texts()
    return [text.strip() for text in await listed.all_inner_texts()]


async def six_sessions(url: str) -> list[list[str]]:
    async with async_playwright() as playwright:
        browser = await launch_chromium(playwright)
        try:
            pages = []
            for _ in range(SESSIONS):
                page = await (await browser.new_context()).new_page()
                await page.goto(url, timeout=WAIT_MS)
                await page.get_by_test_id("stChatInputTextArea").wait_for(timeout=WAIT_MS)
                pages.append(page)
            return await asyncio.gather(*(keep_asking(p, i) for i, p in enumerate(pages)))
        finally:
            await browser.close()


def test_six_sessions_asking_quickly_lose_no_reply_and_see_only_their_chats(app: App) -> None:
    before = len(ChatStore(app.data / FILENAME).chats())
    listings = asyncio.run(six_sessions(app.url))
    for session, listed in enumerate(listings):
        assert len(listed) == QUESTIONS
        assert all(f"session {SPELLED[session]}," in title for title in listed), listed
    saved = saved_chats(app.data)
    assert len(saved) - before == SESSIONS * QUESTIONS
    for chat in saved:
        roles = [role for role, _, _ in chat]
        assert roles == ["user", "assistant"] * (len(roles) // 2) and roles, chat
        assert all(not response.get("error") for _, _, response in chat)
