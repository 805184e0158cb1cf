"""Writing a collection: files and uploads read (rag/documents.py), chunked, embedded and
stored (rag/store.py) under one file lock per data directory, each file's outcome in a
report; removals; the kept original files (rag/originals.py). A file that cannot be read
fails alone; a store or embedding model that fails stops the ingest with one line saying
where, and running it again resumes. It answers nothing: rag/pipeline.py reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from rag import chunking, documents
from rag.config import Settings
from rag.embedding import Embedder
from rag.errors import CitechatError, ModelUnavailable, StoreBusy, StoreUnavailable, raised_as
from rag.originals import Originals
from rag.progress import SILENT, Bars, Silent
from rag.store import Store
from rag.types import Document

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


class Writer:
    """The writing half of a Pipeline (which supplies `settings`, `embedder`, `store`)."""

    settings: Settings
    embedder: Embedder
    store: Store

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
