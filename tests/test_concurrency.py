"""Several users at once: two keep asking while a third uploads documents. Bounded loops,
loopback only.

`test_two_askers_and_an_uploader` does it on one shared pipeline from threads (as the app
shares its pipeline between sessions). `test_app_sessions_ask_while_another_uploads` does
it through the real app: `streamlit run app.py` (tests/app_server.py) and three browser
sessions in Debian's Chromium, driven at once with Playwright's async API."""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Locator, Page, async_playwright, expect

from rag.chats import FILENAME, ChatStore
from rag.config import load_settings
from rag.pipeline import Pipeline
from rag.types import Response

from app_server import launch_chromium, running_app, wait_until_idle
from conftest import ROOT, SEEDS

QUESTIONS = ["Who represented the United States at the Geneva talks?",
             "Between which two defence ministers did Antonov want contacts?"]
ROUNDS = 6


def test_two_askers_and_an_uploader(seeded) -> None:
    expected = {q: seeded.ask(q) for q in QUESTIONS}
    answers: dict[str, list[Response]] = {q: [] for q in QUESTIONS}
    errors: list[BaseException] = []
    uploaded: list[str] = []

    def asker(question: str) -> None:
        try:
            for _ in range(ROUNDS):
                answers[question].append(seeded.ask(question))
        except BaseException as exc:  # surfaced below, with the thread's failure
            errors.append(exc)

    def uploader() -> None:
        try:
            for i in range(ROUNDS):
                text = f"Note {i}: the zebra census counted {1000 + i} animals in Kenya."
                result = seeded.ingest_bytes(f"note-{i}.txt", text.encode())
                assert result.status == "added", result
                uploaded.append(result.name)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=asker, args=(q,)) for q in QUESTIONS]
    threads.append(threading.Thread(target=uploader))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert not any(t.is_alive() for t in threads)
    assert not errors, errors
    for question, responses in answers.items():
        assert len(responses) == ROUNDS
        # the uploads are about zebras: they must not change answers about Geneva
        assert {r.answer for r in responses} == {expected[question].answer}
        assert all(r.citations == expected[question].citations for r in responses)
    assert sorted(uploaded) == [f"note-{i}.txt" for i in range(ROUNDS)]
    assert {d.name for d in seeded.documents()} >= set(uploaded)
    census = seeded.ask("How many animals did the zebra census count in Kenya?")
    assert not census.refused and "zebra" in census.answer


# --- the same through the real app: three browser sessions on one `streamlit run` ---

ASK_ROUNDS = 3  # per asking session, each round in a new chat
UPLOAD_ROUNDS = 3  # each adds one .md and one .txt file through the upload widget
MUST_MENTION = {QUESTIONS[0]: ["Sherman"], QUESTIONS[1]: ["Mattis", "Shoygu"]}
WAIT_MS = 60_000  # any one step in a page
SESSIONS_BUDGET_S = 180  # everything the browser does
TROUBLE = '[data-testid="stException"], [data-testid="stAlertContentError"]'
ARTIFACTS = ROOT / "test-artifacts"


def note(i: int, suffix: str) -> tuple[str, str]:
    name = f"note-{i}.{suffix}"
    heading = f"# Zebra note {i}\n\n" if suffix == "md" else ""
    return name, f"{heading}Note {i}: the zebra census counted {1000 + i} animals in Kenya.\n"


UPLOADS = [[note(i, "md"), note(i, "txt")] for i in range(UPLOAD_ROUNDS)]
UPLOADED = sorted(name for batch in UPLOADS for name, _ in batch)


@dataclass
class Session:
    """One browser context, so one Streamlit session, and its page's uncaught JavaScript
    errors."""

    name: str
    page: Page
    page_errors: list[str] = field(default_factory=list)


@dataclass
class Step:
    """One round of a session: when it started and ended (s after the rounds began) and
    what the page showed for it."""

    start: float
    end: float
    shown: list[str]


async def open_session(browser: Browser, url: str, name: str) -> Session:
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    session = Session(name, await context.new_page())
    session.page.on("pageerror", lambda error: session.page_errors.append(str(error)))
    await session.page.goto(url, timeout=WAIT_MS)
    await appears(session, session.page.get_by_test_id("stChatInputTextArea"))
    await settled(session)
    return session


