"""The real API server for tests and benchmarks: `python -m rag serve` (or `mcp --http`)
on a free loopback port over a data directory of the caller's, in its own process.

Needs nothing from pytest (benchmarks/api.py uses it too). The server's environment is
the caller's without any CITECHAT_* variable, plus `env`, so a developer's settings never
leak in.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.app_server import ROOT, free_port, stop, wait_healthy


def clean_env(data: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a citechat process over `data`, without the caller's settings."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("CITECHAT_")}
    return {**kept, "CITECHAT_CONFIG": str(data.parent / "absent-citechat.toml"),
            "CITECHAT_DATA_DIR": str(data), **(env or {})}


@contextmanager
def running_api(data: Path, log: Path, env: dict[str, str] | None = None,
                command: tuple[str, ...] = ("serve",)) -> Iterator[str]:
    """Serves `citechat <command>` over `data` on 127.0.0.1, its output in `log`; yields
    the base URL (no /v1) once /health answers, and always stops it."""
    port = free_port()
    with log.open("w") as out:
        server = subprocess.Popen([sys.executable, "-m", "rag", *command, "--port", str(port)],
                                  cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                  env=clean_env(data, env))
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, server, log, path="/health")
        yield url
    finally:
        stop(server)
