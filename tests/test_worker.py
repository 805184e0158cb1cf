"""Replies made outside the page's run (rag/app/worker.py): saved whole, stopped with
what was streamed, or with their error; never lost when the chat is deleted meanwhile."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from rag.app.worker import Replies, request
from rag.chats import Chat, ChatStore
from rag.errors import ModelUnavailable
from rag.types import Response

WAIT_S = 30


class Streaming:
    """A stand-in pipeline whose `ask` streams words, pausing after the first until
    `go` is set; it records the history it was given."""

    def __init__(self, words: list[str], fail: Exception | None = None) -> None:
        self.words, self.fail = words, fail
        self.go, self.first = threading.Event(), threading.Event()
        self.histories: list[list] = []

    def ask(self, question, history, docs, on_token):
        self.histories.append(list(history))
        for i, word in enumerate(self.words):
            on_token(word)
            if i == 0:
                self.first.set()
                assert self.go.wait(WAIT_S)
        if self.fail:
            raise self.fail
        answer = "".join(self.words)
        return Response(question, question, answer, refused=False, citations=(),
                        passages=(), engine="stand-in")


@pytest.fixture
def replies(tmp_path: Path) -> Replies:
    return Replies(ChatStore(tmp_path / "chats.sqlite3"))


def ask(replies: Replies, pipeline: Streaming, chat_id: int = 0) -> int:
    chat = replies.chats.load(chat_id) if chat_id else Chat(0, "", 0.0)
    return replies.ask(pipeline, chat, "browser:a", "Who led?", request(None, False))


def finished(replies: Replies, chat_id: int) -> list[tuple[str, str, dict | None]]:
    reply = replies.in_chat(chat_id)
    if reply:
        assert reply.done.wait(WAIT_S)
    return [(m.role, m.content, m.response) for m in replies.chats.load(chat_id).messages]


def test_a_reply_is_saved_whole_after_its_question(replies: Replies) -> None:
    pipeline = Streaming(["Sherman ", "led."])
    pipeline.go.set()
    chat_id = ask(replies, pipeline)
    (question, answer) = finished(replies, chat_id)
    assert question == ("user", "Who led?", {"docs": None, "summary": False, "length": "auto"})
    assert answer[:2] == ("assistant", "Sherman led.")
    assert answer[2]["scope"] == "all documents" and not answer[2].get("stopped")
    assert replies.chats.chats("browser:a")[0].id == chat_id
    assert replies.chats.chats("browser:b") == []


def test_stop_keeps_what_was_streamed_marked_stopped(replies: Replies) -> None:
    pipeline = Streaming(["Sherman ", "led ", "the talks."])
    chat_id = ask(replies, pipeline)
    assert pipeline.first.wait(WAIT_S)
    reply = replies.in_chat(chat_id)
    assert reply.text == "Sherman "
    reply.stop()
    pipeline.go.set()
    *_, (role, content, response) = finished(replies, chat_id)
    assert (role, content, response["stopped"]) == ("assistant", "Sherman ", True)
    assert replies.in_chat(chat_id) is None


def test_a_failed_reply_is_saved_with_its_error_and_retry_replaces_it(
        replies: Replies) -> None:
    failing = Streaming(["x"], fail=ModelUnavailable("Cannot reach the model server."))
    failing.go.set()
    chat_id = ask(replies, failing)
    *_, (role, content, response) = finished(replies, chat_id)
    assert (role, content, response["error"]) == (
        "assistant", "Cannot reach the model server.", True)
    working = Streaming(["Sherman."])
    working.go.set()
    replies.retry(working, replies.chats.load(chat_id), "browser:a")
    messages = finished(replies, chat_id)
    assert [(r, c) for r, c, _ in messages] == [("user", "Who led?"), ("assistant", "Sherman.")]


def test_an_unexpected_exception_is_saved_as_an_error(replies: Replies) -> None:
    broken = Streaming(["x"], fail=RuntimeError("boom"))
    broken.go.set()
    chat_id = ask(replies, broken)
    *_, (_, content, response) = finished(replies, chat_id)
    assert response["error"] and "boom" in content


def test_a_chat_deleted_meanwhile_gets_its_question_and_reply_back(replies: Replies) -> None:
    pipeline = Streaming(["Sherman ", "led."])
    chat_id = ask(replies, pipeline)
    assert pipeline.first.wait(WAIT_S)
    reply = replies.in_chat(chat_id)
    replies.chats.delete(chat_id)
    pipeline.go.set()
    assert reply.done.wait(WAIT_S) and reply.chat_id != chat_id
    saved = replies.chats.load(reply.chat_id, "browser:a")
    assert [m.content for m in saved.messages] == ["Who led?", "Sherman led."]


def test_a_follow_up_gets_the_answered_turns_only(replies: Replies) -> None:
    first = Streaming(["Sherman."], fail=ModelUnavailable("down"))
    first.go.set()
    chat_id = ask(replies, first)
    finished(replies, chat_id)
    second = Streaming(["Sherman."])
    second.go.set()
    ask(replies, second, chat_id)
    finished(replies, chat_id)
    assert second.histories == [[]]  # the failed reply is no turn of the conversation
    third = Streaming(["Geneva."])
    third.go.set()
    ask(replies, third, chat_id)
    finished(replies, chat_id)
    assert [t.answer for t in third.histories[0]] == ["Sherman."]


def test_the_same_question_is_not_started_twice(replies: Replies) -> None:
    pipeline = Streaming(["a ", "b"])
    started = replies.start((1, 0), "o", "q", "all", lambda sink: pipeline.ask("q", [], None, sink))
    again = replies.start((1, 0), "o", "q", "all", lambda sink: pytest.fail("started twice"))
    assert again is started
    pipeline.go.set()
    assert started.done.wait(WAIT_S)
