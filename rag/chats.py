"""Saved conversations: a small SQLite database in the data directory.

A chat is a titled list of messages; an assistant message keeps the full response
(answer, citations, passages, scope) as JSON, so a reloaded chat shows the same sources.
Each chat has an owner (a signed-in user, a browser's id, or "" for the shared space
every visitor sees in shared mode, and chats saved before owners existed); listing,
opening and deleting take the owner asking, and `None` (every owner) is for tests and
tools. `export_markdown` turns a chat into Markdown with each citation as a footnote
quoting its span, with the document's title and the pages it is printed on. It does not
answer anything and knows nothing of Streamlit or of who is signed in.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.render import page_label, short

FILENAME = "chats.sqlite3"
UNTITLED = "New chat"
TITLE_CHARS = 60
SCHEMA = """
CREATE TABLE IF NOT EXISTS chats (
    id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL, created REAL NOT NULL,
    owner TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content TEXT NOT NULL, response TEXT, created REAL NOT NULL);
"""
# a store made before chats had owners gets the column, its chats in the shared space
ADD_OWNER = "ALTER TABLE chats ADD COLUMN owner TEXT NOT NULL DEFAULT ''"
_MARKER = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True)
class Message:
    role: str  # "user" or "assistant"
    content: str
    # assistant: Response.to_dict() plus "scope" (or "error" / "stopped");
    # user: what was asked for ("docs", "summary", "length"), so that Retry can redo it
    response: dict[str, Any] | None = None


@dataclass(frozen=True)
class Chat:
    id: int
    title: str
    created: float
    messages: tuple[Message, ...] = ()  # empty in listings; filled by `load`


class ChatStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(SCHEMA)
            columns = {row[1] for row in db.execute("PRAGMA table_info(chats)")}
            if "owner" not in columns:
                with suppress(sqlite3.OperationalError):  # another process added it meanwhile
                    db.execute(ADD_OWNER)

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

    def create(self, title: str = UNTITLED, owner: str = "") -> int:
        with self._connect() as db:
            return int(db.execute("INSERT INTO chats (title, created, owner) VALUES (?, ?, ?)",
                                  (title, time.time(), owner)).lastrowid)

    def chats(self, owner: str | None = None) -> list[Chat]:
        """`owner`'s chats (every chat for None), newest first, without their messages."""
        with self._connect() as db:
            rows = db.execute("SELECT id, title, created FROM chats WHERE ? IS NULL OR owner = ? "
                              "ORDER BY created DESC, id DESC", (owner, owner))
            return [Chat(*row) for row in rows]

    def load(self, chat_id: int, owner: str | None = None) -> Chat | None:
        """The chat with its messages; None when it is gone or not `owner`'s."""
        with self._connect() as db:
            row = db.execute("SELECT id, title, created FROM chats WHERE id = ? "
                             "AND (? IS NULL OR owner = ?)", (chat_id, owner, owner)).fetchone()
            if row is None:
                return None
            rows = db.execute("SELECT role, content, response FROM messages WHERE chat_id = ? "
                              "ORDER BY id", (chat_id,)).fetchall()
        messages = tuple(Message(role, content, json.loads(response) if response else None)
                         for role, content, response in rows)
        return Chat(*row, messages=messages)

    def rename(self, chat_id: int, title: str) -> None:
        with self._connect() as db:
            db.execute("UPDATE chats SET title = ? WHERE id = ?", (_title(title), chat_id))

    def append(self, chat_id: int, role: str, content: str,
               response: dict[str, Any] | None = None) -> bool:
        """Add a message; a chat still untitled is named after its first question. False
        (nothing written) when the chat is gone: deleted from another window meanwhile."""
        with self._connect() as db:
            added = db.execute(
                "INSERT INTO messages (chat_id, role, content, response, created) "
                "SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM chats WHERE id = ?)",
                (chat_id, role, content, json.dumps(response) if response else None,
                 time.time(), chat_id)).rowcount
            if added and role == "user":
                db.execute("UPDATE chats SET title = ? WHERE id = ? AND title = ?",
                           (_title(content), chat_id, UNTITLED))
        return bool(added)

    def drop_last_reply(self, chat_id: int) -> None:
        """Removes the chat's last message if it is a reply (a stopped or failed one, about
        to be retried); a question is never removed."""
        with self._connect() as db:
            db.execute("DELETE FROM messages WHERE id = (SELECT MAX(id) FROM messages "
                       "WHERE chat_id = ?) AND role = 'assistant'", (chat_id,))

    def delete(self, chat_id: int, owner: str | None = None) -> bool:
        """Deletes the chat if it is `owner`'s (any chat for None); True if it did."""
        with self._connect() as db:
            return bool(db.execute("DELETE FROM chats WHERE id = ? AND (? IS NULL OR owner = ?)",
                                   (chat_id, owner, owner)).rowcount)


def _title(text: str) -> str:
    return short(text, TITLE_CHARS) or UNTITLED


def export_markdown(chat: Chat) -> str:
    """The chat as Markdown. Each answer's `[n]` becomes a footnote `[^k]` (numbered
    through the whole chat) quoting the cited span with its document and offsets."""
    lines = [f"# {chat.title}", ""]
    footnotes: list[dict[str, Any]] = []
    for message in chat.messages:
        if message.role == "user":
            lines += [f"**You:** {message.content}", ""]
            continue
        response = message.response or {}
        by_n: dict[int, int] = {}  # this answer's n -> footnote number in the chat
        for citation in response.get("citations", []):
            footnotes.append(citation)
            by_n[citation["n"]] = len(footnotes)

        def footnote(match: re.Match[str], by_n: dict[int, int] = by_n) -> str:
            k = by_n.get(int(match.group(1)))
            return f"[^{k}]" if k else match.group(0)

        if response.get("scope"):
            lines += [f"*Sources: {response['scope']}*", ""]
        lines += [f"**citechat:** {_MARKER.sub(footnote, message.content)}", ""]
    for k, citation in enumerate(footnotes, start=1):
        quote = " ".join(citation["text"].split())
        title = " ".join((citation.get("title") or "").split())
        named = f"{title} ({citation['doc']})" if title else citation["doc"]
        page = page_label(citation.get("pages"))
        lines.append(f"[^{k}]: {named}, {page + ', ' if page else ''}characters "
                     f"{citation['start']}–{citation['end']}: “{quote}”")
    return "\n".join(lines).rstrip() + "\n"
