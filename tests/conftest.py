"""Shared fixtures: settings in temporary data directories, the real offline embedder
(loaded once), a seeds collection ingested once per session, and a small deterministic
bag-of-words embedder for tests that must not depend on the model."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from rag.config import Settings, load_settings
from rag.embedding import OnnxEmbedder
from rag.pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
SHARED = ROOT.parent / "shared"
DEV_EVAL = SHARED / "eval" / "dev.jsonl"
GENEVA = "003_fa0218dd8f3787b3.txt"
RUSI = "000_941f52de0b6a0cef.txt"


class BagOfWordsEmbedder:
    """Hashes lower-cased words into 64 buckets: texts sharing words come out close."""

    model_id = "test/bag-of-words"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        rows = np.zeros((len(texts), 64), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                rows[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % 64] += 1.0
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        return rows / np.maximum(norms, 1e-12)

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


@pytest.fixture(scope="session")
def embedder() -> OnnxEmbedder:
    return OnnxEmbedder()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data")


@pytest.fixture
def make_pipeline(tmp_path: Path, embedder: OnnxEmbedder):
    """Builds pipelines on fresh data directories, sharing the loaded embedder."""

    def make(name: str = "data", embedder_override=None, **overrides) -> Pipeline:
        settings = load_settings(data_dir=tmp_path / name, **overrides)
        from rag.store import Store, connect

        used = embedder_override or embedder
        store = Store(connect(settings.chroma_url, settings.data_dir), settings.collection,
                      used.model_id, settings.data_dir)
        return Pipeline(settings, used, store)

    return make


@pytest.fixture(scope="session")
def seeded_dir(tmp_path_factory: pytest.TempPathFactory, embedder: OnnxEmbedder) -> Path:
    """A data directory with the seeds ingested, built once; copy it before writing."""
    folder = tmp_path_factory.mktemp("seeded") / "data"
    pipeline = Pipeline.build(load_settings(data_dir=folder))
    report = pipeline.ingest([SEEDS])
    assert report.exit_code == 0
    return folder


@pytest.fixture
def seeded(tmp_path: Path, seeded_dir: Path, embedder: OnnxEmbedder) -> Pipeline:
    """A pipeline over its own copy of the seeded store."""
    folder = tmp_path / "seeded"
    shutil.copytree(seeded_dir, folder)
    from rag.store import Store, connect

    settings = load_settings(data_dir=folder)
    store = Store(connect(None, folder), settings.collection, embedder.model_id, folder)
    return Pipeline(settings, embedder, store)


def dev_items() -> list[dict]:
    return [json.loads(line) for line in DEV_EVAL.read_text(encoding="utf-8").splitlines()
            if line.strip()]
