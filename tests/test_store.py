"""Ingest, re-ingest, replace, remove and repair against a real embedded Chroma store."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.errors import DocumentNotFound, EmbeddingMismatch
from rag.store import Store, connect

from conftest import GENEVA, RUSI, SEEDS, BagOfWordsEmbedder


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def chunk_ids(pipeline) -> set[str]:
    return set(pipeline.store.chunks.get(include=[])["ids"])


def test_seeds_are_named_by_path_and_slice_exactly(seeded) -> None:
    names = [d.name for d in seeded.documents()]
    assert names == [RUSI, GENEVA]
    for info in seeded.documents():
        text = seeded.source_text(info.name)
        assert text == (SEEDS / info.name).read_text(encoding="utf-8")
        table = seeded.store.table()
        rows = [r for r in range(len(table.ids)) if table.docs[r] == info.name]
        assert len(rows) == info.chunks > 0
        for row in rows:
            chunk = table.chunk(row)
            assert text[chunk.start : chunk.end] == chunk.text


def test_reingest_of_unchanged_corpus_embeds_nothing(seeded) -> None:
    before = chunk_ids(seeded)
    report = seeded.ingest([SEEDS])
    assert [r.status for r in report.results] == ["unchanged", "unchanged"]
    assert chunk_ids(seeded) == before


def test_changed_document_replaces_its_chunks(make_pipeline, tmp_path: Path) -> None:
    pipeline = make_pipeline()
    corpus = tmp_path / "corpus"
    write(corpus, "a.txt", "Apples are red. " * 40)
    write(corpus, "b.txt", "Bananas are yellow. " * 40)
    pipeline.ingest([corpus])
    untouched = {i for i in chunk_ids(pipeline)
                 if pipeline.store.chunks.get(ids=[i])["metadatas"][0]["doc"] == "b.txt"}
    write(corpus, "a.txt", "Apricots are orange. " * 30)
    report = pipeline.ingest([corpus])
    assert {r.name: r.status for r in report.results} == {"a.txt": "updated", "b.txt": "unchanged"}
    table = pipeline.store.table()
    texts = [table.texts[row] for row, doc in enumerate(table.docs) if doc == "a.txt"]
    assert texts and all("Apricots" in t and "Apples" not in t for t in texts)
    assert untouched <= chunk_ids(pipeline)
    assert pipeline.retrieve("apricots orange", k=1)[0].doc == "a.txt"


def test_remove_deletes_document_chunks_and_sentences(seeded) -> None:
    seeded.remove(RUSI)
    assert [d.name for d in seeded.documents()] == [GENEVA]
    assert not seeded.store.chunks.get(where={"doc": RUSI})["ids"]
    assert RUSI not in seeded.store.table().docs.tolist()  # its sentence vectors with it
    assert all(p.doc == GENEVA for p in seeded.retrieve("Antonov Shoygu Mattis", k=5))
    with pytest.raises(DocumentNotFound):
        seeded.remove(RUSI)


def test_bad_files_are_reported_and_the_store_is_kept(seeded, tmp_path: Path) -> None:
    before = chunk_ids(seeded)
    corpus = tmp_path / "bad"
    write(corpus, "empty.txt", "")
    write(corpus, "notes.docx", "not supported")
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.7\n\x00\x01 truncated")
    write(corpus, "good.md", "Wendy Sherman led the American delegation in Geneva.")
    report = seeded.ingest([corpus])
    status = {r.name: r.status for r in report.results}
    assert status == {"broken.pdf": "failed", "empty.txt": "failed", "good.md": "added",
                      "notes.docx": "failed"}
    assert report.exit_code == 3
    assert before < chunk_ids(seeded)
    assert {d.name for d in seeded.documents()} == {RUSI, GENEVA, "good.md"}


def test_orphans_of_an_interrupted_write_are_invisible_then_repaired(seeded) -> None:
    table = seeded.store.table()
    chunk = table.chunk(0)
    # a write begins, writes a chunk, and dies before its entry
    seeded.store.generations.mark_writing()
    seeded.store.chunks.upsert(
        ids=["orphan"], embeddings=[seeded.embedder.embed_query("orphan text")],
        documents=["orphan text about Antonov"],
        metadatas=[{"doc": chunk.doc, "start": 0, "end": 5, "hash": "stale", "weight": 1.0,
                    "context": ""}])
    assert "orphan" not in seeded.store.table().ids
    assert seeded.store.repair() == 1
    assert "orphan" not in chunk_ids(seeded)


def test_repair_after_finished_writes_reads_nothing(seeded, monkeypatch) -> None:
    seeded.ingest_bytes("note.md", b"A short note about zebras.")
    seeded.remove("note.md")

    def scan(*args):
        raise AssertionError("a store whose writes all finished was scanned for orphans")
    monkeypatch.setattr(seeded.store, "_orphans", scan)
    assert seeded.store.repair() == 0
    seeded.store.generations.mark_writing()  # a write that never finished: the next repair looks
    with pytest.raises(AssertionError, match="scanned"):
        seeded.store.repair()


def test_another_embedding_model_is_refused(seeded) -> None:
    client = connect(seeded.settings.chroma_url, seeded.settings.data_dir)
    with pytest.raises(EmbeddingMismatch, match="built with the embedding model"):
        Store(client, seeded.settings.collection, BagOfWordsEmbedder.model_id,
              seeded.settings.data_dir)


def test_bm25_cache_follows_the_documents(seeded, tmp_path: Path) -> None:
    first = seeded.store.table().fingerprint
    write(tmp_path / "new", "n.txt", "Zebras graze on the savanna near Nairobi.")
    seeded.ingest([tmp_path / "new"])
    table = seeded.store.table()
    assert table.fingerprint != first
    assert any("Zebras" in t for t in table.texts)
    assert seeded.retrieve("zebras savanna", k=1)[0].doc == "n.txt"


def test_writes_by_another_process_are_followed(seeded, tmp_path: Path) -> None:
    """The app keeps one store open for hours; a `citechat ingest` run beside it must show
    up in its next answer, and must not break its reads (an embedded Chroma client does
    not see other processes' writes until it is reopened)."""
    import os
    import subprocess
    import sys

    assert seeded.retrieve("Antonov Shoygu Mattis", k=1)[0].doc == RUSI  # index loaded
    write(tmp_path / "new", "zebra.txt", "The zebra census near Nairobi counted 1042 animals.")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITECHAT_")}
    env.update({"CITECHAT_DATA_DIR": str(seeded.settings.data_dir),
                "CITECHAT_COLLECTION": seeded.settings.collection,
                "CITECHAT_CHROMA_URL": seeded.settings.chroma_url or ""})
    done = subprocess.run([sys.executable, "-m", "rag", "ingest", str(tmp_path / "new")],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert seeded.retrieve("zebra census Nairobi", k=1)[0].doc == "zebra.txt"
    assert "1042" in seeded.ask("How many animals did the zebra census near Nairobi count?").answer
    assert seeded.retrieve("Antonov Shoygu Mattis", k=1)[0].doc == RUSI
    # and this process may write after the other one without harm
    assert seeded.ingest_bytes("okapi.txt", b"Okapis live in the Ituri forest.").status == "added"
    assert seeded.retrieve("okapis Ituri forest", k=1)[0].doc == "okapi.txt"
    table = seeded.store.table()
    found = seeded.store.chunks.get(ids=table.ids, include=["embeddings"])
    nearest = seeded.store.chunks.query(query_embeddings=found["embeddings"], n_results=1)
    assert [hit[0] for hit in nearest["ids"]] == found["ids"]  # every vector finds itself


def test_own_writes_never_look_like_another_process(seeded) -> None:
    """A store shared by threads (the app's sessions) must not take its own writes for
    another process's: that reopened the client from several threads at once, and
    Chroma's shared-system cache raised a KeyError on the path."""
    import threading

    store = seeded.store
    reopened: list[int] = []
    reopen = store.reopen
    store.reopen = lambda: reopened.append(1) or reopen()  # type: ignore[misc]
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            store.refresh()

    readers = [threading.Thread(target=reader) for _ in range(2)]
    for thread in readers:
        thread.start()
    try:
        for _ in range(40):
            store.generations.bump()
    finally:
        done.set()
        for thread in readers:
            thread.join(timeout=30)
    assert reopened == []
