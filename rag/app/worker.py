"""Replies made outside the page's script run, so that no answer is lost.

Streamlit stops a script run whenever the page reruns (a new input, a widget touched, a
reload), so an answer found inside the run dies with it. Here each question gets a
thread of its own, keyed by (chat id, turn: the question's index in the chat), that
streams into a buffer the page reads and saves the reply to the chat store when done:
the full reply, the part streamed before Stop (marked "stopped"), or the error (marked
"error"). A page that was interrupted finds the reply saved, or still running, on its
next run. It renders nothing and knows nothing of Streamlit; replies live in this
process only (a question left unanswered by a restart is the page's to offer a Retry).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rag.chats import Chat, ChatStore, Message
from rag.errors import CitechatError
from rag.pipeline import Pipeline
from rag.types import Response, Turn

Key = tuple[int, int]  # (chat id, index of the question among the chat's messages)
Work = Callable[[Callable[[str], None]], Response]  # on_token -> the finished response


class Stopped(Exception):
    """Raised from the token sink to end a streaming reply at the next token."""


@dataclass
class Reply:
    """A reply being made: the text streamed so far, and whether Stop was pressed."""

    key: Key
    owner: str
    question: str
    scope: str
    text: str = ""
    chat_id: int = 0  # where the reply was saved (a new chat if its own was deleted)
    stop_requested: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)

    def add(self, piece: str) -> None:
        if self.stop_requested.is_set():
            raise Stopped
        self.text += piece  # one writer (the worker); readers see a whole str

    def stop(self) -> None:
        self.stop_requested.set()


def request(docs: list[str] | None, summary: bool, length: str = "auto") -> dict[str, Any]:
    """What a question asks for, saved with it so that Retry can ask the same again."""
    return {"docs": docs, "summary": summary, "length": length}


def scope_of(asked: dict[str, Any]) -> str:
    return ", ".join(asked["docs"]) if asked.get("docs") else "all documents"


def history(messages: tuple[Message, ...]) -> list[Turn]:
    """The answered turns of `messages`, for a follow-up's context."""
    return [Turn(m.response.get("standalone_question", ""), m.content) for m in messages
            if m.role == "assistant" and m.response
            and not (m.response.get("error") or m.response.get("stopped"))]


def work_for(pipeline: Pipeline, question: str, asked: dict[str, Any],
             turns: list[Turn]) -> Work:
    docs = asked.get("docs") or None
    if asked.get("summary"):
        return lambda sink: pipeline.summarize(docs, on_token=sink,
                                               length=asked.get("length", "auto"))
    return lambda sink: pipeline.ask(question, turns, docs, on_token=sink)


class Replies:
    """Every reply in progress in this process, shared by all sessions."""

    def __init__(self, chats: ChatStore) -> None:
        self.chats = chats
        self._lock = threading.Lock()
        self._running: dict[Key, Reply] = {}

    def get(self, key: Key) -> Reply | None:
        with self._lock:
            return self._running.get(key)

    def in_chat(self, chat_id: int) -> Reply | None:
        """The reply in progress in chat `chat_id`, if any."""
        with self._lock:
            return next((r for k, r in self._running.items() if k[0] == chat_id), None)

    def ask(self, pipeline: Pipeline, chat: Chat, owner: str, question: str,
            asked: dict[str, Any]) -> int:
        """Saves `question` in `chat` (in a new chat of `owner`'s when `chat` is unsaved
        or gone) and starts its reply. Returns the chat's id."""
        chat_id, messages = chat.id, chat.messages
        if not (chat_id and self.chats.append(chat_id, "user", question, asked)):
            chat_id, messages = self.chats.create(owner=owner), ()
            self.chats.append(chat_id, "user", question, asked)
        work = work_for(pipeline, question, asked, history(messages))
        self.start((chat_id, len(messages)), owner, question, scope_of(asked), work)
        return chat_id

    def retry(self, pipeline: Pipeline, chat: Chat, owner: str) -> None:
        """Asks the chat's last question again, in place of its stopped or failed reply
        (or of none, when the app stopped before it was saved)."""
        messages = chat.messages
        if messages and messages[-1].role == "assistant":
            self.chats.drop_last_reply(chat.id)
            messages = messages[:-1]
        if not messages:
            return
        question, asked = messages[-1].content, messages[-1].response or {}
        work = work_for(pipeline, question, asked, history(messages[:-1]))
        self.start((chat.id, len(messages) - 1), owner, question, scope_of(asked), work)

    def start(self, key: Key, owner: str, question: str, scope: str, work: Work) -> Reply:
        """Starts the reply to the question at `key`, unless it is already running."""
        with self._lock:
            if key in self._running:
                return self._running[key]
            reply = self._running[key] = Reply(key, owner, question, scope)
        threading.Thread(target=self._run, args=(reply, work), daemon=True,
                         name=f"reply-{key[0]}-{key[1]}").start()
        return reply

    def _run(self, reply: Reply, work: Work) -> None:
        try:
            response = work(reply.add)
            content, saved = response.answer, response.to_dict()
        except Stopped:
            content, saved = reply.text, {"stopped": True}
        except CitechatError as exc:
            content, saved = str(exc), {"error": True}
        except Exception as exc:  # saved as the reply: never left unanswered
            content, saved = f"The reply failed: {type(exc).__name__}: {exc}", {"error": True}
        try:
            reply.chat_id = self._save(reply, content, saved | {"scope": reply.scope})
        finally:
            with self._lock:  # saved before it leaves: a page that misses it finds it stored
                del self._running[reply.key]
            reply.done.set()

    def _save(self, reply: Reply, content: str, response: dict[str, Any]) -> int:
        """Saves the reply under its question; a chat deleted meanwhile (from another
        window) is started again with the question, so that the reply is not lost."""
        chat_id = reply.key[0]
        if self.chats.append(chat_id, "assistant", content, response):
            return chat_id
        chat_id = self.chats.create(owner=reply.owner)
        self.chats.append(chat_id, "user", reply.question)
        self.chats.append(chat_id, "assistant", content, response)
        return chat_id
