"""Saved conversations: a small SQLite database in the data directory.

A chat is a titled list of messages; an assistant message keeps the full response
(answer, citations, passages) as JSON so a reloaded chat shows the same sources. Also
exports a chat as Markdown with each citation as a footnote quoting its span. It does
not answer anything and knows nothing of Streamlit.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS chats (
    id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content TEXT NOT NULL, response TEXT, created REAL NOT NULL);
"""
UNTITLED = "New chat"


@dataclass(frozen=True)
class Chat:
    id: int
    title: str
    created: float


@dataclass(frozen=True)
class Message:
    role: str
    content: str
    response: dict[str, Any] | None = None


class ChatStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # one short-lived connection per call: safe across Streamlit's script threads
        db = sqlite3.connect(self.path, timeout=10)
        db.execute("PRAGMA foreign_keys = ON")
        try:
            with db:
                yield db
        finally:
            db.close()

    def create(self, title: str = UNTITLED) -> int:
        with self._connect() as db:
            return int(db.execute("INSERT INTO chats (title, created) VALUES (?, ?)",
                                  (title, time.time())).lastrowid)

    def chats(self) -> list[Chat]:
        with self._connect() as db:
            rows = db.execute("SELECT id, title, created FROM chats ORDER BY created DESC, id DESC")
            return [Chat(*row) for row in rows]

    def title(self, chat_id: int) -> str:
        with self._connect() as db:
            row = db.execute("SELECT title FROM chats WHERE id = ?", (chat_id,)).fetchone()
        return row[0] if row else UNTITLED

    def messages(self, chat_id: int) -> list[Message]:
        with self._connect() as db:
            rows = db.execute("SELECT role, content, response FROM messages WHERE chat_id = ? "
                              "ORDER BY id", (chat_id,)).fetchall()
        return [Message(role, content, json.loads(response) if response else None)
                for role, content, response in rows]

    def append(self, chat_id: int, role: str, content: str,
               response: dict[str, Any] | None = None) -> None:
        with self._connect() as db:
            db.execute("INSERT INTO messages (chat_id, role, content, response, created) "
                       "VALUES (?, ?, ?, ?, ?)",
                       (chat_id, role, content, json.dumps(response) if response else None,
                        time.time()))
            if role == "user":  # a chat is named after its first question
                db.execute("UPDATE chats SET title = ? WHERE id = ? AND title = ?",
                           (content[:60], chat_id, UNTITLED))

    def delete(self, chat_id: int) -> None:
        with self._connect() as db:
            db.execute("DELETE FROM chats WHERE id = ?", (chat_id,))


def export_markdown(title: str, messages: list[Message]) -> str:
    """The chat as Markdown; citation `[n]` of each answer becomes a footnote `[^k]`
    quoting the cited span with its document and offsets."""
    lines = [f"# {title}", ""]
    footnotes: list[str] = []
    for message in messages:
        if message.role == "user":
            lines += [f"**You:** {message.content}", ""]
            continue
        text = message.content
        for citation in (message.response or {}).get("citations", []):
            footnotes.append(citation)
            text = text.replace(f"[{citation['n']}]", f"[^{len(footnotes)}]")
        lines += [f"**citechat:** {text}", ""]
    for k, citation in enumerate(footnotes, start=1):
        quote = " ".join(citation["text"].split())
        lines.append(f"[^{k}]: {citation['doc']}, characters {citation['start']}–"
                     f"{citation['end']}: “{quote}”")
    return "\n".join(lines).rstrip() + "\n"
