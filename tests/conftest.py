"""Shared fixtures: settings in temporary data directories, the real offline embedder
(loaded once), a seeds collection ingested once per session, and a small deterministic
bag-of-words embedder for tests that must not depend on the model.

Tests using `make_pipeline` or `seeded` run twice, `[embedded]` and `[server]`: the second
time against a real Chroma server (tests/chroma_server.py, started on first use), each
test in collections of its own."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from rag.config import Settings, load_settings
from rag.embedding import OnnxEmbedder
from rag.pipeline import Pipeline
from rag.store import connect

from chroma_server import (
    ChromaServer,
    copy_collection,
    drop_collection,
    running_server,
    unique_collection,
)
from fake_openai_server import bag_of_words

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
DEV_EVAL = ROOT / "eval" / "dev.jsonl"
GENEVA = "003_fa0218dd8f3787b3.txt"
RUSI = "000_941f52de0b6a0cef.txt"
GENEVA_TITLE = "Russia and West Continue to Talk, But Not Necessarily in the Same Language"
RUSI_TITLE = "Russian–Western Dialogue: All Thoughts, No Action"


class BagOfWordsEmbedder:
    """Hashes lower-cased words into 64 buckets: texts sharing words come out close (the
    fake OpenAI server's embeddings, computed in process)."""

    model_id = "test/bag-of-words"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return bag_of_words(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's CITECHAT_* variables or config file."""
    import os

    for key in list(os.environ):
        if key.startswith("CITECHAT_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("CITECHAT_CONFIG", str(tmp_path / "absent-citechat.toml"))


@pytest.fixture(scope="module", autouse=True)
def _chroma_systems_closed_per_module() -> Iterator[None]:
    """Chroma keeps every embedded store a process opened, with its SQLite and index files,
    until the process ends; a worker running many test files would gather thousands of
    open descriptors. Each file's stores are closed when the file is done."""
    yield
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient.clear_system_cache()


@pytest.fixture(scope="session")
def embedder() -> OnnxEmbedder:
    return OnnxEmbedder()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data")


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    with running_server(tmp_path_factory.mktemp("chroma-server")) as server:
        yield server


@pytest.fixture(params=["embedded", pytest.param("server", marks=pytest.mark.server)])
def mode(request: pytest.FixtureRequest) -> str:
    """Where the store lives: a data directory, or the session's Chroma server."""
    return request.param


@pytest.fixture
def chroma_url(mode: str, request: pytest.FixtureRequest) -> str | None:
    return request.getfixturevalue("chroma_server").url if mode == "server" else None


@pytest.fixture
def make_pipeline(tmp_path: Path, embedder: OnnxEmbedder, chroma_url: str | None):
    """Builds pipelines on fresh stores (data directories, or collections of their own on
    the server), sharing the loaded embedder."""
    collections: dict[str, str] = {}  # pipeline name -> its collection on the server

    def make(name: str = "data", embedder_override=None, **overrides) -> Pipeline:
        if chroma_url:
            overrides.setdefault("chroma_url", chroma_url)
            overrides.setdefault("collection", collections.setdefault(name, unique_collection()))
        settings = load_settings(data_dir=tmp_path / name, **overrides)
        return Pipeline.build(settings, embedder=embedder_override or embedder)

    yield make
    for collection in collections.values():
        drop_collection(connect(chroma_url, tmp_path), collection)


@pytest.fixture(scope="session")
def seeded_dir(tmp_path_factory: pytest.TempPathFactory, embedder: OnnxEmbedder) -> Path:
    """A data directory with the seeds ingested, built once; copy it before writing."""
    folder = tmp_path_factory.mktemp("seeded") / "data"
    pipeline = Pipeline.build(load_settings(data_dir=folder))
    report = pipeline.ingest([SEEDS])
    assert report.exit_code == 0
    return folder


@pytest.fixture(scope="session")
def seeded_collection(tmp_path_factory: pytest.TempPathFactory, chroma_server: ChromaServer,
                      embedder: OnnxEmbedder) -> str:
    """A collection on the server with the seeds ingested, built once; copy it before use."""
    settings = load_settings(data_dir=tmp_path_factory.mktemp("seeded-server"),
                             chroma_url=chroma_server.url, collection=unique_collection("seeds"))
    assert Pipeline.build(settings, embedder=embedder).ingest([SEEDS]).exit_code == 0
    return settings.collection


@pytest.fixture
def seeded(tmp_path: Path, mode: str, request: pytest.FixtureRequest,
           embedder: OnnxEmbedder) -> Iterator[Pipeline]:
    """A pipeline over its own copy of the seeded store (embedded, or on the server)."""
    folder = tmp_path / "seeded"
    if mode == "embedded":
        shutil.copytree(request.getfixturevalue("seeded_dir"), folder)
        settings = load_settings(data_dir=folder)
    else:
        url = request.getfixturevalue("chroma_server").url
        settings = load_settings(data_dir=folder, chroma_url=url,
                                 collection=unique_collection("seeded"))
        copy_collection(connect(url, folder), request.getfixturevalue("seeded_collection"),
                        settings.collection)
    pipeline = Pipeline.build(settings, embedder=embedder)
    yield pipeline
    if settings.chroma_url:
        drop_collection(pipeline.store.client, settings.collection)


def dev_items() -> list[dict]:
    return [json.loads(line) for line in DEV_EVAL.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def pdf_with_text(text: str) -> bytes:
    """A one-page PDF whose text layer says `text`."""
    return pdf_with_pages(text)


def pdf_with_pages(*texts: str) -> bytes:
    """A PDF with one page per text, each page's text layer saying it."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"),
                             NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    font_ref = writer._add_object(font)
    for text in texts:
        page = writer.add_blank_page(612, 792)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font_ref})})
        stream = DecodedStreamObject()
        stream.set_data(f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode())
        page[NameObject("/Contents")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture
def bow_pipeline(tmp_path: Path) -> Callable[[dict[str, str]], Pipeline]:
    """Pipelines over small corpora ({file name: text}) with the bag-of-words embedder and
    100-character chunks: ranking logic tested without loading the model."""

    def make(files: dict[str, str]) -> Pipeline:
        corpus = tmp_path / "bow-corpus"
        corpus.mkdir()
        for name, text in files.items():
            (corpus / name).write_text(text, encoding="utf-8")
        pipeline = Pipeline.build(load_settings(data_dir=tmp_path / "bow-data", chunk_size=100),
                                  embedder=BagOfWordsEmbedder())
        assert pipeline.ingest([corpus]).exit_code == 0
        return pipeline

    return make


@pytest.fixture
def app_url(tmp_path: Path, seeded_dir: Path) -> Iterator[str]:
    """The app served by a real `streamlit run` on a copy of the seeded data directory."""
    from app_server import running_app

    data = tmp_path / "data"
    shutil.copytree(seeded_dir, data)
    with running_app(data, tmp_path / "streamlit.log") as url:
        yield url
