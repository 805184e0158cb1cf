"""API latency: a warm `ask` through `citechat serve` (the real server in its own process,
the `openai` client over loopback HTTP), streamed and not, beside the same questions asked
of `Pipeline.ask` in this process, in one run.

Both sides are warm (every question asked once before timing) and taken in turn, question
by question (in-process, API, API streamed), so a burst of load on a shared machine hits
all three alike; the server and this process never compute at the same time. The
difference is what the service adds: HTTP, JSON of the citations, claims and passages,
and the server's thread pool. Also renders its section of docs/benchmarks.md.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from benchmarks.answers import questions
from benchmarks.common import ROOT, p50_p95_ms
from rag.config import load_settings
from rag.pipeline import Pipeline
from tests.api_server import running_api

MODES = ("in_process", "api", "api_streamed")  # timed from here


def _timed(ask_in_process, client, question: str) -> dict[str, float]:
    took = {}
    started = time.perf_counter()
    quiet = ask_in_process(question)
    took["in_process"] = time.perf_counter() - started
    started = time.perf_counter()
    reply = client.chat.completions.create(
        model="citechat", messages=[{"role": "user", "content": question}])
    took["api"] = time.perf_counter() - started
    took["api_pipeline"] = reply.model_extra["citechat"]["timings_ms"]["total"] / 1000
    started = time.perf_counter()
    streamed = "".join(chunk.choices[0].delta.content or "" for chunk in
                       client.chat.completions.create(model="citechat", stream=True, messages=[
                           {"role": "user", "content": question}]))
    took["api_streamed"] = time.perf_counter() - started
    if not quiet.answer == reply.choices[0].message.content == streamed:
        raise RuntimeError(f"the API answered {question!r} differently")
    return took


def warm_latency(data: Path, rounds: int) -> dict:
    import openai

    pipeline = Pipeline.build(load_settings(data_dir=data))
    asked = questions()
    times: dict[str, list[float]] = {mode: [] for mode in (*MODES, "api_pipeline")}
    with running_api(data, data.parent / "serve.log") as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
        for question in asked:  # warm: each question once on each side
            _timed(pipeline.ask, client, question)
        for _ in range(rounds):
            for question in asked:
                for mode, seconds in _timed(pipeline.ask, client, question).items():
                    times[mode].append(seconds)
    return {"questions": len(asked), "rounds": rounds,
            **{mode: p50_p95_ms(values) for mode, values in times.items()},
            "api_overhead": p50_p95_ms([whole - inside for whole, inside
                                        in zip(times["api"], times["api_pipeline"], strict=True)])}


def run(quick: bool) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        Pipeline.build(load_settings(data_dir=data)).ingest([ROOT / "seeds"])
        return {"extractive_warm": warm_latency(data, 3 if quick else 10)}


def section(r: dict) -> str:
    """The report's API section (benchmarks/report.py calls it)."""
    part = r.get("api")
    if not isinstance(part, dict) or "error" in part:
        return f"Not measured{': ' + part['error'] if isinstance(part, dict) else ''}.\n"
    w = part["extractive_warm"]
    label = {"in_process": "`Pipeline.ask` in process",
             "api": "**`POST /v1/chat/completions`** (openai client)",
             "api_streamed": "the same, `stream=True`, to the last chunk"}
    rows = ["| warm extractive `ask` | p50 | p95 | n |", "|---|---|---|---|"]
    rows += [f"| {label[mode]} | {w[mode]['p50_ms']:.0f} ms | {w[mode]['p95_ms']:.0f} ms "
             f"| {w[mode]['n']} |" for mode in MODES]
    over = w["api_overhead"]
    rows += ["", f"{w['questions']} questions × {w['rounds']} rounds on the seeds. Of an API "
             f"call, `Pipeline.ask` inside the server took {w['api_pipeline']['p50_ms']:.0f} ms "
             f"at the median; the rest — HTTP, the JSON of the citations, claims and passages, "
             f"the openai client — {over['p50_ms']:.0f} ms (p95 {over['p95_ms']:.0f} ms)."]
    if w["api_pipeline"]["p50_ms"] > w["in_process"]["p50_ms"]:
        rows[-1] += (" The pipeline is slower inside the server because the server runs it "
                     "on a worker thread of its pool, where `Pipeline.ask` takes longer than "
                     "on a process's main thread (docs/api.md).")
    return "\n".join([*rows, ""])
