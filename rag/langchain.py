"""citechat inside LangChain: a standard retriever with exact spans, and a runnable for answers.

`CitechatRetriever` is a `BaseRetriever` over citechat's hybrid retrieval. Each LangChain
`Document` it returns is one passage: `page_content` is exactly
`source_text(metadata["doc"])[metadata["start"]:metadata["end"]]`. `citechat_chain` answers
a question (a follow-up to a chat history) with any LangChain chat model by calling the
pipeline's own `ask`, so prompts, citation resolution and claim checking are the ones the
CLI and the app use.

It leaves out ingesting (`Pipeline.ingest`, `citechat ingest`) and summaries, and the chain
does not stream its answer: it returns one `Response`. The chat model's tokens still reach
LangChain callbacks and `astream_events`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document as LCDocument
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage, convert_to_messages
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda
from langchain_core.runnables.config import run_in_executor
from pydantic import PrivateAttr, TypeAdapter, ValidationError, field_validator, model_validator

from rag.config import Settings, load_settings
from rag.embedding import Embedder, OnnxEmbedder, build_embedder
from rag.errors import CitechatError, ConfigError
from rag.pipeline import Pipeline
from rag.types import Passage, Response, Turn

# the bounds of the `k` setting, so the retriever accepts exactly what Settings does
Count = Annotated[(int, *Settings.model_fields["k"].metadata)]
_COUNT = TypeAdapter(Count)
_STORE_SETTINGS = ("data_dir", "collection", "chroma_url")


@cache
def _onnx_embedder(tokens_per_batch: int) -> OnnxEmbedder:
    """One loaded ONNX model per process, shared by every retriever built from settings."""
    return OnnxEmbedder(tokens_per_batch=tokens_per_batch)


def _embedder_for(settings: Settings) -> Embedder:
    if settings.embedding == "onnx":
        return _onnx_embedder(settings.embedding_batch_tokens)
    return build_embedder(settings)


def _names(docs: Any) -> Any:
    """A document filter as a list of names; one name may be given as a string."""
    return [docs] if isinstance(docs, str) else docs if docs is None else list(docs)


def as_document(passage: Passage) -> LCDocument:
    """A passage as a LangChain Document; its metadata locates the exact span."""
    metadata: dict[str, Any] = {"doc": passage.doc, "title": passage.title,
                                "start": passage.start, "end": passage.end,
                                "score": passage.score}
    if passage.pages:
        metadata["pages"] = passage.pages
    return LCDocument(page_content=passage.text, metadata=metadata,
                      id=f"{passage.doc}:{passage.start}-{passage.end}")


class CitechatRetriever(BaseRetriever):
    """citechat's hybrid retrieval (BM25 + chunk and sentence vectors) as a retriever.

    Build it over a `pipeline`, over `settings`, or from `data_dir` / `collection` /
    `chroma_url` (anything not given comes from `CITECHAT_*` variables and citechat.toml,
    as for the CLI). `k` passages at most (default: the `k` setting); `docs` limits
    retrieval to those document names. Both can be overridden per call:
    `retriever.invoke(query, k=3, docs=["a.pdf"])`.
    """

    pipeline: Pipeline | None = None
    settings: Settings | None = None
    data_dir: Path | None = None
    collection: str | None = None
    chroma_url: str | None = None
    k: Count | None = None
    docs: list[str] | None = None
    # The fields keep what was given, so LangChain can rebuild the retriever from them
    # (`configurable_fields` does); the pipeline opened from them lives here.
    _pipeline: Pipeline = PrivateAttr()

    @field_validator("docs", mode="before")
    @classmethod
    def _one_name(cls, docs: Any) -> Any:
        return _names(docs)

    @model_validator(mode="after")
    def _open(self) -> CitechatRetriever:
        given = [name for name in _STORE_SETTINGS if getattr(self, name) is not None]
        sources = [name for name in ("pipeline", "settings") if getattr(self, name) is not None]
        if len(sources) + bool(given) > 1:
            raise ValueError("Pass one of pipeline, settings, or data_dir/collection/"
                             f"chroma_url, not several (got {', '.join(sources + given)}).")
        if self.pipeline is not None:
            self._pipeline = self.pipeline
        else:
            settings = self.settings or load_settings(
                **{name: getattr(self, name) for name in _STORE_SETTINGS})
            self._pipeline = Pipeline.build(settings, embedder=_embedder_for(settings))
        self.k = self.k or self._pipeline.settings.k
        return self

    def source_text(self, name: str) -> str:
        """The exact text of document `name`: what `start` and `end` index into."""
        return self._pipeline.source_text(name)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun,
        k: int | None = None, docs: Sequence[str] | None = None, **unknown: Any,
    ) -> list[LCDocument]:
        unknown.pop("verbose", None)  # LangChain's own, passed on to every retriever
        if unknown:
            raise TypeError(f"CitechatRetriever takes k and docs, not {', '.join(unknown)}.")
        if not query.strip():
            return []
        passages = self._pipeline.retrieve(query, k=self._count(k),
                                           docs=self.docs if docs is None else _names(docs))
        return [as_document(p) for p in passages]

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun, **kwargs: Any,
    ) -> list[LCDocument]:
        # Retrieval is CPU-bound (ONNX, BM25) or blocking I/O (a Chroma server): a thread.
        return await run_in_executor(None, self._get_relevant_documents, query,
                                     run_manager=run_manager.get_sync(), **kwargs)

    def _count(self, k: Any) -> int:
        if k is None:
            return self.k or self._pipeline.settings.k  # never 0: the validator set it
        try:
            return _COUNT.validate_python(k)
        except ValidationError as exc:
            raise ConfigError(f"Invalid k {k!r}: {exc.errors()[0]['msg']}") from None


# -- whole answers -------------------------------------------------------------------------

def _turns(history: Sequence[Any]) -> list[Turn]:
    """Turns from `Turn`s or LangChain messages (message objects, ("human", text) pairs,
    {"role": ..., "content": ...} dicts): each human message with the AI reply after it."""
    if all(isinstance(item, Turn) for item in history):
        return list(history)
    try:
        messages = convert_to_messages(history)
    except (ValueError, TypeError, NotImplementedError) as exc:
        reason = next(iter(str(exc).splitlines()), type(exc).__name__)
        raise CitechatError(f"A chat history is a list of turns or chat messages: {reason}") \
            from None
    return [Turn(asked.text, answered.text)
            for asked, answered in pairwise(messages)
            if isinstance(asked, HumanMessage) and isinstance(answered, AIMessage)]


def _request(given: Any) -> tuple[str, list[Turn], list[str] | None]:
    """(question, history, docs) from a question string or a dict holding one."""
    if isinstance(given, str):
        return given, [], None
    if not isinstance(given, dict) or not isinstance(given.get("question"), str):
        raise CitechatError("citechat_chain takes a question: a string, or a dict with "
                            "'question' (and optionally 'history' and 'docs').")
    history = given.get("history") or []
    if not isinstance(history, list | tuple):
        raise CitechatError("A chat history is a list of turns or chat messages.")
    return given["question"], _turns(history), _names(given.get("docs"))


def citechat_chain(llm: BaseChatModel | None = None, retriever: CitechatRetriever | None = None,
                   **settings: Any) -> Runnable[Any, Response]:
    """A runnable answering a question with citations and checked claims.

    Input: a question, or `{"question": ..., "history": [...], "docs": [...]}` where history
    is `Turn`s or LangChain chat messages. Output: citechat's `Response` (`answer` with `[n]`
    markers, `citations` with exact spans, `claims` with their verdicts, `passages`).
    `llm` is any LangChain chat model (None: the engine the settings name, offline by
    default). Retrieval is `retriever`'s (its pipeline, `k` and `docs`), or a
    `CitechatRetriever(**settings)`.
    """
    retriever = retriever or CitechatRetriever(**settings)
    opened = retriever._pipeline
    if llm is None:
        engine = opened.engine
    else:
        from rag.engines.llm import LLMEngine

        engine = LLMEngine(llm)
    pipeline = Pipeline(opened.settings.model_copy(update={"k": retriever.k}),
                        opened.embedder, opened.store, engine)

    def answer(given: Any) -> Response:
        question, history, docs = _request(given)
        return pipeline.ask(question, history, retriever.docs if docs is None else docs)

    return RunnableLambda(answer, name="citechat")
