"""Wires the stages together: ingest, list, remove, retrieve, ask, summarize.

This is the one module that knows the whole story; read it top to bottom:
files -> documents.parse -> chunking -> embedding -> store (ingest), and
question -> engine.condense -> retrieval -> engine.answer -> citations.resolve (ask).
Heavy objects (embedder, Chroma client, chat model) are built once by `Pipeline.build`
and passed in, so tests can hand it fakes. Writes to an embedded store take a file lock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from rag import chunking, citations, claims, documents
from rag.config import Settings
from rag.embedding import Embedder, build_embedder
from rag.engines.base import REFUSAL, Draft, Engine, TokenSink
from rag.errors import CitechatError, DocumentNotFound, StoreBusy, StoreUnavailable
from rag.retrieval import retrieve
from rag.store import DocInfo, Store, open_store
from rag.types import Citation, Document, Passage, Response, Turn

Status = Literal["added", "updated", "unchanged", "failed"]
LOCK_WAIT_S = 30.0


@dataclass(frozen=True)
class FileResult:
    name: str
    status: Status
    chunks: int = 0
    reason: str = ""


@dataclass
class IngestReport:
    results: list[FileResult] = field(default_factory=list)
    orphans_removed: int = 0

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def exit_code(self) -> int:
        """0: all good; 3: partial (some files failed); 1: every file failed."""
        failed = self.count("failed")
        if failed == 0:
            return 0
        return 1 if failed == len(self.results) else 3


class Pipeline:
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

    # -- writing ---------------------------------------------------------------------

    @contextmanager
    def _write_lock(self):
        from filelock import FileLock, Timeout

        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.settings.data_dir / "write.lock"))
        try:
            lock.acquire(timeout=LOCK_WAIT_S)
        except Timeout:
            raise StoreBusy(
                f"The store in {self.settings.data_dir} is busy: another citechat process has "
                f"been writing to it for over {LOCK_WAIT_S:.0f} s.") from None
        try:
            self.store.refresh()  # see what other processes wrote before writing after them
            yield
        finally:
            lock.release()

    @contextmanager
    def _store_failure(self):
        """A store lost mid-write (a Chroma server gone, a full disk) as one clear error."""
        try:
            yield
        except CitechatError:
            raise
        except Exception as exc:  # chromadb and httpx have many error types, none ours
            where = self.settings.chroma_url or self.settings.data_dir
            raise StoreUnavailable(
                f"Writing to the store at {where} failed ({type(exc).__name__}: {exc}); what "
                "was written before is kept, and running the same command again resumes."
            ) from exc

    def _store_document(self, doc: Document) -> FileResult:
        with self._store_failure():
            known = self.store.document(doc.name)
        if known is not None and known.content_hash == doc.content_hash:
            return FileResult(doc.name, "unchanged", known.chunks)
        chunks = chunking.chunk_document(doc, self.settings.chunk_size, self.settings.chunk_overlap)
        title = chunking.title_of(doc)
        contexts = [chunking.context_for(doc, c, title) for c in chunks]
        vectors = self.embedder.embed(
            [f"{x} {c.text}".strip() for x, c in zip(contexts, chunks, strict=True)])
        weights = chunking.boilerplate_weights(doc, chunks)
        sentences = [(c.id, s) for c in chunks for s in chunking.sentences_of(doc, c)]
        sentence_vectors = self.embedder.embed([s.text for _, s in sentences])
        with self._store_failure():
            self.store.put(doc, chunks, vectors, weights, contexts, sentences, sentence_vectors)
        return FileResult(doc.name, "updated" if known else "added", len(chunks))

    def _ingest_one(self, name: str, load: Callable[[], Document]) -> FileResult:
        try:
            return self._store_document(load())
        except StoreUnavailable:
            raise  # not this file's fault: the whole ingest stops
        except CitechatError as exc:
            return FileResult(name, "failed", reason=str(exc))
        except OSError as exc:
            return FileResult(name, "failed", reason=f"cannot read the file ({exc.strerror})")

    @property
    def max_bytes(self) -> int:
        return int(self.settings.max_file_mb * 1_000_000)

    def ingest(self, paths: Sequence[Path], progress: bool = False,
               on_file: Callable[[int, int, FileResult], None] | None = None) -> IngestReport:
        """Ingest files and folders; each file's outcome is in the report, none raises.

        `progress` shows a progress bar on the terminal; `on_file(done, total, result)` is
        called after each file (the app's progress indicator)."""
        candidates = list(documents.find_files(list(paths)))
        report = IngestReport()
        # Nothing before the lock may read vectors: an embedded Chroma that loaded its index
        # before another process wrote corrupts the store when it writes (tests/test_crash.py).
        with self._write_lock(), self._store_failure():
            report.orphans_removed = self.store.repair()
            for candidate in _progress(candidates, progress):
                result = self._ingest_one(
                    candidate.name, lambda c=candidate: documents.load(c, self.max_bytes))
                report.results.append(result)
                if on_file:
                    on_file(len(report.results), len(candidates), result)
        return report

    def ingest_bytes(self, filename: str, data: bytes) -> FileResult:
        """Ingest one uploaded file under a sanitised name."""
        name = documents.safe_name(filename)
        with self._write_lock():
            return self._ingest_one(name, lambda: documents.parse(name, data, self.max_bytes))

    def remove(self, name: str) -> None:
        with self._write_lock(), self._store_failure():
            self.store.delete(name)

    # -- reading ---------------------------------------------------------------------

    def documents(self) -> list[DocInfo]:
        return self.store.list_documents()

    def source_text(self, name: str) -> str:
        return self.store.source_text(name)

    def retrieve(self, query: str, k: int | None = None, docs: Sequence[str] | None = None,
                 budget_chars: int | None = None) -> list[Passage]:
        """Passages filling `budget_chars` (the context budget unless given), at most `k`
        chunks (the settings' k unless given; none: no cap)."""
        self._check_docs(docs)
        return retrieve(self.store, self.embedder, query, k or self.settings.k, docs,
                        budget_chars or self.settings.context_chars)

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
        started = time.perf_counter()
        standalone = self.engine.condense(history, question) if history else question
        passages = self.retrieve(standalone, docs=docs, budget_chars=self.settings.context_chars)
        retrieved = time.perf_counter()
        draft = self.engine.answer(standalone, passages, on_token)
        return self._finish(question, standalone, draft, passages, started, retrieved)

    def summarize(self, docs: Sequence[str] | None = None, instruction: str = "",
                  on_token: TokenSink | None = None) -> Response:
        """A cited summary of whole documents (all of the collection when `docs` is empty)."""
        self._check_docs(docs)
        started = time.perf_counter()
        wanted = set(docs or [d.name for d in self.documents()])
        table = self.store.table()
        # a unit's score carries its chunk's boilerplate weight, so summaries can skip it
        units = [Passage(c.doc, c.start, c.end, float(table.weights[row]), c.text)
                 for row, c in ((r, table.chunk(r)) for r in range(len(table.ids)))
                 if c.doc in wanted]
        gathered = time.perf_counter()
        title = "Summarize: " + (", ".join(sorted(wanted)) if docs else "the whole collection")
        draft = self.engine.summarize(units, instruction, on_token)
        response = self._finish(title, title, draft, units, started, gathered)
        # the passages of a summary are the chunks it cites, not every chunk it read
        response.passages = [u for u in units if any(
            c.doc == u.doc and u.start <= c.start < u.end for c in response.citations)]
        return response

    def _finish(self, question: str, standalone: str, draft: Draft, passages: list[Passage],
                started: float, retrieved: float) -> Response:
        """Citations resolved to exact spans, each claim checked against them."""
        resolved = citations.resolve(draft.text, draft.sources)
        answer, cited = resolved.answer, resolved.citations
        found = [] if draft.refused else claims.check(answer, cited, self.embedder)
        if self.settings.drop_unsupported and any(c.verdict == "unsupported" for c in found):
            answer, cited, found = self._without_unsupported(found, cited)
        done = time.perf_counter()
        return Response(
            question=question,
            standalone_question=standalone,
            answer=(draft.text.strip() or REFUSAL) if draft.refused else answer,
            refused=draft.refused,
            citations=[] if draft.refused else cited,
            passages=passages,
            engine=self.engine.name,
            timings_ms={"retrieve": round((retrieved - started) * 1000, 1),
                        "generate": round((done - retrieved) * 1000, 1),
                        "total": round((done - started) * 1000, 1)},
            claims=[c.to_dict() for c in found],
        )

    def _without_unsupported(self, found: list[claims.Claim], cited: list[Citation]):
        """The answer rebuilt from its supported sentences, citations renumbered."""
        kept = [c for c in found if c.verdict != "unsupported"]
        text = " ".join(c.sentence + "".join(f"[{n}]" for n in c.citations) for c in kept)
        sources = [Passage(c.doc, c.start, c.end, 1.0, c.text) for c in cited]
        resolved = citations.resolve(text, sources)
        return resolved.answer, resolved.citations, claims.check(
            resolved.answer, resolved.citations, self.embedder)


def _progress(items: Iterable, enabled: bool):
    if not enabled:
        return items
    from tqdm import tqdm

    return tqdm(items, desc="Ingesting", unit="file")