async def check_clean(session: Session) -> None:
    """No Streamlit exception box, no error message, no uncaught JavaScript error."""
    shown = await session.page.locator(TROUBLE).all_inner_texts()
    assert not shown, f"{session.name}: {shown}"
    assert not session.page_errors, f"{session.name}: {session.page_errors}"


async def appears(session: Session, wanted: Locator) -> None:
    """Waits for `wanted`, or fails at once on the exception or error shown instead."""
    await wanted.or_(session.page.locator(TROUBLE)).first.wait_for(timeout=WAIT_MS)
    await check_clean(session)


async def settled(session: Session) -> None:
    """Waits until the page's script run has finished and no stale element is left."""
    page = session.page
    await wait_until_idle(page, WAIT_MS)
    await expect(page.locator('[data-stale="true"]')).to_have_count(0, timeout=WAIT_MS)
    await check_clean(session)


async def keep_asking(session: Session, question: str, t0: float) -> list[Step]:
    page, steps = session.page, []
    for round_ in range(ASK_ROUNDS):
        start = time.perf_counter() - t0
        if round_:  # a new chat, so every round is the same question with no history
            await page.locator(".st-key-new_chat button").click(timeout=WAIT_MS)
            await page.wait_for_function(
                "trouble => !document.querySelector('[data-testid=\"stChatMessage\"]')"
                " || document.querySelector(trouble)", arg=TROUBLE, timeout=WAIT_MS)
            await check_clean(session)
        box = page.get_by_test_id("stChatInputTextArea")
        await box.fill(question, timeout=WAIT_MS)
        await box.press("Enter", timeout=WAIT_MS)
        reply = page.get_by_test_id("stChatMessage").filter(has=page.locator("details"))
        await appears(session, reply)  # the answer with its sources, after the rerun
        await settled(session)
        await expect(page.get_by_test_id("stChatMessage")).to_have_count(2)
        steps.append(Step(start, time.perf_counter() - t0, [await reply.inner_text()]))
    return steps


async def keep_uploading(session: Session, t0: float) -> list[Step]:
    page, steps = session.page, []
    chips = page.get_by_test_id("stFileChip")
    successes = page.get_by_test_id("stAlertContentSuccess")
    for batch in UPLOADS:
        start = time.perf_counter() - t0
        await expect(chips).to_have_count(0, timeout=WAIT_MS)  # cleared by the last submit
        await page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
            [{"name": name, "mimeType": "text/markdown" if name.endswith(".md") else
              "text/plain", "buffer": text.encode()} for name, text in batch], timeout=WAIT_MS)
        await expect(chips).to_have_count(len(batch), timeout=WAIT_MS)
        # the button stays disabled until the files are uploaded; click waits for that
        await page.get_by_test_id("stFormSubmitButton").get_by_role("button").click(
            timeout=WAIT_MS)
        for name, _ in batch:
            await appears(session, successes.filter(has_text=f"{name}: "))
        await settled(session)
        steps.append(Step(start, time.perf_counter() - t0, await successes.all_inner_texts()))
    return steps


async def all_at_once(*coroutines: Awaitable[Any]) -> list[Any]:
    """Runs the coroutines concurrently; when one fails, the others are cancelled."""
    tasks = [asyncio.ensure_future(coroutine) for coroutine in coroutines]
    try:
        return await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()


async def three_sessions(url: str) -> dict[str, Any]:
    """Opens three sessions at once; two ask (bounded rounds) while the third uploads;
    then a fresh session reads the sidebar's document list."""
    async with async_playwright() as playwright:
        browser = await launch_chromium(playwright)
        try:
            opened = time.perf_counter()
            sessions = await all_at_once(
                *(open_session(browser, url, name) for name in ("asker 1", "asker 2", "uploader")))
            t0 = time.perf_counter()
            asked_1, asked_2, uploaded = await all_at_once(
                keep_asking(sessions[0], QUESTIONS[0], t0),
                keep_asking(sessions[1], QUESTIONS[1], t0), keep_uploading(sessions[2], t0))
            done = time.perf_counter()
            for session in sessions:
                await check_clean(session)
            fresh = await open_session(browser, url, "fresh")
            listed = await fresh.page.get_by_test_id("stSidebar").get_by_test_id(
                "stCheckbox").all_inner_texts()
        finally:
            await browser.close()
    return {"open_s": t0 - opened, "rounds_s": done - t0, "listed": listed, "uploaded": uploaded,
            "asked": {QUESTIONS[0]: asked_1, QUESTIONS[1]: asked_2}}


