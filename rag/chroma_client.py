"""Opening Chroma: an HTTP client for a server URL, a persistent client on a folder
otherwise, with any failure to open turned into one StoreUnavailable line. It opens
clients only: collections, reads and writes are rag/store.py's."""

from __future__ import annotations

import threading
from pathlib import Path
from urllib.parse import urlparse

from rag.errors import StoreUnavailable

_CONNECTING = threading.Lock()


def connect(chroma_url: str | None, data_dir: Path, fresh: bool = False):
    """A Chroma client: HttpClient for a server URL, PersistentClient otherwise.

    `fresh` drops this process's cached embedded system first: an embedded client does
    not see what other processes wrote to the same folder after it opened it."""
    import chromadb
    from chromadb.api.shared_system_client import SharedSystemClient
    from chromadb.config import Settings as ChromaSettings

    options = ChromaSettings(anonymized_telemetry=False)
    try:
        if chroma_url:
            url = urlparse(chroma_url)
            if url.scheme not in ("http", "https") or not url.hostname:
                raise StoreUnavailable(f"Invalid Chroma URL {chroma_url!r}: use http://host:port")
            return chromadb.HttpClient(
                host=url.hostname, port=url.port or (443 if url.scheme == "https" else 80),
                ssl=url.scheme == "https", settings=options,
            )
        data_dir.mkdir(parents=True, exist_ok=True)
        with _CONNECTING:  # two threads clearing the cache at once break each other
            if fresh:
                SharedSystemClient.clear_system_cache()
            return chromadb.PersistentClient(path=str(data_dir / "chroma"), settings=options)
    except StoreUnavailable:
        raise
    except Exception as exc:  # chromadb raises bare Exceptions and ValueErrors here
        where = chroma_url or str(data_dir / "chroma")
        raise StoreUnavailable(f"Cannot open the Chroma store at {where}: {exc}") from None
