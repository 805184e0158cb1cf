"""Wires the stages together: ingest, list, remove, retrieve, ask, summarize.

This is the one module that knows the whole story; read it top to bottom:
files -> documents.parse -> chunking -> embedding -> store (ingest), and
question -> engine.condense -> retrieval -> engine.answer -> citations.resolve (ask);
a typed request for a summary (rag/intents.py) goes to summarize instead.
Heavy objects (embedder, Chroma client, chat model) are built once by `Pipeline.build`
and passed in, so tests can hand it fakes. The writing half (ingest, remove, the kept
originals, the write lock) is rag/ingest.py's `Writer`, which Pipeline extends.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, TypeVar

from rag import citations, claims, intents
from rag.config import Settings
from rag.embedding import Embedder, build_embedder
from rag.engines.base import REFUSAL, Draft, Engine, TokenSink
from rag.errors import CitechatError, DocumentNotFound
from rag.ingest import Writer
from rag.retrieval import retrieve
from rag.store import DocInfo, Store, open_store
from rag.summaries import Length, SummaryRequest
from rag.types import Citation, Passage, Response, Turn, pages_of

if TYPE_CHECKING:
    import numpy as np

Span = TypeVar("Span", Passage, Citation)


class Pipeline(Writer):
    def __init__(self, settings: Settings, embedder: Embedder, store: Store,
                 engine: Engine | None = None) -> None:
        self.settings = settings
        self.embedder = embedder
        self.store = store
        self._engine = engine

    @classmethod
    def build(cls, settings: Settings, engine: Engine | None = None,
              embedder: Embedder | None = None) -> Pipeline:
        """The pipeline for these settings; pass `embedder` to share one already loaded."""
        embedder = embedder or build_embedder(settings)
        store = open_store(settings.chroma_url, settings.data_dir, settings.collection,
                           embedder.model_id)
        return cls(settings, embedder, store, engine)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from rag.engines import build_engine

            self._engine = build_engine(self.settings, self.embedder,
                                        known=lambda text: self.store.table().lexical.knows(text))
        return self._engine

    # -- reading ---------------------------------------------------------------------

    def documents(self) -> list[DocInfo]:
        return self.store.list_documents()

    def source_text(self, name: str) -> str:
        return self.store.source_text(name)

    def retrieve(self, query: str, k: int | None = None, docs: Sequence[str] | None = None,
                 budget_chars: int | None = None) -> list[Passage]:
        """`k` passages when `k` is given (within `budget_chars` if that is given too);
        else passages filling the context budget, at most the settings' k of them."""
        self._check_docs(docs)
        if k is None:
            k, budget_chars = self.settings.k, budget_chars or self.settings.context_chars
        found = retrieve(self.store, self.embedder, query, k, docs, budget_chars)
        return self._located(found)

    def _located(self, spans: Sequence[Span]) -> list[Span]:
        """Passages or citations with their document's title and the pages they are on."""
        infos = self.store.table().infos
        located = []
        for span in spans:
            info = infos.get(span.doc)
            if info is None:  # written by another process since the table was read
                located.append(span)
                continue
            located.append(replace(span, title=info.title,
                                   pages=pages_of(info.page_ranges, span.start, span.end)))
        return located

    def _check_docs(self, docs: Sequence[str] | None) -> None:
        if not docs:
            return
        known = {d.name for d in self.documents()}
        missing = [name for name in docs if name not in known]
        if missing:
            raise DocumentNotFound(f"No document named {missing[0]!r} in the collection.")

    def ask(self, question: str, history: Sequence[Turn] = (), docs: Sequence[str] | None = None,
            on_token: TokenSink | None = None) -> Response:
        """Answer `question` (a follow-up to `history`) from the collection, with citations."""
        question = question.strip()
        if not question:
            raise CitechatError("The question is empty.")
        if (intent := intents.summary_intent(question)) is not None:
            return self._typed_summary(question, intent, docs, on_token)
        started = time.perf_counter()
        standalone = self.engine.condense(history, question) if history else question
        passages = self.retrieve(standalone, docs=docs, budget_chars=self.settings.context_chars)
        retrieved = time.perf_counter()
        draft = self.engine.answer(standalone, passages, on_token)
        return self._finish(question, standalone, draft, passages, started, retrieved)

    def _typed_summary(self, question: str, intent: intents.SummaryIntent,
                       docs: Sequence[str] | None, on_token: TokenSink | None) -> Response:
        """A summary asked for in the chat, made as the Summarize button makes it, of the
        documents in scope (`docs`) that the request names."""
        self._check_docs(docs)
        table = self.store.table()
        texts: dict[str, list[str]] = {}  # doc -> its chunks' texts, in table order
        for row in range(len(table.ids)):
            texts.setdefault(str(table.docs[row]), []).append(table.texts[row])
        refs = [intents.DocRef(d.name, d.title, " ".join(texts.get(d.name, [])))
                for d in self.documents() if not docs or d.name in docs]
        found = intents.resolve(intent, refs)
        response = self.summarize(found.docs or docs, on_token=on_token, length=intent.length,
                                  focus=found.focus, bullets=intent.bullets)
        return replace(response, question=question)

    def summarize(self, docs: Sequence[str] | None = None, instruction: str = "",
                  on_token: TokenSink | None = None, *, length: Length | str = "auto",
                  focus: str = "", bullets: bool = False) -> Response:
        """A cited summary of whole documents (all of the collection when `docs` is empty),
        `length` short / medium / long / auto or a sentence count, on `focus` if given."""
        request = SummaryRequest(length, focus, bullets)  # a bad length fails here
        self._check_docs(docs)
        started = time.perf_counter()
        wanted = set(docs or [d.name for d in self.documents()])
        units = self.summary_units(wanted)
        gathered = time.perf_counter()
        title = "Summarize: " + (", ".join(sorted(wanted)) if docs else "the whole collection")
        title += f", on {request.focus}" if request.focus else ""
        draft = self.engine.summarize(units, instruction, on_token, request=request)
        response = self._finish(title, title, draft, units, started, gathered)
        # the passages of a summary are the chunks it cites, not every chunk it read
        return replace(response, passages=tuple(u for u in units if any(
            c.doc == u.doc and u.start <= c.start < u.end for c in response.citations)))

    def summary_units(self, docs: set[str]) -> list[Passage]:
        """Every chunk of these documents, with its boilerplate weight, title and pages,
        as the engines' summaries read them."""
        table = self.store.table()
        return self._located([
            Passage(c.doc, c.start, c.end, 1.0, c.text, weight=float(table.weights[row]))
            for row, c in ((r, table.chunk(r)) for r in range(len(table.ids)))
            if c.doc in docs])

    def _finish(self, question: str, standalone: str, draft: Draft, passages: list[Passage],
                started: float, retrieved: float) -> Response:
        """Citations resolved to exact spans, each claim checked against them."""
        resolved = citations.resolve(draft.text, draft.sources)
        answer, cited = resolved.answer, self._located(resolved.citations)
        found = [] if draft.refused else claims.check(answer, cited, self.embedder, self.stored)
        if self.settings.drop_unsupported and any(c.verdict == "unsupported" for c in found):
            answer, cited, found = self._without_unsupported(found, cited)
        done = time.perf_counter()
        return Response(
            question=question,
            standalone_question=standalone,
            answer=(draft.text.strip() or REFUSAL) if draft.refused else answer,
            refused=draft.refused,
            citations=() if draft.refused else tuple(cited),
            passages=tuple(passages),
            engine=self.engine.name,
            timings_ms={"retrieve": round((retrieved - started) * 1000, 1),
                        "generate": round((done - retrieved) * 1000, 1),
                        "total": round((done - started) * 1000, 1)},
            claims=tuple(found),
        )

    def stored(self, citation: Citation) -> dict[str, np.ndarray]:
        """The vectors the store holds of the cited sentences (claims.Stored), by text."""
        if self.store.embedder_id != self.embedder.model_id:
            return {}
        return self.store.table().sentence_vectors(citation.doc, citation.start, citation.end)

    def _without_unsupported(self, found: list[claims.Claim], cited: list[Citation]):
        """The answer rebuilt from its supported sentences, citations renumbered."""
        kept = [c for c in found if c.verdict != "unsupported"]
        text = " ".join(c.sentence + "".join(f"[{n}]" for n in c.citations) for c in kept)
        sources = [Passage(c.doc, c.start, c.end, 1.0, c.text) for c in cited]
        resolved = citations.resolve(text, sources)
        located = self._located(resolved.citations)
        return resolved.answer, located, claims.check(resolved.answer, located, self.embedder,
                                                      self.stored)
