"""Wires the stages together: ingest, list, remove, retrieve, ask, summarize.

This is the one module that knows the whole story; read it top to bottom:
files -> documents.parse -> chunking -> embedding -> store (ingest), and
question -> engine.condense -> retrieval -> engine.answer -> citations.resolve (ask);
a typed request for a summary (rag/intents.py) goes to summarize instead.
Heavy objects (embedder, Chroma client, chat model) are built once by `Pipeline.build`
and passed in, so tests can hand it fakes. Writes to an embedded store take a file lock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, TypeVar

from rag import chunking, citations, claims, documents, intents
from rag.config import Settings
from rag.embedding import Embedder, build_embedder
from rag.engines.base import REFUSAL, Draft, Engine, TokenSink
from rag.errors import (
    CitechatError,
    DocumentNotFound,
    ModelUnavailable,
    StoreBusy,
    StoreUnavailable,
    raised_as,
)
from rag.originals import Originals
from rag.progress import SILENT, Bars, Silent
from rag.retrieval import retrieve
from rag.store import DocInfo, Store, open_store
from rag.summaries import Length, SummaryRequest
from rag.types import Citation, Document, Passage, Response, Turn, pages_of

Status = Literal["added", "updated", "unchanged", "failed"]
Span = TypeVar("Span", Passage, Citation)
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

    def _store_failure(self):
        """A store lost mid-write (a Chroma server gone, a full disk) as one clear error."""
        where = self.settings.chroma_url or self.settings.data_dir
        return raised_as(StoreUnavailable, f"Writing to the store at {where} failed",
                         "; what was written before is kept, and running the same command "
                         "again resumes.")

    def _store_document(self, doc: Document, furniture: Sequence[tuple[int, int]] = (),
                        shown: Silent = SILENT) -> FileResult:
        with self._store_failure():
            known = self.store.document(doc.name)
        if known is not None and known.content_hash == doc.content_hash:
            return FileResult(doc.name, "unchanged", known.chunks)
        chunks = chunking.chunk_document(doc, self.settings.chunk_size, self.settings.chunk_overlap)
        contexts = [chunking.context_for(doc, c, doc.title) for c in chunks]
        weights = chunking.boilerplate_weights(doc, chunks, furniture)
        sentences = [(c.id, s) for c in chunks for s in chunking.sentences_of(doc, c)]
        # an embedder failing in a way it did not name (onnxruntime, memory) is still the model's
        with raised_as(ModelUnavailable, f"The embedding model {self.embedder.model_id} failed"):
            vectors = shown.embed(self.embedder.embed,
                [f"{x} {c.text}".strip() for x, c in zip(contexts, chunks, strict=True)])
            sentence_vectors = shown.embed(self.embedder.embed, [s.text for _, s in sentences])
        with self._store_failure():
            self.store.put(doc, chunks, vectors, weights, contexts, sentences, sentence_vectors)
        return FileResult(doc.name, "updated" if known else "added", len(chunks))

    def _ingest_one(self, name: str, load: Callable[[], documents.Loaded],
                    shown: Silent = SILENT) -> FileResult:
        """One file read and stored. A file that cannot be read fails alone; a store or
        an embedder that fails stops the whole ingest (it would fail every file alike)."""
        try:
            loaded = load()
        except CitechatError as exc:
            return FileResult(name, "failed", reason=str(exc))
        except OSError as exc:
            return FileResult(name, "failed", reason=f"cannot read the file ({exc.strerror})")
        except Exception as exc:  # a reader tripping over this one file
            return FileResult(name, "failed", reason=f"cannot read the file "
                              f"({type(exc).__name__}: {exc})")
        if loaded.original is not None:  # before the entry that names it (originals.py)
            with self._store_failure():
                self.originals.keep(loaded.document.content_hash, Path(name).suffix,
                                    loaded.original)
        try:
            return self._store_document(loaded.document, loaded.furniture, shown)
        except (StoreUnavailable, ModelUnavailable):
            raise
        except CitechatError as exc:
            return FileResult(name, "failed", reason=str(exc))

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
        with self._write_lock():
            with self._store_failure():
                report.orphans_removed = self.store.repair()
            for candidate in _progress(candidates, progress):
                shown = Bars(candidate.name) if progress else SILENT  # a large file's own
                try:
                    result = self._ingest_one(candidate.name, lambda c=candidate, s=shown: (
                        documents.load(c, self.max_bytes, s.page)), shown)
                except ModelUnavailable as exc:
                    raise _stopped(exc, candidate.name, len(report.results),
                                   len(candidates)) from None
                finally:
                    shown.close()
                report.results.append(result)
                if on_file:
                    on_file(len(report.results), len(candidates), result)
            with self._store_failure():
                self._prune_originals()
        return report

    def ingest_bytes(self, filename: str, data: bytes) -> FileResult:
        """Ingest one uploaded file under a sanitised name."""
        name = documents.safe_name(filename)
        with self._write_lock():
            result = self._ingest_one(name, lambda: documents.read(name, data, self.max_bytes))
            self._prune_originals()
            return result

    def remove(self, name: str) -> None:
        with self._write_lock(), self._store_failure():
            self.store.delete(name)
            self._prune_originals()

    @property
    def originals(self) -> Originals:
        return Originals(self.settings.data_dir)

    def _prune_originals(self) -> None:
        if self.originals.folder.is_dir():
            self.originals.prune(d.content_hash for d in self.store.list_documents())

    def original(self, name: str) -> bytes | None:
        """The file document `name` was read from, when it is kept (PDFs, in this data
        directory), else None."""
        info = self.store.document(name)
        return None if info is None else self.originals.get(info.content_hash, Path(name).suffix)

    # -- reading ---------------------------------------------------------------------

    def documents(self) -> list[DocInfo]:
        return self.store.list_documents()

    def source_text(self, name: str) -> str:
        return self.store.source_text(name)

    def retrieve(self, query: str, k: int | None = None, docs: Sequence[str] | None = None,
                 budget_chars: int | None = None) -> list[Passage]:
        self._check_docs(docs)
        found = retrieve(self.store, self.embedder, query, k or self.settings.k, docs,
                         budget_chars)
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
        found = [] if draft.refused else claims.check(answer, cited, self.embedder)
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

    def _without_unsupported(self, found: list[claims.Claim], cited: list[Citation]):
        """The answer rebuilt from its supported sentences, citations renumbered."""
        kept = [c for c in found if c.verdict != "unsupported"]
        text = " ".join(c.sentence + "".join(f"[{n}]" for n in c.citations) for c in kept)
        sources = [Passage(c.doc, c.start, c.end, 1.0, c.text) for c in cited]
        resolved = citations.resolve(text, sources)
        located = self._located(resolved.citations)
        return resolved.answer, located, claims.check(resolved.answer, located, self.embedder)


def _stopped(exc: ModelUnavailable, name: str, done: int, total: int) -> ModelUnavailable:
    """The embedder's failure, saying where the ingest stopped."""
    return ModelUnavailable(f"{exc} The ingest stopped at {name} ({done} of {total} files "
                            "done); what was stored is kept, and running the same command "
                            "again carries on from there.")


def _progress(items: Iterable, enabled: bool):
    if not enabled:
        return items
    from tqdm import tqdm

    return tqdm(items, desc="Ingesting", unit="file")
