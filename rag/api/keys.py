"""API keys: the ones in `CITECHAT_API_KEYS`, and a keys file in the data directory.

The file (`api-keys.json`, mode 0600) holds each key's SHA-256 hash, never the key: a key is
shown once, by `citechat keys create`. Keys are 32 random bytes, so an unsalted hash is
as safe as a slow one and lets a request be checked in microseconds. The file is re-read
when it changes, so `keys create` and `keys revoke` take effect on a running server.

It leaves out scopes, expiry and rate limits: a key grants the whole API.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from rag.config import Settings
from rag.errors import CitechatError, Unauthorized

FILENAME = "api-keys.json"
PREFIX = "cc-"


@dataclass(frozen=True)
class KeyEntry:
    """A key as the file keeps it: an id to name it by, its hash, its first characters."""

    id: str
    name: str
    created: str
    hint: str  # the key's first characters, to tell keys apart in a listing
    sha256: str


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class KeysFile:
    """The keys file of one data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / FILENAME

    def entries(self) -> list[KeyEntry]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            return [KeyEntry(**entry) for entry in raw["keys"]]
        except FileNotFoundError:
            return []
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CitechatError(f"Cannot read the API keys file {self.path}: {exc}") from None

    def _write(self, entries: list[KeyEntry]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{FILENAME}.{os.getpid()}")
        # created 0600, so the hashes are never readable by others, not even for a moment
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            json.dump({"version": 1, "keys": [asdict(e) for e in entries]}, out, indent=1)
        os.replace(temporary, self.path)

    def create(self, name: str = "") -> tuple[KeyEntry, str]:
        """A new key, stored hashed; returns its entry and the key itself (shown once)."""
        key = PREFIX + secrets.token_urlsafe(32)
        entries = self.entries()
        entry = KeyEntry(id=secrets.token_hex(4), name=name.strip(),
                         created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                         hint=key[:len(PREFIX) + 4] + "…", sha256=_digest(key))
        self._write([*entries, entry])
        return entry, key

    def revoke(self, id_or_name: str) -> list[KeyEntry]:
        """Removes the keys with this id (or, failing that, this name); returns them."""
        entries = self.entries()
        gone = [e for e in entries if e.id == id_or_name] or \
               [e for e in entries if e.name and e.name == id_or_name]
        if not gone:
            raise CitechatError(f"No API key with the id or name {id_or_name!r} "
                                "(`citechat keys list` shows them).")
        self._write([e for e in entries if e not in gone])
        return gone


class KeyRing:
    """Every key a request may carry: the settings' and the keys file's (re-read when the
    file changes). A ring that had keys when it was made requires one for ever, even if
    all are revoked later (then nothing gets in): a server bound beyond loopback because
    it had keys must never become open. A ring made without keys requires one as soon as
    one is created."""

    def __init__(self, settings: Settings) -> None:
        self._from_settings = frozenset(_digest(k) for k in settings.api_keys)
        self._file = KeysFile(settings.data_dir)
        self._lock = threading.Lock()
        self._seen: tuple[float, int] | None = None  # the file's (mtime, size) when read
        self._from_file: frozenset[str] = frozenset()
        self._locked = bool(self._known())

    def _known(self) -> frozenset[str]:
        try:
            stat = self._file.path.stat()
            seen = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            seen = None
        with self._lock:
            if seen != self._seen:
                self._from_file = frozenset(e.sha256 for e in self._file.entries())
                self._seen = seen
            return self._from_settings | self._from_file

    @property
    def required(self) -> bool:
        return self._locked or bool(self._known())

    def check(self, authorization: str | None) -> None:
        """Raises Unauthorized unless the `Authorization` header carries a known key (or
        no key is required)."""
        if not self.required:
            return
        scheme, _, key = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise Unauthorized("Missing API key: send it as the header "
                               "'Authorization: Bearer <key>'.")
        digest = _digest(key.strip())
        # compare_digest against every key: no early exit to time
        if not any([hmac.compare_digest(digest, known) for known in self._known()]):
            raise Unauthorized("Invalid API key.")
