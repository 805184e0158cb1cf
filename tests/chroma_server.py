"""A real Chroma server for the tests: `chroma run` on 127.0.0.1, a free port and a
temporary path, from the same virtualenv as the test run.

`running_server` starts it, waits for its heartbeat and always stops it (on Linux the
server is also told to die with the test process, should that be killed outright); started
again on the same folder, it serves the same data.
`copy_collection` clones a citechat collection on the server, so tests that write can each
have their own copy of a collection seeded once. It does not manage several servers or
authentication.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from app_server import free_port

STARTUP_S = 60.0
CHROMA = Path(sys.executable).parent / "chroma"


@dataclass(frozen=True)
class ChromaServer:
    url: str
    path: Path
    log: Path
    process: subprocess.Popen  # for tests that crash the server on purpose


def _die_with_parent() -> None:  # runs in the child before exec
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _alive(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1) as reply:
            return reply.status == 200
    except OSError:
        return False


@contextlib.contextmanager
def running_server(folder: Path) -> Iterator[ChromaServer]:
    """A Chroma server storing its data under `folder`, stopped on exit."""
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "chroma.log"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(CHROMA), "run", "--path", str(folder / "db"), "--host", "127.0.0.1",
             "--port", str(port)],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
    try:
        deadline = time.monotonic() + STARTUP_S
        while not _alive(url):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"chroma run did not start on {url}:\n{tail}")
            time.sleep(0.1)
        yield ChromaServer(url, folder / "db", log, process)
    finally:
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def unique_collection(prefix: str = "t") -> str:
    """A collection name no other test uses (3-63 characters, alphanumeric ends)."""
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


SUFFIXES = ("", "-docs")  # a citechat collection is two Chroma collections


def copy_collection(client, source: str, target: str, page: int = 500) -> None:
    """Copy citechat collection `source` (records, vectors and collection metadata) to
    `target` on the same server."""
    for suffix in SUFFIXES:
        origin = client.get_collection(source + suffix, embedding_function=None)
        copy = client.create_collection(target + suffix, embedding_function=None,
                                        metadata=origin.metadata)
        offset = 0
        while True:
            got = origin.get(include=["embeddings", "documents", "metadatas"], limit=page,
                             offset=offset)
            if not got["ids"]:
                break
            copy.add(ids=got["ids"], embeddings=got["embeddings"], documents=got["documents"],
                     metadatas=got["metadatas"])
            offset += len(got["ids"])


def drop_collection(client, name: str) -> None:
    """Delete citechat collection `name` from the server, as far as it exists."""
    for suffix in SUFFIXES:
        with contextlib.suppress(Exception):  # chromadb raises bare errors for unknown names
            client.delete_collection(name + suffix)
