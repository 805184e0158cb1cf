"""Crash-safe ingest: `citechat ingest` killed with SIGKILL at random points, then run again,
ends exactly where one clean ingest ends; two ingests at once do not corrupt the store.

The ingests are real `python -m rag ingest` processes. Each is given a pseudo-terminal as
stderr, so it draws its progress bar there and the test can kill it after a chosen number
of files plus a random fraction of the next one. The collections are created beforehand
with a tiny HNSW sync threshold, so Chroma writes its vector index to disk every few
records and the kills also land while it does. Figures are printed (`pytest -rP`) and
recorded in docs/reliability.md.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pty
import random
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from filelock import FileLock

from rag import ingest as ingest_module
from rag.config import load_settings
from rag.errors import StoreBusy
from rag.pipeline import Pipeline
from rag.segments import decode_vectors
from rag.store import Store, connect

from chroma_server import running_server, unique_collection

SEED = 20261123
FILES = 30
KILLS = 6
TIMEOUT_S = 180.0
WORDS = ("treaty minister harbour ledger cobalt meadow signal archive lantern orchard granite "
         "delta comet velvet quarry beacon thistle mosaic falcon ember glacier parcel").split()
PROGRESS = re.compile(rb"(\d+)/(\d+) \[")  # tqdm's "7/30 [00:02<00:05, ...]"
# Created before the first ingest: a small sync threshold makes Chroma persist its HNSW
# index every few records instead of every thousand.
PRECREATE = """
import sys
from pathlib import Path
from rag.store import connect
url, data_dir, collection, embedder = sys.argv[1:]
client = connect(url or None, Path(data_dir))
client.get_or_create_collection(collection, embedding_function=None, metadata={
    "hnsw:space": "cosine", "embedder": embedder,
    "hnsw:sync_threshold": 8, "hnsw:batch_size": 4})
"""
# What a killed ingest left: committed documents, and chunks no entry vouches for (a
# chunk's sentence vectors are in its record).
# Run in a process of its own: an embedded Chroma store must not stay open in the test
# process while another process writes to it.
INSPECT = """
import json, sys
from pathlib import Path
from rag.store import Store, connect
url, data_dir, collection, embedder = sys.argv[1:]
store = Store(connect(url or None, Path(data_dir)), collection, embedder, Path(data_dir))
live = {(d.name, d.content_hash) for d in store.list_documents()}
orphans = sum((m["doc"], m["hash"]) not in live
              for m in store.chunks.get(include=["metadatas"])["metadatas"])
