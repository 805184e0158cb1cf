"""The chunk table kept in step by segments: a change indexes only the documents it wrote,
a restart reads the cached segments instead of the store, and the table always holds
exactly the live chunks with their sentence vectors."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from rag import segments, table_reader
from rag.config import load_settings
from rag.pipeline import Pipeline
from rag.segments import DIMENSIONS_KEY, VECTORS_KEY, Segment, compacted, decode_vectors

from conftest import BagOfWordsEmbedder

FILES = {"otters.txt": "Otters eat fish in the river. They hold hands while they sleep. " * 4,
         "herons.txt": "Herons stand still in the marsh. They strike at frogs. " * 4}


def pipeline_on(data: Path) -> Pipeline:
    return Pipeline.build(load_settings(data_dir=data, chunk_size=100),
                          embedder=BagOfWordsEmbedder())


def live_rows(pipeline: Pipeline) -> set[tuple[str, str, int, int]]:
    """(chunk id, doc, start, end) of every live chunk, read from Chroma itself."""
    got = pipeline.store.chunks.get(include=["metadatas"])
    return {(i, m["doc"], m["start"], m["end"]) for i, m in zip(got["ids"], got["metadatas"],
                                                                 strict=True)}


def table_rows(pipeline: Pipeline) -> set[tuple[str, str, int, int]]:
    t = pipeline.store.table()
    return {(t.ids[r], str(t.docs[r]), int(t.starts[r]), int(t.ends[r]))
            for r in range(len(t.ids))}


def test_an_added_document_is_the_only_one_indexed(bow_pipeline, tmp_path: Path) -> None:
    pipeline = bow_pipeline(FILES)
    before = pipeline.store.table()
    result = pipeline.ingest_bytes("badgers.txt", b"Badgers dig setts in the wood. " * 4)
    after = pipeline.store.table()
    assert result.status == "added"
    assert all(any(s is old for s in after.segments) for old in before.segments)
    new = [s for s in after.segments if all(s is not old for old in before.segments)]
    assert [set(s.docs.tolist()) for s in new] == [{"badgers.txt"}]
    assert table_rows(pipeline) == live_rows(pipeline)
    assert pipeline.retrieve("badgers dig setts", k=1)[0].doc == "badgers.txt"


def test_replaced_and_removed_documents_leave_the_table(bow_pipeline) -> None:
    pipeline = bow_pipeline(FILES)
    pipeline.ingest_bytes("otters.txt", b"Sea otters float on kelp beds. " * 4)
    pipeline.remove("herons.txt")
    assert table_rows(pipeline) == live_rows(pipeline)
    table = pipeline.store.table()
    assert set(table.docs.tolist()) == {"otters.txt"}
    assert table.lexical.scores("herons marsh").max() == 0
    assert all("kelp" in text for text in table.texts)


def test_a_restart_reads_the_cached_segments_not_the_store(
        bow_pipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = bow_pipeline(FILES)
    table = first.store.table()

    def fetch(*args, **kwargs):
        raise AssertionError("the cached segments were not used")

    monkeypatch.setattr(table_reader, "_fetch", fetch)
    again = pipeline_on(tmp_path / "bow-data").store.table()
    assert again.ids == table.ids and again.texts == table.texts
    query = "otters river"
    assert np.array_equal(again.lexical.scores(query), table.lexical.scores(query))


def vectors_of(table, row: int) -> np.ndarray:
    segment, local = table.places[0][row], table.places[1][row]
    return np.asarray(table.segments[int(segment)].sentences(int(local)))


def test_a_process_does_not_read_back_what_it_wrote(
        bow_pipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pipeline = bow_pipeline(FILES)
    pipeline.store.table()
    fetched: list[set] = []
    fetch = table_reader._fetch
    monkeypatch.setattr(table_reader, "_fetch", lambda store, versions, whole: (
        fetched.append(set(versions)) or fetch(store, versions, whole)))
    pipeline.ingest_bytes("badgers.txt", b"Badgers dig setts in the wood. They eat worms. " * 4)
    pipeline.ingest_bytes("otters.txt", b"Sea otters float on kelp beds. " * 4)
    table = pipeline.store.table()
    assert fetched == []
    assert table_rows(pipeline) == live_rows(pipeline)
    fresh = Pipeline.build(load_settings(data_dir=tmp_path / "bow-data", chunk_size=100),
                           embedder=BagOfWordsEmbedder())
    shutil.rmtree(fresh.store.cache_dir)  # so it reads every row back from Chroma
    monkeypatch.setattr(table_reader, "_fetch", fetch)
    reread = fresh.store.table()
    order, again = np.argsort(table.ids), np.argsort(reread.ids)
    assert [table.texts[r] for r in order] == [reread.texts[r] for r in again]
    for mine, theirs in zip(order, again, strict=True):
        assert np.array_equal(vectors_of(table, mine), vectors_of(reread, theirs))
    assert pipeline.retrieve("badgers dig setts", k=1)[0].doc == "badgers.txt"


def test_sentence_search_finds_the_chunk_of_the_nearest_sentence(bow_pipeline) -> None:
    pipeline = bow_pipeline(FILES)
    store, embedder = pipeline.store, pipeline.embedder
    table = store.table()
    found = store.sentence_search(embedder.embed_query("They strike at frogs."), 3)
    assert table.docs[table.row_of[found[0][0]]] == "herons.txt"
    assert found[0][1] == pytest.approx(1.0, abs=1e-2)  # float16 vectors
    among = [i for i in table.ids if table.docs[table.row_of[i]] == "otters.txt"]
    assert {table.docs[table.row_of[i]] for i, _ in store.sentence_search(
        embedder.embed_query("They strike at frogs."), 3, among=among)} == {"otters.txt"}


def test_many_small_segments_are_merged(bow_pipeline) -> None:
    pipeline = bow_pipeline(FILES)
    animals = "voles shrews moles stoats weasels hares rabbits foxes deer boars".split()
    for n, animal in enumerate(animals[: segments.MAX_SEGMENTS + 2]):
        pipeline.ingest_bytes(f"note{n}.txt", f"This note is about {animal}.".encode())
        assert len(pipeline.store.table().segments) <= segments.MAX_SEGMENTS
    assert table_rows(pipeline) == live_rows(pipeline)
    assert pipeline.retrieve("moles", k=1)[0].doc == "note2.txt"


def test_a_version_held_twice_is_live_in_the_newest_segment_only() -> None:
    row = ("c1", {"doc": "a.txt", "hash": "h", "start": 0, "end": 5}, "hello")
    older, newer = Segment.build([row]), Segment.build([row])
    kept = compacted([older, newer], {("a.txt", "h")})
    assert kept == [newer]


def test_a_store_of_the_older_layout_gets_its_sentence_vectors_back(bow_pipeline) -> None:
    pipeline = bow_pipeline(FILES)
    store = pipeline.store
    got = store.chunks.get(include=["metadatas"])
    before = {i: decode_vectors(m) for i, m in zip(got["ids"], got["metadatas"], strict=True)}
    # the older layout: one record per sentence in `<name>-sentences`, none in the chunks
    old = store.client.create_collection(f"{store.name}-sentences", embedding_function=None)
    old.add(ids=[f"{i}-{n}" for i, v in before.items() for n in range(len(v))],
            embeddings=np.concatenate(list(before.values())).astype(np.float32),
            metadatas=[{"doc": "x"} for v in before.values() for _ in range(len(v))])
    store.chunks.update(ids=list(before), metadatas=[
        {VECTORS_KEY: "", DIMENSIONS_KEY: 0} for _ in before])
    store.generations.mark_writing()
    assert store.sentence_search(pipeline.embedder.embed_query("They strike at frogs."), 3) == []
    assert pipeline.ingest([]).exit_code == 0  # every ingest migrates first
    got = store.chunks.get(include=["metadatas"])
    after = {i: decode_vectors(m) for i, m in zip(got["ids"], got["metadatas"], strict=True)}
    assert all(np.array_equal(after[i], v) for i, v in before.items())
    assert f"{store.name}-sentences" not in [c.name for c in store.client.list_collections()]
    assert store.sentence_search(pipeline.embedder.embed_query("They strike at frogs."), 1)
