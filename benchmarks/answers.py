"""Answer latency: `Pipeline.ask` with the extractive engine on the seeds, warm (model
loaded, each question asked once before timing), p50/p95; and the time from launching
the web app (`streamlit run app.py` on an already-ingested store, as `make run` leaves
it) to a first cited answer on screen in headless Chromium, median of several launches,
each on a fresh copy of the store."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from benchmarks.common import ROOT, dev_items, median, p50_p95_ms
from rag.config import load_settings
from rag.pipeline import Pipeline
from tests.app_server import CHROMIUM, launch_chromium, running_app

QUESTION = "Who represented the United States at the Geneva talks?"
EXPECTED = "Sherman"  # in the answer to QUESTION


def questions() -> list[str]:
    """dev.jsonl's single-turn questions (refusals included) and the README's example."""
    return [i["turns"][-1] for i in dev_items() if len(i["turns"]) == 1] + [QUESTION]


def warm_latency(data: Path, rounds: int) -> dict:
    pipeline = Pipeline.build(load_settings(data_dir=data))
    asked = questions()
    for question in asked:
        pipeline.ask(question)
    times, stages = [], {"retrieve": [], "generate": []}
    for _ in range(rounds):
        for question in asked:
            started = time.perf_counter()
            response = pipeline.ask(question)
            times.append(time.perf_counter() - started)
            for stage in stages:
                stages[stage].append(response.timings_ms[stage])
    return {"questions": len(asked), **p50_p95_ms(times),
            "stages_p50_ms": {k: round(median(v), 1) for k, v in stages.items()}}


def launch_to_answer(data: Path) -> dict:
    """Seconds from `streamlit run` to the first cited answer on screen."""
    from playwright.sync_api import sync_playwright

    started = time.perf_counter()
    with running_app(data, data.parent / "streamlit.log") as url:
        healthy = time.perf_counter()
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            try:
                page = browser.new_page()
                page.goto(url)
                box = page.get_by_test_id("stChatInputTextArea")
                box.wait_for(timeout=60_000)
                ready = time.perf_counter()
                box.fill(QUESTION)
                box.press("Enter")
                # the reply with its sources (an expander per citation) is on screen
                reply = page.get_by_test_id("stChatMessage").filter(has=page.locator("details"))
                reply.wait_for(timeout=60_000)
                answered = time.perf_counter()
                correct = EXPECTED in reply.inner_text()
            finally:
                browser.close()
    return {"healthy": healthy - started, "page_ready": ready - started,
            "answer": answered - ready, "total": answered - started, "correct": correct}


def app_latency(data: Path, launches: int) -> dict:
    runs = []
    for _ in range(launches):
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / "data"
            shutil.copytree(data, copy)
            runs.append(launch_to_answer(copy))
    return {"launches": launches,
            **{f"{key}_s": round(median([r[key] for r in runs]), 2)
               for key in ("healthy", "page_ready", "answer", "total")},
            "first_launch_s": round(runs[0]["total"], 2),
            "answered_correctly": sum(r["correct"] for r in runs)}


def run(quick: bool) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        Pipeline.build(load_settings(data_dir=data)).ingest([ROOT / "seeds"])
        result = {"extractive_warm": warm_latency(data, 5 if quick else 20)}
        if not (ROOT / "app.py").exists():
            result["app"] = {"skipped": "app.py does not exist yet"}
        elif not CHROMIUM.exists():
            result["app"] = {"skipped": "/usr/bin/chromium is missing (`make browser` "
                                        "installs it)"}
        else:
            result["app"] = app_latency(data, 3 if quick else 5)
    return result
