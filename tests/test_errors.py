"""Errors that name their cause (rag/errors.py): an embedder that fails stops the ingest
once with a model error, a store that fails is a store error, a reader that trips over one
file fails that file alone, and the app shows a busy store as one line.

The pipelines here use the bag-of-words embedder or the OpenAI embedder against the local
fake server, so no model is loaded except where the app is started."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from filelock import FileLock
from streamlit.testing.v1 import AppTest

from rag import documents
from rag.config import load_settings
from rag.errors import ModelUnavailable, StoreUnavailable
from rag.pipeline import Pipeline

from conftest import GENEVA, ROOT, RUSI, BagOfWordsEmbedder
from fake_openai_server import FakeOpenAIServer
from test_cli import assert_clean_failure, citechat

FILES = {"a.txt": "Zebras migrate across the Serengeti.",
         "b.txt": "Lions hunt at dusk on the plains.",
         "c.txt": "Giraffes browse the tops of acacia trees."}


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name, text in FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


class BrokenEmbedder(BagOfWordsEmbedder):
    def embed(self, texts):
        raise RuntimeError("onnxruntime ran out of memory")


def openai_pipeline(tmp_path: Path, server: FakeOpenAIServer) -> Pipeline:
    return Pipeline.build(load_settings(data_dir=tmp_path / "data", embedding="openai",
                                        openai_base_url=server.base_url))


def test_an_embedding_server_failing_stops_the_ingest_once(tmp_path: Path, corpus: Path) -> None:
    with FakeOpenAIServer(fail_with=500) as server:
        pipeline = openai_pipeline(tmp_path, server)
        with pytest.raises(ModelUnavailable) as caught:
            pipeline.ingest([corpus])
    assert str(caught.value) == (
        f"The embedding server at {server.base_url} failed (500). The ingest stopped at a.txt "
        "(0 of 3 files done); what was stored is kept, and running the same command again "
        "carries on from there.")
    assert len(server.requests) == 2  # the first file's request and its one retry, no more
    assert pipeline.documents() == []


def test_an_embedding_server_lost_mid_ingest_keeps_what_was_stored(
        tmp_path: Path, corpus: Path) -> None:
    with FakeOpenAIServer() as server:
        pipeline = openai_pipeline(tmp_path, server)

        def lose_the_server(done: int, total: int, result) -> None:
            server.fail_with = 503

        with pytest.raises(ModelUnavailable, match=r"failed \(503\)\. The ingest stopped at "
                                                   r"b\.txt \(1 of 3 files done\)"):
            pipeline.ingest([corpus], on_file=lose_the_server)
    assert [d.name for d in pipeline.documents()] == ["a.txt"]


def test_an_embedder_crashing_is_a_model_error_not_a_store_error(
        tmp_path: Path, corpus: Path) -> None:
    pipeline = Pipeline.build(load_settings(data_dir=tmp_path / "data"),
                              embedder=BrokenEmbedder())
    with pytest.raises(ModelUnavailable, match=r"^The embedding model test/bag-of-words failed "
                                               r"\(RuntimeError: onnxruntime ran out of memory\)"):
        pipeline.ingest([corpus])
    with pytest.raises(ModelUnavailable):
        pipeline.ingest_bytes("d.txt", b"Hippos wallow in rivers.")


def test_a_store_failing_is_a_store_error(tmp_path: Path, corpus: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    pipeline = Pipeline.build(load_settings(data_dir=tmp_path / "data"),
                              embedder=BagOfWordsEmbedder())

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pipeline.store, "put", full_disk)
    with pytest.raises(StoreUnavailable, match=r"^Writing to the store at .* failed \(OSError: "
                                               r".*No space left on device\)"):
        pipeline.ingest([corpus])


def test_a_reader_tripping_over_one_file_fails_that_file_alone(
        tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    read = documents.read

    def fragile(name: str, data: bytes, *args, **kwargs):
        if name == "b.txt":
            raise IndexError("list index out of range")
        return read(name, data, *args, **kwargs)

    monkeypatch.setattr(documents, "read", fragile)
    pipeline = Pipeline.build(load_settings(data_dir=tmp_path / "data"),
                              embedder=BagOfWordsEmbedder())
    report = pipeline.ingest([corpus])
    assert [(r.name, r.status) for r in report.results] == [
        ("a.txt", "added"), ("b.txt", "failed"), ("c.txt", "added")]
    assert report.results[1].reason == "cannot read the file (IndexError: list index out of range)"
    assert report.exit_code == 3


def test_citechat_ingest_with_the_embedding_server_down_says_so_in_one_line(
        tmp_path: Path, corpus: Path) -> None:
    with FakeOpenAIServer() as server:
        url = server.base_url  # closed once the block ends: nothing listens there
    result = citechat("ingest", str(corpus), data_dir=tmp_path / "data",
                      env={"CITECHAT_EMBEDDING": "openai", "CITECHAT_OPENAI_BASE_URL": url,
                           "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"})
    assert_clean_failure(result, f"error: Cannot reach the embedding server at {url}: ")
    assert result.returncode == 1 and "The ingest stopped at a.txt" in result.stderr
    assert "Writing to the store" not in result.stderr


def test_the_app_shows_a_busy_store_in_one_line_on_delete_and_upload(
        tmp_path: Path, seeded_dir: Path, embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    shutil.copytree(seeded_dir, data)
    monkeypatch.setenv("CITECHAT_DATA_DIR", str(data))
    monkeypatch.setattr("rag.ingest.LOCK_WAIT_S", 0.2)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.run()
    with FileLock(str(data / "write.lock")):  # another process writing
        app.button(key=f"del:{RUSI}").click().run()
        deleting = [e.value for e in app.error]
        app.file_uploader(key="uploads").set_value(("zebras.txt", b"Zebras.", "text/plain"))
        app.get("form_submit_button")[0].click().run()
        uploading = [e.value for e in app.error]
    assert not app.exception, app.exception
    for shown in (deleting, uploading):
        assert len(shown) == 1 and "is busy: another citechat process" in shown[0]
        assert "\n" not in shown[0]
    names = {d.name for d in Pipeline.build(load_settings(data_dir=data),
                                            embedder=embedder).documents()}
    assert names == {RUSI, GENEVA}  # nothing deleted, nothing added
