"""Writing a collection: files and uploads read (rag/documents.py), chunked, embedded and
stored (rag/store.py) under one file lock per data directory, each file's outcome in a
report; removals; the kept original files (rag/originals.py). Documents are embedded and
written in batches (rag/batches.py): every distinct text embedded once, the model's runs
side by side on the cores (rag/embedding.py). A file that cannot be read fails alone; a
store or embedding model that fails stops the ingest with one line saying where, and
running it again resumes. It answers nothing: rag/pipeline.py reads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from rag import documents
from rag.batches import Batches, Prepared, Progress, embed_batch
from rag.chunk_table import DocInfo
from rag.config import Settings
from rag.embedding import Embedder
from rag.errors import CitechatError, ModelUnavailable, StoreBusy, StoreUnavailable, raised_as
from rag.originals import Originals
from rag.progress import SILENT, Bars, Silent
from rag.store import Store, Version
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

    def _prepare(self, doc: Document, furniture: Sequence[tuple[int, int]] = (),
                 stored: Mapping[str, DocInfo] | None = None) -> Prepared | FileResult:
        """The document chunked, ready to embed; or its result when it is unchanged.
        `stored` (name -> DocInfo), when given, is the store's listing read once for a
        whole ingest; otherwise the store is asked for this one document."""
        if stored is None:
            with self._store_failure():
                known = self.store.document(doc.name)
        else:
            known = stored.get(doc.name)
        if known is not None and known.content_hash == doc.content_hash:
            return FileResult(doc.name, "unchanged", known.chunks)
        return Prepared.of(doc, self.settings, furniture, "updated" if known else "added")

    def _embedded(self, batch: Sequence[Prepared], shown: Silent = SILENT) -> list[Version]:
        # an embedder failing in a way it did not name (onnxruntime, memory) is still the model's
        with raised_as(ModelUnavailable, f"The embedding model {self.embedder.model_id} failed"):
            return embed_batch(batch, lambda texts: shown.embed(self.embedder.embed, texts))

    def _write(self, versions: Sequence[Version]) -> None:
        with self._store_failure():
            self.store.put(versions)

    def _read(self, name: str, load: Callable[[], documents.Loaded],
              shown: Silent = SILENT, stored: Mapping[str, DocInfo] | None = None
              ) -> Prepared | FileResult:
        """One file read and chunked. A file that cannot be read fails alone; a store
        that fails stops the whole ingest (it would fail every file alike)."""
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
            return self._prepare(loaded.document, loaded.furniture, stored)
        except StoreUnavailable:
            raise
        except CitechatError as exc:
            return FileResult(name, "failed", reason=str(exc))

    def _ingest_one(self, name: str, load: Callable[[], documents.Loaded]) -> FileResult:
        got = self._read(name, load)
        if isinstance(got, FileResult):
            return got
        self._write(self._embedded([got]))
        return got.result

    @property
    def max_bytes(self) -> int:
        return int(self.settings.max_file_mb * 1_000_000)

    def ingest(self, paths: Sequence[Path], progress: bool = False,
               on_file: Callable[[int, int, FileResult], None] | None = None) -> IngestReport:
        """Ingest files and folders; each file's outcome is in the report, none raises.

        `progress` shows a progress bar on the terminal (files, and chunks per second);
        `on_file(done, total, result)` is called as each file's outcome is known, in
        order (the app's progress indicator)."""
        candidates = list(documents.find_files(list(paths)))
        report = IngestReport()
        # Nothing before the lock may read vectors: an embedded Chroma that loaded its index
        # before another process wrote corrupts the store when it writes (tests/test_crash.py).
        with self._write_lock(), Batches(
                self._embedded, self._write, self.settings.ingest_batch_chunks) as batches:
            with self._store_failure():
                report.orphans_removed = self.store.repair()
                # one listing instead of a lookup per file (an unchanged re-ingest is mostly
                # these); a batch not yet written is not in either
                stored = {info.name: info for info in self.store.list_documents()}
            bar = Progress(len(candidates), progress)

            def done(result: FileResult) -> None:
                report.results.append(result)
                bar.add(result)
                if on_file:
                    on_file(len(report.results), len(candidates), result)

            batches.on_done = done
            for candidate in candidates:
                shown = Bars(candidate.name) if progress else SILENT  # a large file's own
                try:
                    got = self._read(candidate.name, lambda c=candidate, s=shown: (
                        documents.load(c, self.max_bytes, s.page)), shown, stored)
                    batches.add(got, shown)
                except ModelUnavailable as exc:
                    raise _stopped(exc, batches.failed_at or candidate.name,
                                   len(report.results), len(candidates)) from None
                finally:
                    shown.close()
            try:
                batches.finish()
            except ModelUnavailable as exc:
                raise _stopped(exc, batches.failed_at or "", len(report.results),
                               len(candidates)) from None
            bar.close()
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

