"""Whether a store's view is current: a mark while a write is in progress and a token
every finished write changes, both kept where every process sharing the store sees them.
The mark lives in the docs collection's metadata (so it outlives a crash in both modes);
the token too on a server, and in a small file beside an embedded store, since an
embedded client cannot see other processes' writes until it is reopened. It decides
nothing itself: rag/store.py reopens its client and rereads its table when the token
moves."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from pathlib import Path


class Generations:
    def __init__(self, docs: Callable[[], tuple[object, object]], file: Path | None) -> None:
        """`docs` gives the current (client, docs collection): the store reopens its
        client when another process wrote. `file` is the embedded store's token file."""
        self._docs = docs
        self.file = file
        # One store serves every session of the app: a write's token and the check of it
        # by readers in other threads must not interleave.
        self.lock = threading.Lock()
        self.own: str | None = None  # the last token this store wrote
        self.seen = self.current()  # the token the open client reflects

    def _metadata(self) -> dict:
        client, documents = self._docs()
        return dict(client.get_collection(documents.name).metadata or {})  # type: ignore[attr-defined]

    def _set(self, **values: str | bool) -> None:
        _, documents = self._docs()
        documents.modify(metadata=self._metadata() | values)  # type: ignore[attr-defined]

    def last_write_finished(self) -> bool:
        return self._metadata().get("writing") is False

    def mark_writing(self) -> None:
        self._set(writing=True)

    def current(self) -> str:
        """The token: one small file read (embedded) or one cheap metadata read (server)."""
        if self.file is not None:
            try:
                return self.file.read_text(encoding="utf-8")
            except OSError:
                return ""
        return str(self._metadata().get("generation", ""))

    def others_wrote(self, token: str) -> bool:
        return token not in (self.seen, self.own)

    def bump(self) -> None:
        """A new token, at the end of a write: the write is over, the mark goes."""
        token = uuid.uuid4().hex
        with self.lock:  # readers in other threads must not see it half-done
            if self.file is None:
                self._set(generation=token, writing=False)
            else:
                self._set(writing=False)
                partial = self.file.with_suffix(".tmp")
                partial.write_text(token, encoding="utf-8")
                partial.replace(self.file)
            self.own = self.seen = token
