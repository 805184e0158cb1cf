"""Answer latency: the extractive engine on the seeds, warm (p50/p95), and the time from
launching the web app to a first answered question in headless Chromium."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from benchmarks.common import ROOT, SHARED, p50_p95_ms
from rag.config import load_settings
from rag.pipeline import Pipeline

QUESTION = "Who represented the United States at the Geneva talks?"


def questions() -> list[str]:
    items = [json.loads(line) for line in (SHARED / "eval/dev.jsonl").read_text().splitlines()]
    return [i["turns"][-1] for i in items if len(i["turns"]) == 1] + [QUESTION]


def warm_latency(data: Path, repeats: int) -> dict:
    pipeline = Pipeline.build(load_settings(data_dir=data))
    asked = questions()
    for question in asked:  # warm: model loaded, sentence vectors cached
        pipeline.ask(question)
    times = []
    for _ in range(repeats):
        for question in asked:
            started = time.perf_counter()
            pipeline.ask(question)
            times.append(time.perf_counter() - started)
    return {"questions": len(asked), "asks": len(times), **p50_p95_ms(times)}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def launch_to_answer(data: Path) -> dict:
    """Seconds from `streamlit run` to the first cited answer on screen."""
    from playwright.sync_api import sync_playwright

    port = _free_port()
    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "CITECHAT_DATA_DIR": str(data)})
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
                break
            except OSError:
                if time.perf_counter() - started > 60:
                    raise TimeoutError("the app did not start in 60 s") from None
                time.sleep(0.1)
        healthy = time.perf_counter()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                      "--disable-background-networking", "--disable-component-update"])
            page = browser.new_page()
            page.goto(url)
            box = page.get_by_test_id("stChatInputTextArea")
            box.wait_for(timeout=60_000)
            ready = time.perf_counter()
            box.fill(QUESTION)
            box.press("Enter")
            # the reply with its sources (an expander per citation) is on screen
            page.get_by_test_id("stChatMessage").filter(
                has=page.locator("details")).wait_for(timeout=60_000)
            answered = time.perf_counter()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    return {"launch_to_healthy_s": round(healthy - started, 2),
            "launch_to_page_ready_s": round(ready - started, 2),
            "page_ready_to_answer_s": round(answered - ready, 2),
            "launch_to_answer_s": round(answered - started, 2)}


def run(quick: bool) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        Pipeline.build(load_settings(data_dir=data)).ingest([ROOT / "seeds"])
        result = {"extractive_warm": warm_latency(data, 3 if quick else 10)}
        if shutil.which("chromium") or Path("/usr/bin/chromium").exists():
            result["app"] = launch_to_answer(data)
        else:
            result["app"] = {"skipped": "Chromium is not installed (make test installs it)"}
    return result
