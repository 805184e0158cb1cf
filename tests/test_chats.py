"""The SQLite chat store and the Markdown export, without Streamlit."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.chats import UNTITLED, Chat, ChatStore, Message, export_markdown


@pytest.fixture
def store(tmp_path: Path) -> ChatStore:
    return ChatStore(tmp_path / "data" / "chats.sqlite3")


def citation(n: int, doc: str, start: int, text: str) -> dict:
    return {"n": n, "doc": doc, "start": start, "end": start + len(text), "text": text}


def answer(text: str, *citations: dict, scope: str = "all documents") -> Message:
    return Message("assistant", text, {"answer": text, "citations": list(citations),
                                       "scope": scope})


def test_a_chat_round_trips_with_its_responses(store: ChatStore) -> None:
    chat_id = store.create()
    store.append(chat_id, "user", "Who spoke?")
    response = {"answer": "Sherman did.[1]", "citations": [citation(1, "a.txt", 5, "Sherman")]}
    store.append(chat_id, "assistant", "Sherman did.[1]", response)
    chat = store.load(chat_id)
    assert chat is not None and chat.title == "Who spoke?"
    assert chat.messages == (Message("user", "Who spoke?"),
                             Message("assistant", "Sherman did.[1]", response))


def test_listing_is_newest_first_without_messages(store: ChatStore) -> None:
    first, second = store.create(), store.create()
    store.append(first, "user", "hello")
    assert [c.id for c in store.chats()] == [second, first]
    assert all(c.messages == () for c in store.chats())


def test_title_comes_from_the_first_question_only(store: ChatStore) -> None:
    chat_id = store.create()
    store.append(chat_id, "user", "  What   did\nAntonov want?  ")
    store.append(chat_id, "user", "And Ryabkov?")
    assert store.load(chat_id).title == "What did Antonov want?"


def test_long_titles_are_cut(store: ChatStore) -> None:
    chat_id = store.create()
    store.append(chat_id, "user", "why " * 40)
    title = store.load(chat_id).title
    assert len(title) <= 60 and title == "why " * 14 + "why…"


def test_rename_and_delete(store: ChatStore) -> None:
    chat_id = store.create()
    store.append(chat_id, "user", "q")
    store.rename(chat_id, "Geneva talks")
    assert store.load(chat_id).title == "Geneva talks"
    store.rename(chat_id, "   ")
    assert store.load(chat_id).title == UNTITLED
    store.delete(chat_id)
    assert store.load(chat_id) is None and store.chats() == []


def test_missing_chat_loads_as_none(store: ChatStore) -> None:
    assert store.load(12345) is None


def test_store_survives_reopening(store: ChatStore) -> None:
    chat_id = store.create()
    store.append(chat_id, "user", "kept?")
    assert ChatStore(store.path).load(chat_id).messages == (Message("user", "kept?"),)


def test_export_turns_citations_into_footnotes_quoting_spans() -> None:
    chat = Chat(1, "Geneva", 0.0, (
        Message("user", "Who represented the US?"),
        answer("Wendy Sherman.[1] She called the talks serious.[1][2]",
               citation(1, "geneva.txt", 1428, "Deputy Secretary of State\nWendy Sherman"),
               citation(2, "geneva.txt", 1500, "“serious”"), scope="geneva.txt"),
    ))
    text = export_markdown(chat)
    assert text.startswith("# Geneva\n\n**You:** Who represented the US?\n")
    assert "*Sources: geneva.txt*" in text
    assert "**citechat:** Wendy Sherman.[^1] She called the talks serious.[^1][^2]" in text
    assert "[^1]: geneva.txt, characters 1428–1467: “Deputy Secretary of State Wendy Sherman”" \
        in text
    assert "[^2]: geneva.txt, characters 1500–1509: ““serious””" in text


def test_footnotes_are_numbered_through_the_whole_chat() -> None:
    chat = Chat(1, "t", 0.0, (
        Message("user", "a?"),
        answer("A.[1] B.[2]", citation(1, "x.txt", 0, "A"), citation(2, "x.txt", 2, "B")),
        Message("user", "c?"),
        answer("C.[1] Not a marker: [7].", citation(1, "y.txt", 4, "C")),
    ))
    text = export_markdown(chat)
    assert "**citechat:** A.[^1] B.[^2]" in text
    assert "**citechat:** C.[^3] Not a marker: [7]." in text
    assert text.rstrip().endswith("[^3]: y.txt, characters 4–5: “C”")


@pytest.mark.parametrize("message", [
    Message("assistant", "The documents don't say.", {"refused": True, "citations": []}),
    Message("assistant", "The model server cannot be reached.", {"error": True}),
    Message("assistant", "legacy message with no response"),
])
def test_answers_without_citations_export_as_text(message: Message) -> None:
    text = export_markdown(Chat(1, "t", 0.0, (Message("user", "q"), message)))
    assert f"**citechat:** {message.content}" in text and "[^" not in text


def test_append_to_a_deleted_chat_writes_nothing(store: ChatStore) -> None:
    chat_id = store.create()
    assert store.append(chat_id, "user", "still here?")
    store.delete(chat_id)  # from another window
    assert not store.append(chat_id, "assistant", "too late")
    assert store.load(chat_id) is None and store.chats() == []


def test_owners_see_open_and_delete_their_own_chats_only(store: ChatStore) -> None:
    mine, theirs = store.create(owner="browser:a"), store.create(owner="browser:b")
    store.append(mine, "user", "mine?")
    assert [c.id for c in store.chats("browser:a")] == [mine]
    assert store.load(theirs, "browser:a") is None and store.load(mine, "browser:a")
    assert not store.delete(theirs, "browser:a") and store.load(theirs)
    assert {c.id for c in store.chats()} == {mine, theirs}  # None: every owner
    assert store.delete(mine, "browser:a") and store.chats("browser:a") == []


def test_a_store_from_before_owners_keeps_its_chats_in_the_shared_space(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript("CREATE TABLE chats (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                         "title TEXT NOT NULL, created REAL NOT NULL);"
                         "INSERT INTO chats (title, created) VALUES ('old', 1.0);")
    store = ChatStore(path)
    assert [c.title for c in store.chats("")] == ["old"] and store.chats("browser:a") == []


def test_only_a_reply_is_dropped_for_a_retry(store: ChatStore) -> None:
    chat_id = store.create()
    store.append(chat_id, "user", "q")
    store.drop_last_reply(chat_id)
    assert len(store.load(chat_id).messages) == 1
    store.append(chat_id, "assistant", "partial", {"stopped": True})
    store.drop_last_reply(chat_id)
    assert store.load(chat_id).messages == (Message("user", "q"),)
