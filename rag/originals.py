"""The original files behind documents whose pages citations show (PDFs), kept in the
data directory: `<data_dir>/originals/<content hash><suffix>`.

Keyed by the hash of the extracted text, so a document's entry in the store names its
file and two copies of one file are kept once. A file is written before the document's
entry (the store's commit point) and files no stored document names are pruned after
every write, so an interrupted ingest leaves nothing behind for long. With a Chroma
server the files stay in the data directory of the machine that ingested them; clients
elsewhere show the text view instead of the page. It does not read PDFs.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

FOLDER = "originals"


class Originals:
    def __init__(self, data_dir: Path) -> None:
        self.folder = data_dir / FOLDER

    def path(self, content_hash: str, suffix: str) -> Path:
        return self.folder / f"{content_hash}{suffix.lower()}"

    def keep(self, content_hash: str, suffix: str, data: bytes) -> None:
        """Write the file atomically (a reader never sees half of it)."""
        target = self.path(content_hash, suffix)
        if target.exists() and target.stat().st_size == len(data):
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        partial.write_bytes(data)
        partial.replace(target)

    def get(self, content_hash: str, suffix: str) -> bytes | None:
        try:
            return self.path(content_hash, suffix).read_bytes()
        except OSError:
            return None

    def prune(self, live_hashes: Iterable[str]) -> int:
        """Delete the files no stored document names; returns how many."""
        live = set(live_hashes)
        removed = 0
        for path in self.folder.glob("*") if self.folder.is_dir() else ():
            stem = path.name.split(".")[0] or path.name.split(".")[1]
            if stem not in live:
                path.unlink(missing_ok=True)
                removed += 1
        return removed