print(json.dumps({"documents": len(live), "orphans": orphans}))
"""


def make_corpus(folder: Path, count: int, rng: random.Random, prefix: str = "") -> Path:
    """`count` small distinct text files of 2-7 sentences, some in a subfolder."""
    for i in range(count):
        sentences = [f"{prefix.upper()}Record {i}.{j} says " +
                     " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 12))) + "."
                     for j in range(rng.randint(2, 7))]
        paragraphs = [" ".join(sentences[k : k + 3]) for k in range(0, len(sentences), 3)]
        path = folder / ("notes" if i % 4 == 0 else "") / f"{prefix}file {i:02d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n\n".join(paragraphs), encoding="utf-8")
    return folder


def environment(data_dir: Path, url: str | None, collection: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITECHAT_")}
    env.update({"CITECHAT_DATA_DIR": str(data_dir), "CITECHAT_COLLECTION": collection,
                "CITECHAT_CONFIG": str(data_dir.parent / "absent.toml"),
                # redraw the progress bar after every file, however fast
                "TQDM_MININTERVAL": "0", "TQDM_MINITERS": "1",
                # batches of a few files: a kill lands mid-ingest, between or in writes
                "CITECHAT_INGEST_BATCH_CHUNKS": "3"})
    if url:
        env["CITECHAT_CHROMA_URL"] = url
    return env


def run_script(script: str, env: dict[str, str], model_id: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", script, env.get("CITECHAT_CHROMA_URL", ""),
         env["CITECHAT_DATA_DIR"], env["CITECHAT_COLLECTION"], model_id],
        check=True, timeout=120, env=env, capture_output=True, text=True).stdout


class Ingest:
    """A `citechat ingest` process whose progress bar the test reads."""

    def __init__(self, paths: list[Path], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "rag", "ingest", *map(str, paths)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave, env=env)
        os.close(slave)
        self.done = -1  # files finished, as the progress bar last said
        self.output = b""  # the last 8 KB written to the terminal
        self.first_progress: float | None = None  # when the bar first showed (lock held)
        self.ended: float | None = None
        # poll, not select: a worker that has run many tests may hold descriptors past 1024
        self.terminal = select.poll()
        self.terminal.register(self.master, select.POLLIN)

    def _read(self, wait: float) -> None:
        if self.terminal.poll(wait * 1000):
            with contextlib.suppress(OSError):  # EIO once the process has gone
                self.output = (self.output + os.read(self.master, 4096))[-8192:]
        if counts := PROGRESS.findall(self.output[-400:]):
            self.done = int(counts[-1][0])
            self.first_progress = self.first_progress or time.monotonic()

    def wait_for(self, files: int, deadline: float) -> None:
        while self.done < files:
            assert self.process.poll() is None, f"ingest ended before {files} files"
            assert time.monotonic() < deadline, f"no progress past {self.done} files"
            self._read(0.05)

    def run_for(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            self._read(min(left, 0.05))  # keep draining the terminal so it never blocks

    def kill(self) -> bool:
        """SIGKILL; whether the process was still running when killed."""
        alive = self.process.poll() is None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        return alive

    def poll(self) -> int | None:
        """Reads what the process wrote so far; its exit code once it has ended."""
        self._read(0.02)
        code = self.process.poll()
        if code is not None and self.ended is None:
            self._read(0.1)
            self.ended = time.monotonic()
        return code

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
        os.close(self.master)


def has_open(pid: int, path: Path) -> bool:
    """Whether process `pid` holds `path` open (Linux /proc)."""
    fds = Path(f"/proc/{pid}/fd")
    with contextlib.suppress(OSError):
        return any(os.readlink(fd) == str(path) for fd in fds.iterdir())
    return False


@dataclass
class Snapshot:
    docs: dict[str, tuple[str, int]]  # name -> (content hash, chunk count)
    chunks: set[str]
    sentences: set[str]  # chunk id and position of every sentence vector a chunk holds
    orphans: set[str]  # chunk ids no document entry vouches for
    unfindable: set[str]  # ids whose own vector does not find them (a broken HNSW index)
    table: list[str]  # the BM25 table's chunk ids


def snapshot(data_dir: Path, url: str | None, collection: str, model_id: str) -> Snapshot:
    store = Store(connect(url, data_dir), collection, model_id, data_dir)
    docs = {d.name: (d.content_hash, d.chunks) for d in store.list_documents()}
    live = {(name, content_hash) for name, (content_hash, _) in docs.items()}
    got = store.chunks.get(include=["metadatas", "embeddings"])
    orphans = {i for i, m in zip(got["ids"], got["metadatas"], strict=True)
               if (m["doc"], m["hash"]) not in live}
    sentences = {f"{i}-{n}" for i, m in zip(got["ids"], got["metadatas"], strict=True)
                 for n in range(len(decode_vectors(m)))}
    unfindable: set[str] = set()
    if got["ids"]:
        hits = store.chunks.query(query_embeddings=np.asarray(got["embeddings"]), n_results=1,
                                  include=["distances"])
        unfindable = {i for i, found, distance in
                      zip(got["ids"], hits["ids"], hits["distances"], strict=True)
                      if not found or (found[0] != i and distance[0] > 1e-4)}
    return Snapshot(docs, set(got["ids"]), sentences, orphans, unfindable,
                    list(store.table().ids))


def assert_same_as_clean(crashed: Snapshot, clean: Snapshot) -> None:
    assert crashed.docs == clean.docs
    assert crashed.chunks == clean.chunks
    assert crashed.sentences == clean.sentences
    assert not crashed.orphans
    assert not crashed.unfindable
    assert len(crashed.table) == len(set(crashed.table))
    assert set(crashed.table) == crashed.chunks  # BM25 rows are exactly the live vectors


@pytest.mark.slow
def test_sigkilled_ingests_then_a_rerun_equal_one_clean_ingest(
        tmp_path: Path, make_pipeline, chroma_url: str | None, mode: str) -> None:
    rng = random.Random(SEED)
    corpus = make_corpus(tmp_path / "corpus", FILES, rng)
    clean_pipeline = make_pipeline("clean")
    started = time.monotonic()
    assert clean_pipeline.ingest([corpus]).exit_code == 0
    per_file = (time.monotonic() - started) / FILES
    model_id = clean_pipeline.embedder.model_id

    crashed = tmp_path / "crashed"
    env = environment(crashed, chroma_url, unique_collection("crash"))
    run_script(PRECREATE, env, model_id)
    deadline = time.monotonic() + TIMEOUT_S
    kills = []
    # a sorted sample: each run gets further than the last, and leaves two files to go
    for target in sorted(rng.sample(range(FILES - 2), KILLS)):
        delay = rng.uniform(0, 2 * per_file)
        ingest = Ingest([corpus], env)
        try:
            ingest.wait_for(target, deadline)
            ingest.run_for(delay)
            assert ingest.kill(), f"the ingest finished before the kill after {target} files"
        finally:
            ingest.close()
        left = json.loads(run_script(INSPECT, env, model_id))
        # every file the progress bar counted as done survived the kill
        assert left["documents"] >= target
        kills.append(f"{target} files + {delay * 1000:.0f} ms: {left['documents']} committed, "
                     f"{left['orphans']} orphan chunks")

    final = subprocess.run([sys.executable, "-m", "rag", "ingest", "--json", str(corpus)],
                           capture_output=True, text=True, env=env, timeout=TIMEOUT_S)
    assert final.returncode == 0, final.stderr
    report = json.loads(final.stdout)
    statuses = [r["status"] for r in report["results"]]
    print(f"[{mode}] kills:", *kills, sep="\n  ")
    print(f"  final run: {statuses.count('unchanged')} unchanged, {statuses.count('added')} "
          f"added, {report['orphans_removed']} orphans removed")
    assert statuses.count("unchanged") == left["documents"]
    assert report["orphans_removed"] == left["orphans"]
    assert "failed" not in statuses and "updated" not in statuses

    clean = snapshot(clean_pipeline.settings.data_dir, chroma_url,
                     clean_pipeline.settings.collection, model_id)
    assert len(clean.docs) == FILES and not clean.orphans and not clean.unfindable
    assert_same_as_clean(snapshot(crashed, chroma_url, env["CITECHAT_COLLECTION"], model_id),
                         clean)


@pytest.mark.slow
@pytest.mark.server
def test_a_server_killed_mid_ingest_then_restarted_ends_as_a_clean_ingest(
        tmp_path: Path, embedder) -> None:
    corpus = make_corpus(tmp_path / "corpus", FILES, random.Random(SEED + 2))
    folder = tmp_path / "server"
    deadline = time.monotonic() + TIMEOUT_S
    with running_server(folder) as server:
        env = environment(tmp_path / "data", server.url, "lost")
        ingest = Ingest([corpus], env)
        try:
            ingest.wait_for(FILES // 3, deadline)
            server.process.kill()  # SIGKILL: the server crashes, not a clean shutdown
            while ingest.poll() is None:
                assert time.monotonic() < deadline, "the ingest did not notice"
        finally:
            ingest.close()
    said = ingest.output.decode(errors="replace")
    print(said.splitlines()[-1])
    assert ingest.process.returncode == 1 and "Traceback" not in said
    assert re.search(r"error: Writing to the store at http://127\.0\.0\.1:\d+ failed .*"
                     r"running the same command again resumes", said), said[-1000:]

    with running_server(folder) as server:  # the same data, on another port
        env = environment(tmp_path / "data", server.url, "lost")
        left = json.loads(run_script(INSPECT, env, embedder.model_id))
        assert left["documents"] >= FILES // 3  # what the bar counted survived the crash
        rerun = subprocess.run([sys.executable, "-m", "rag", "ingest", "--json", str(corpus)],
                               capture_output=True, text=True, env=env, timeout=TIMEOUT_S)
        assert rerun.returncode == 0, rerun.stderr
        print(f"{left['documents']} documents survived the server crash, "
              f"{json.loads(rerun.stdout)['orphans_removed']} orphans removed by the rerun")
        resumed = snapshot(tmp_path / "data", server.url, "lost", embedder.model_id)
    clean = tmp_path / "clean"
    reference = Pipeline(load_settings(data_dir=clean), embedder,
                         Store(connect(None, clean), "citechat", embedder.model_id, clean))
    assert reference.ingest([corpus]).exit_code == 0
    assert_same_as_clean(resumed, snapshot(clean, None, "citechat", embedder.model_id))


@pytest.mark.slow
def test_two_ingests_at_once_take_turns(tmp_path: Path, embedder) -> None:
    rng = random.Random(SEED + 1)
    base = make_corpus(tmp_path / "base", 4, rng, "base")
    corpora = [make_corpus(tmp_path / "first", FILES // 2, rng, "a"),
               make_corpus(tmp_path / "second", FILES // 2, rng, "b")]
    data = tmp_path / "data"
    env = environment(data, None, "citechat")
    run_script(PRECREATE, env, embedder.model_id)
    subprocess.run([sys.executable, "-m", "rag", "ingest", str(base)], check=True, env=env,
                   capture_output=True, timeout=TIMEOUT_S)
    deadline = time.monotonic() + TIMEOUT_S
    # Both open the store while the test holds the write lock, then race for it: whichever
    # loses has had the store open all through the winner's writes.
    with FileLock(str(data / "write.lock")):
        ingests = [Ingest([corpus], env) for corpus in corpora]
        for ingest in ingests:
            while not has_open(ingest.process.pid,
                               (data / "chroma" / "chroma.sqlite3").resolve()):
                assert ingest.poll() is None, ingest.output.decode(errors="replace")
                assert time.monotonic() < deadline, "the ingests did not open the store"
    try:
        while any(ingest.poll() is None for ingest in ingests):
            assert time.monotonic() < deadline, "the ingests did not finish"
    finally:
        for ingest in ingests:
            ingest.close()
    codes = [ingest.process.returncode for ingest in ingests]
    leader, follower = sorted(ingests, key=lambda i: i.first_progress or float("inf"))
    print(f"exit codes {codes}; the second began writing "
          f"{(follower.first_progress or 0) - (leader.ended or 0):.2f} s after the first ended")
    assert leader.process.returncode == 0 and leader.ended is not None
    if follower.process.returncode == 0:  # it waited for the lock
        assert follower.first_progress is not None
        assert follower.first_progress >= leader.ended  # it did not write while the other did
        done = [base, *corpora]
    else:  # or gave up after LOCK_WAIT_S, saying so in one line
        error = follower.output.decode(errors="replace").strip()
        assert follower.process.returncode == 1 and "is busy" in error, error
        done = [base, corpora[ingests.index(leader)]]
    clean = tmp_path / "clean"
    reference = Pipeline(load_settings(data_dir=clean), embedder,
                         Store(connect(None, clean), "citechat", embedder.model_id, clean))
    assert reference.ingest(done).exit_code == 0
    assert_same_as_clean(snapshot(data, None, "citechat", embedder.model_id),
                         snapshot(clean, None, "citechat", embedder.model_id))


def test_a_held_lock_gives_a_clear_store_busy_error(make_pipeline, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    pipeline = make_pipeline()
    corpus = make_corpus(tmp_path / "corpus", 2, random.Random(SEED))
    monkeypatch.setattr(ingest_module, "LOCK_WAIT_S", 0.2)
    pipeline.settings.data_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(pipeline.settings.data_dir / "write.lock")), \
            pytest.raises(StoreBusy, match="is busy: another citechat process"):
        pipeline.ingest([corpus])
    assert pipeline.documents() == []
    assert pipeline.ingest([corpus]).exit_code == 0  # released: it goes through
