"""The web app under load: several browser sessions on one `streamlit run` at once, with a
document uploaded meanwhile.

Two runs, each on a fresh copy of the ingested seeds: 8 sessions with the extractive
engine, and 4 with the generative engine against the local fake OpenAI-compatible server
streaming slowly (a word every PACE_S seconds; tests/fake_openai_server.py). Every
session is its own browser context in one headless Chromium (tests/app_server.py) and
asks its questions one after another, each in a new chat, the next as soon as the reply
is on screen; one more session uploads a document while they ask. Recorded: seconds from
sending a question to its reply starting to show and to the whole reply on screen
(p50/p95), replies that never showed, pages showing an exception, saved questions left
without a saved reply (lost answers), failed replies saved, and the upload's time.
It asserts nothing (tests/test_browser_replies.py does), and does not time the model.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.common import ROOT, percentile
from rag.config import load_settings
from rag.pipeline import Pipeline
from tests.app_server import CHROMIUM, launch_chromium, running_app, saved_chats
from tests.fake_openai_server import FakeOpenAIServer

WAIT_MS = 120_000
PACE_S = 0.05  # seconds per streamed word: a slow local model
QUESTIONS = ("Who represented the United States at the Geneva talks?",
             "What did the RUSI piece say about UN peacekeeping?",
             "Who led the Russian delegation in Geneva?",
             "What did Putin suggest about peacekeepers?",
             "What security guarantees were discussed?")
STREAMED = ("Wendy Sherman represented the United States at the talks [1]. "
            + " ".join(f"word{i}" for i in range(60)) + " end.")
UPLOAD = ("Harbour report\n\nThe harbour master retired in 1987 after thirty years. "
          "The new quay opened in 1990 and doubled the port's traffic within five years.\n")
TROUBLE = '[data-testid="stException"]'


@dataclass
class Session:
    """What one browser session saw: seconds to the reply starting and to its end."""

    first: list[float] = field(default_factory=list)
    done: list[float] = field(default_factory=list)
    missing: int = 0  # questions whose reply never showed within WAIT_MS
    exceptions: int = 0  # exception boxes on the page at the end


def reply_done(page, streaming: bool):
    """The reply of this (new) chat, whole: the streamed text to its end, or an extractive
    reply with its sources."""
    message = page.get_by_test_id("stChatMessage")
    return (message.filter(has_text="end.").filter(has_text="Wendy Sherman") if streaming
            else message.filter(has=page.locator("details"))).first


async def ask_in_turn(page, questions: int, streaming: bool) -> Session:
    from playwright.async_api import TimeoutError as PlaywrightTimeout
    from playwright.async_api import expect

    seen = Session()
    for n in range(questions):
        try:
            if n:
                await page.locator(".st-key-new_chat button").click(timeout=WAIT_MS)
                await expect(page.get_by_test_id("stChatMessage")).to_have_count(
                    0, timeout=WAIT_MS)
            box = page.get_by_test_id("stChatInputTextArea")
            await expect(box).to_be_enabled(timeout=WAIT_MS)
            await box.fill(QUESTIONS[n % len(QUESTIONS)])
            started = time.perf_counter()
            await box.press("Enter")
            await page.get_by_test_id("stChatMessage").nth(1).wait_for(timeout=WAIT_MS)
            seen.first.append(time.perf_counter() - started)
            await reply_done(page, streaming).wait_for(timeout=WAIT_MS)
            seen.done.append(time.perf_counter() - started)
        except PlaywrightTimeout:
            seen.missing += 1
            await page.reload()
    seen.exceptions = await page.locator(TROUBLE).count()
    return seen


async def upload_meanwhile(page, folder: Path) -> dict:
    """Seconds from 'Add to collection' to the sidebar's word on the upload, and that word
    (None: nothing within WAIT_MS)."""
    path = folder / "harbour-report.txt"
    path.write_text(UPLOAD, encoding="utf-8")
    await asyncio.sleep(2.0)  # the sessions are asking by now
    await page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(path)
    started = time.perf_counter()
    await page.get_by_role("button", name="Add to collection").click()
    # the upload's own line (added or failed), or an error such as a busy store
    said = page.get_by_test_id("stSidebar").get_by_test_id("stAlert").first
    try:
        await said.wait_for(timeout=WAIT_MS)
    except Exception:  # a timeout: no word on the upload
        return {"upload_s": None, "upload_said": None}
    return {"upload_s": round(time.perf_counter() - started, 2),
            "upload_said": " ".join((await said.inner_text()).split())}


async def drive(url: str, folder: Path, sessions: int, questions: int,
                streaming: bool) -> tuple[list[Session], dict]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await launch_chromium(playwright)
        try:
            pages = []
            for _ in range(sessions + 1):  # the last one uploads
                page = await (await browser.new_context()).new_page()
                await page.goto(url, timeout=WAIT_MS)
                await page.get_by_test_id("stChatInputTextArea").wait_for(timeout=WAIT_MS)
                pages.append(page)
            *seen, uploaded = await asyncio.gather(
                *(ask_in_turn(p, questions, streaming) for p in pages[:-1]),
                upload_meanwhile(pages[-1], folder))
            return seen, uploaded
        finally:
            await browser.close()


def lost(data: Path) -> dict[str, int]:
    """Saved questions and what became of them, once the app has saved what it will."""
    chats = saved_chats(data, wait_s=30)
    questions = replies = unanswered = failed = 0
    for chat in chats:
        for i, (role, _, response) in enumerate(chat):
            if role == "user":
                questions += 1
                answered = i + 1 < len(chat) and chat[i + 1][0] == "assistant"
                unanswered += not answered
            else:
                replies += 1
                failed += bool(response.get("error"))
    return {"saved_questions": questions, "saved_replies": replies,
            "lost_answers": unanswered, "failed_replies": failed}


def figures(seen: list[Session], uploaded: dict, data: Path) -> dict:
    first = [s for session in seen for s in session.first]
    done = [s for session in seen for s in session.done]

    def p50_p95(values: list[float]) -> dict[str, float | None]:
        return {"p50_s": round(percentile(values, 0.5), 2) if values else None,
                "p95_s": round(percentile(values, 0.95), 2) if values else None}

    return {"sessions": len(seen), "replies": len(done), "first_shown": p50_p95(first),
            "on_screen": p50_p95(done), "never_shown": sum(s.missing for s in seen),
            "pages_with_exception": sum(s.exceptions > 0 for s in seen),
            **uploaded, **lost(data)}


def load_run(seeded: Path, sessions: int, questions: int, streaming: bool) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        shutil.copytree(seeded, data)
        log = Path(tmp) / "streamlit.log"
        if not streaming:
            with running_app(data, log) as url:
                seen, uploaded = asyncio.run(drive(url, Path(tmp), sessions, questions, False))
                return figures(seen, uploaded, data)
        with FakeOpenAIServer(responder=lambda messages: STREAMED, pace=PACE_S) as model:
            env = {"CITECHAT_ENGINE": "openai", "CITECHAT_OPENAI_BASE_URL": model.base_url}
            with running_app(data, log, env) as url:
                seen, uploaded = asyncio.run(drive(url, Path(tmp), sessions, questions, True))
                return {**figures(seen, uploaded, data), "pace_s_per_word": PACE_S,
                        "streamed_words": len(STREAMED.split())}


def run(quick: bool) -> dict:
    if not CHROMIUM.exists():
        return {"skipped": "/usr/bin/chromium is missing (`make browser` installs it)"}
    questions = 2 if quick else 5
    with tempfile.TemporaryDirectory() as tmp:
        seeded = Path(tmp) / "seeded"
        Pipeline.build(load_settings(data_dir=seeded)).ingest([ROOT / "seeds"])
        return {"questions_per_session": questions,
                "extractive": load_run(seeded, 8, questions, streaming=False),
                "streaming": load_run(seeded, 4, questions, streaming=True)}


# -- the report section (benchmarks/report.py places it) --------------------------------


def section(r: dict) -> str:
    s = r.get("app_load")
    if not isinstance(s, dict) or "error" in s or "skipped" in s:
        why = (s or {}).get("error") or (s or {}).get("skipped") or "not run yet"
        return f"Not measured ({why})."
    rows = ["| run | sessions | replies | reply starts, p50 / p95 | reply on screen, "
            "p50 / p95 | never shown | pages with an exception | lost answers "
            "| failed replies | upload |", "|---|---|---|---|---|---|---|---|---|---|"]
    for key, label in (("extractive", "extractive"),
                       ("streaming", "streaming (fake model, "
                                     f"{s['streaming'].get('pace_s_per_word', PACE_S)} s a word)")):
        m = s[key]
        upload = ("no word in 120 s" if m["upload_s"] is None
                  else f"{m['upload_s']:.1f} s: {m['upload_said']}")
        rows.append(f"| {label} | {m['sessions']} | {m['replies']} of "
                    f"{m['sessions'] * s['questions_per_session']} "
                    f"| {_pair(m['first_shown'])} | {_pair(m['on_screen'])} | {m['never_shown']} "
                    f"| {m['pages_with_exception']} | {m['lost_answers']} of "
                    f"{m['saved_questions']} | {m['failed_replies']} | {upload} |")
    return "\n".join([f"{s['questions_per_session']} questions per session, each in a new "
                      "chat, the next sent once the reply is on screen; one more session "
                      "uploads a document meanwhile.", "", *rows])


def _pair(p: dict) -> str:
    if p["p50_s"] is None:
        return "—"
    return f"{p['p50_s']:.1f} / {p['p95_s']:.1f} s"
