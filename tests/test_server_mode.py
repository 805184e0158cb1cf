"""Server mode end to end, and the BM25 index kept in step with the vectors.

The store and pipeline tests already run against the session's Chroma server (the
`[server]` half of every test using `seeded` or `make_pipeline`); these add what only a
server has: the command and the web app pointed at it by `CITECHAT_CHROMA_URL`, and
several app instances (each with its own data directory, as on separate hosts) sharing
one collection. The last test breaks the on-disk BM25 cache in both modes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from rag.chunk_table import load_segments
from rag.config import load_settings
from rag.pipeline import Pipeline
from rag.store import Store, connect

from chroma_server import ChromaServer, copy_collection, drop_collection, unique_collection
from conftest import GENEVA, ROOT, RUSI, SEEDS

SHOYGU_QUESTION = "Between which two defence ministers did Antonov want contacts?"


@pytest.fixture
def collection(chroma_server: ChromaServer, seeded_collection: str,
               tmp_path: Path) -> Iterator[str]:
    """A copy of the seeded collection on the server, for this test alone."""
    name = unique_collection("copy")
    client = connect(chroma_server.url, tmp_path)
    copy_collection(client, seeded_collection, name)
    yield name
    drop_collection(client, name)


def instance(url: str, collection: str, data_dir: Path, embedder) -> Pipeline:
    """One app instance: its own data directory, the shared server collection."""
    settings = load_settings(data_dir=data_dir, chroma_url=url, collection=collection)
    store = Store(connect(url, data_dir), collection, embedder.model_id, data_dir)
    return Pipeline(settings, embedder, store)


def live_chunk_ids(store: Store) -> set[str]:
    live = {(d.name, d.content_hash) for d in store.list_documents()}
    got = store.chunks.get(include=["metadatas"])
    return {i for i, m in zip(got["ids"], got["metadatas"], strict=True)
            if (m["doc"], m["hash"]) in live}


@pytest.mark.server
def test_the_command_works_against_a_server(chroma_server: ChromaServer, collection: str,
                                            tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITECHAT_")}
    env.update({"CITECHAT_CHROMA_URL": chroma_server.url, "CITECHAT_COLLECTION": collection,
                "CITECHAT_DATA_DIR": str(tmp_path / "data"),
                "CITECHAT_CONFIG": str(tmp_path / "absent.toml")})

    def citechat(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "rag", *args], capture_output=True,
                              text=True, env=env, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout

    top = json.loads(citechat("retrieve", SHOYGU_QUESTION, "--json"))[0]
    assert top["doc"] == RUSI and "Shoygu" in top["text"]
    text = (SEEDS / RUSI).read_text(encoding="utf-8")
    assert text[top["start"] : top["end"]] == top["text"]
    citechat("remove", RUSI)
    assert [d["name"] for d in json.loads(citechat("docs", "--json"))] == [GENEVA]
    assert not (tmp_path / "data" / "chroma").exists()  # no embedded store was opened


@pytest.mark.server
def test_the_web_app_works_against_a_server(chroma_server: ChromaServer, collection: str,
                                            tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITECHAT_CHROMA_URL", chroma_server.url)
    monkeypatch.setenv("CITECHAT_COLLECTION", collection)
    monkeypatch.setenv("CITECHAT_DATA_DIR", str(tmp_path / "data"))
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.run()
    assert not app.exception, app.exception
    app.chat_input(key="question").set_value(
        "Who represented the United States at the Geneva talks?").run()
    assert not app.exception, app.exception
    answer = " ".join(e.value for m in app.chat_message if m.name == "assistant"
                      for e in m.markdown)
    assert "Sherman" in answer and ":blue-badge[1]" in answer
    assert not (tmp_path / "data" / "chroma").exists()


@pytest.mark.server
def test_app_instances_sharing_a_server_see_each_others_writes(
        chroma_server: ChromaServer, collection: str, tmp_path: Path, embedder) -> None:
    a = instance(chroma_server.url, collection, tmp_path / "host-a", embedder)
    b = instance(chroma_server.url, collection, tmp_path / "host-b", embedder)
    assert a.retrieve(SHOYGU_QUESTION, k=1)[0].doc == RUSI  # a has built its BM25 index
    new = tmp_path / "new"
    new.mkdir()
    (new / "zebra.txt").write_text("The zebra census near Nairobi counted 1042 animals.")
    assert b.ingest([new]).exit_code == 0

    assert a.retrieve("zebra census Nairobi", k=1)[0].doc == "zebra.txt"
    assert set(a.store.table().ids) == live_chunk_ids(a.store)
    b.remove(RUSI)
    assert all(p.doc != RUSI for p in a.retrieve("Antonov Shoygu Mattis", k=5))
    assert set(a.store.table().ids) == live_chunk_ids(a.store)
    assert RUSI not in set(a.store.table().docs)


def drop_last_row(folder: Path) -> None:
    rows = json.loads((folder / "rows.json").read_text(encoding="utf-8"))
    (folder / "rows.json").write_text(json.dumps({k: v[:-1] for k, v in rows.items()}))


def truncate_rows(folder: Path) -> None:
    data = (folder / "rows.json").read_bytes()
    (folder / "rows.json").write_bytes(data[: len(data) // 2])


def remove_index(folder: Path) -> None:
    shutil.rmtree(folder / "bm25")


@pytest.mark.parametrize("damage", [drop_last_row, truncate_rows, remove_index])
def test_a_bm25_cache_that_disagrees_with_the_store_is_rebuilt(seeded, damage) -> None:
    expected = live_chunk_ids(seeded.store)
    table = seeded.store.table()
    folders = [seeded.store.cache_dir / "segments" / s.name for s in table.segments]
    assert folders and all((folder / "rows.json").exists() for folder in folders)
    for folder in folders:
        damage(folder)

    settings = seeded.settings
    cold = Store(connect(settings.chroma_url, settings.data_dir), settings.collection,
                 seeded.embedder.model_id, settings.data_dir)  # a new process, as it were
    table = cold.table()
    assert table.fingerprint == seeded.store.table().fingerprint
    assert set(table.ids) == expected and len(table.ids) == len(expected)
    assert table.lexical.scores("Shoygu Mattis").shape == (len(expected),)
    cached = load_segments(cold.cache_dir)
    assert {i for s in cached for i in s.ids} == expected  # and the cache is whole again