def overlapping(steps: list[Step], others: list[Step]) -> int:
    """How many of `steps` ran while at least one of `others` was running."""
    return sum(any(s.start < o.end and o.start < s.end for o in others) for s in steps)


@pytest.mark.slow
@pytest.mark.browser
def test_app_sessions_ask_while_another_uploads(tmp_path: Path, seeded_dir: Path,
                                                embedder) -> None:
    """The real app (`streamlit run`) and three browser sessions at once: two ask their
    seed question, in a new chat each round, while the third uploads .md and .txt files.
    No exception or error on any page or in the server's log, the same answer every round,
    every upload added; afterwards a fresh session lists the uploads, the store holds them
    and the saved chats hold the answers a quiet pipeline gives."""
    data, log = tmp_path / "data", tmp_path / "streamlit.log"
    shutil.copytree(seeded_dir, data)
    began = time.perf_counter()
    with running_app(data, log) as url:
        served = time.perf_counter()
        run = asyncio.run(asyncio.wait_for(three_sessions(url), SESSIONS_BUDGET_S))
    took = time.perf_counter() - began
    server_log = log.read_text()
    assert "Traceback" not in server_log and "Error" not in server_log, server_log

    uploads = run["uploaded"]
    for step, batch in zip(uploads, UPLOADS, strict=True):
        assert sorted(step.shown) == sorted(f"{name}: added (1 chunks)" for name, _ in batch)
    for question, steps in run["asked"].items():
        assert len(steps) == ASK_ROUNDS
        shown = {step.shown[0] for step in steps}
        assert len(shown) == 1, shown  # the same answer, with the same sources, every round
        answer = shown.pop()
        assert all(word in answer for word in MUST_MENTION[question]), answer
        assert overlapping(steps, uploads) >= 1, (steps, uploads)  # really at the same time
    seeds = sorted(path.name for path in SEEDS.iterdir() if path.is_file())
    assert sorted(line.split(" · ")[-2] for line in run["listed"]) == sorted(seeds + UPLOADED)

    # the store (read once the app has stopped) holds the uploads beside the seeds ...
    settings = load_settings(data_dir=data)
    pipeline = Pipeline.build(settings, embedder=embedder)
    assert sorted(d.name for d in pipeline.documents()) == sorted(seeds + UPLOADED)
    census = pipeline.ask("How many animals did the zebra census count in Kenya?")
    assert not census.refused and census.citations[0].doc in UPLOADED
    # ... and the saved chats: each round answered exactly as a quiet pipeline answers now
    chats = ChatStore(data / FILENAME)
    saved = [chats.load(chat.id) for chat in chats.chats()]
    assert len(saved) == len(QUESTIONS) * ASK_ROUNDS
    for question in QUESTIONS:
        quiet = json.loads(json.dumps(pipeline.ask(question).to_dict()))
        rounds = [chat for chat in saved if chat.messages[0].content == question]
        assert len(rounds) == ASK_ROUNDS
        for chat in rounds:
            user, assistant = chat.messages
            assert user.role == "user" and assistant.role == "assistant"
            assert not assistant.response.get("error")
            assert assistant.content == quiet["answer"]
            assert assistant.response["citations"] == quiet["citations"]

    figures = {"sessions": 3, "asks": len(QUESTIONS) * ASK_ROUNDS,
               "asks_during_an_upload": sum(overlapping(steps, uploads)
                                            for steps in run["asked"].values()),
               "upload_rounds": UPLOAD_ROUNDS, "files_uploaded": len(UPLOADED),
               "server_start_s": round(served - began, 2),
               "sessions_open_s": round(run["open_s"], 2),
               "rounds_s": round(run["rounds_s"], 2), "total_s": round(took, 2), "errors": 0}
    print(f"\nconcurrency figures: {figures}")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "concurrency.json").write_text(json.dumps(figures) + "\n")
