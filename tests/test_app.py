"""The web page through Streamlit's AppTest: chat, citations, refusals, documents,
summaries, source selection, saved chats, export and first launch. The offline engine
needs no model; the generative path runs against the local fake OpenAI-compatible server.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from rag.chats import ChatStore, export_markdown

from conftest import GENEVA, GENEVA_TITLE, ROOT, RUSI
from fake_openai_server import FakeOpenAIServer, overlap_responder

APP = str(ROOT / "app.py")
GENEVA_QUESTION = "Who represented the United States at the Geneva talks?"


@pytest.fixture
def data_dir(tmp_path: Path, seeded_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(seeded_dir, folder)
    monkeypatch.setenv("CITECHAT_DATA_DIR", str(folder))
    return folder


def started() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120)
    app.run()
    assert not app.exception, app.exception
    return app


def ask(app: AppTest, question: str) -> AppTest:
    app.chat_input(key="question").set_value(question).run()
    assert not app.exception, app.exception
    return app


def plain(markdown: str) -> str:
    """Escaped Markdown back to its text."""
    return re.sub(r"\\(.)", r"\1", markdown)


def assistant_texts(app: AppTest) -> list[str]:
    return [" ".join(e.value for e in [*m.markdown, *m.info, *m.error])
            for m in app.chat_message if m.name == "assistant"]


def documents(app: AppTest) -> dict[str, int]:
    """The sidebar's documents and their chunk counts."""
    return {c.key.removeprefix("use:"): int(re.search(r"(\d+) chunks", plain(c.label)).group(1))
            for c in app.checkbox if c.key.startswith("use:")}


def sources(app: AppTest) -> list[tuple[str, int, int, str]]:
    """(doc, start, end, highlighted text) of each citation shown."""
    found = []
    for expander in app.expander:
        doc, start, end = re.fullmatch(r"(.+), characters (\d+)–(\d+)",
                                       plain(expander.caption[0].value)).groups()
        mark = re.search(r"<mark>(.*?)</mark>", expander.get("html")[0].proto.body, re.S)
        found.append((doc, int(start), int(end), mark.group(1)))
    return found


def test_question_gets_a_cited_answer_with_a_highlighted_source(data_dir: Path) -> None:
    app = ask(started(), GENEVA_QUESTION)
    answer = assistant_texts(app)[-1]
    assert "Sherman" in answer and ":blue-badge[1]" in answer
    label = plain(app.expander[0].label)
    assert label.startswith(f"**[1]** {GENEVA_TITLE} — “His U.S. counterpart")
    doc, start, end, highlighted = sources(app)[0]
    source = (ROOT / "seeds" / GENEVA).read_text(encoding="utf-8")
    assert doc == GENEVA and highlighted == source[start:end] and "Sherman" in highlighted


def test_follow_up_keeps_the_conversation(data_dir: Path) -> None:
    app = ask(ask(started(), "Who is Sergei Ryabkov?"),
              "What does he want NATO to do at its next summit?")
    assert "Madrid" in assistant_texts(app)[-1]
    assert len(assistant_texts(app)) == 2


def test_refusal_is_shown_as_such(data_dir: Path) -> None:
    app = ask(started(), "Who won the 2018 FIFA World Cup?")
    assert "The documents don't say" in app.info[-1].value
    assert "No passage of the selected documents answers this" in app.info[-1].value
    assert not app.expander


def test_upload_then_ask_then_delete(data_dir: Path) -> None:
    app = started()
    app.file_uploader(key="uploads").set_value(
        ("zebras.md", b"# Zebras\n\nPlains zebras migrate across the Serengeti every year.",
         "text/markdown"))
    app.get("form_submit_button")[0].click().run()
    assert any("zebras.md: added (1 chunks)" in plain(s.value) for s in app.success)
    assert documents(app)["zebras.md"] == 1
    ask(app, "Where do plains zebras migrate?")
    assert "Serengeti" in assistant_texts(app)[-1]
    app.button(key="del:zebras.md").click().run()
    assert "zebras.md" not in documents(app)
    assert any("has since been removed" in w.value for w in app.warning)  # its citation


def test_bad_upload_gets_a_visible_reason(data_dir: Path) -> None:
    app = started()
    app.file_uploader(key="uploads").set_value(("empty.txt", b"", "text/plain"))
    app.get("form_submit_button")[0].click().run()
    assert any("empty.txt: empty file" in plain(e.value) for e in app.error)
    assert set(documents(app)) == {RUSI, GENEVA}  # nothing lost


def test_summary_of_one_document(data_dir: Path) -> None:
    app = started()
    app.button(key=f"sum:{RUSI}").click().run()
    text = assistant_texts(app)[-1]
    assert "Antonov" in text and ":blue-badge[3]" in text
    assert {doc for doc, *_ in sources(app)} == {RUSI}
    assert any(f"Sources: {RUSI}" in plain(c.value) for c in app.caption)


def test_summary_of_the_whole_collection(data_dir: Path) -> None:
    app = started()
    assert app.button(key="sum:all").label == "Summarize all documents"
    app.button(key="sum:all").click().run()
    assert {doc for doc, *_ in sources(app)} == {RUSI, GENEVA}
    assert any("Sources: all documents" in c.value for c in app.caption)


def test_source_selection_limits_the_answer(data_dir: Path) -> None:
    app = started()
    app.checkbox(key=f"use:{GENEVA}").uncheck().run()
    assert app.button(key="sum:all").label == "Summarize the 1 selected"
    ask(app, GENEVA_QUESTION)
    assert {doc for doc, *_ in sources(app)} <= {RUSI}
    assert any(f"Sources: {RUSI}" in plain(c.value) for c in app.caption)


def test_chat_survives_a_rerun_and_a_new_session(data_dir: Path) -> None:
    app = ask(started(), GENEVA_QUESTION)
    app.run()
    assert "Sherman" in assistant_texts(app)[-1] and sources(app)
    again = started()  # a new session: the saved chat is listed and can be opened
    assert not assistant_texts(again)
    again.button(key=f"chat:{ChatStore(data_dir / 'chats.sqlite3').chats()[0].id}").click()
    again.run()
    assert "Sherman" in assistant_texts(again)[-1] and sources(again)


def test_new_and_deleted_chats(data_dir: Path) -> None:
    app = ask(started(), GENEVA_QUESTION)
    app.button(key="new_chat").click().run()
    assert not assistant_texts(app)
    ask(app, "Who is Sergei Ryabkov?")
    chats = ChatStore(data_dir / "chats.sqlite3")
    assert [c.title for c in chats.chats()] == ["Who is Sergei Ryabkov?", GENEVA_QUESTION]
    app.button(key="delete_chat").click().run()
    assert [c.title for c in chats.chats()] == [GENEVA_QUESTION]
    assert not assistant_texts(app)


def test_export_has_the_answer_with_footnotes_quoting_the_spans(data_dir: Path) -> None:
    app = ask(started(), GENEVA_QUESTION)
    exported = app.get("download_button")[0].proto
    assert exported.label == "Export" and not exported.disabled
    chats = ChatStore(data_dir / "chats.sqlite3")
    text = export_markdown(chats.load(chats.chats()[0].id))
    doc, start, end, highlighted = sources(app)[0]
    assert text.startswith(f"# {GENEVA_QUESTION}\n\n**You:** {GENEVA_QUESTION}")
    assert "Sherman" in text and "[^1]" in text
    assert (f"[^1]: {GENEVA_TITLE} ({doc}), characters {start}–{end}: "
            f"“{' '.join(highlighted.split())}”") in text


def test_first_launch_ingests_the_seeds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITECHAT_DATA_DIR", str(tmp_path / "fresh"))
    app = started()
    assert app.status[0].label == "Sample documents added."
    assert documents(app) == {RUSI: 21, GENEVA: 34}
    ask(app, GENEVA_QUESTION)
    assert "Sherman" in assistant_texts(app)[-1]


def test_generated_answers_stream_from_an_openai_compatible_server(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeOpenAIServer(responder=overlap_responder) as server:
        monkeypatch.setenv("CITECHAT_ENGINE", "openai")
        monkeypatch.setenv("CITECHAT_OPENAI_BASE_URL", server.base_url)
        app = started()
        assert app.selectbox(key="engine").value == "openai"
        assert any(f"gpt-4o-mini @ {server.base_url}" in plain(c.value)
                   for c in app.sidebar.caption)
        ask(app, GENEVA_QUESTION)
    assert server.requests and server.requests[-1]["stream"] is True
    assert "Geneva" in assistant_texts(app)[-1] and sources(app)


def test_model_markup_is_not_rendered(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeOpenAIServer() as server:
        server.enqueue("Wendy Sherman [1]. ![x](http://127.0.0.1:9/leak.png) <b>x</b>")
        monkeypatch.setenv("CITECHAT_ENGINE", "openai")
        monkeypatch.setenv("CITECHAT_OPENAI_BASE_URL", server.base_url)
        app = ask(started(), GENEVA_QUESTION)
    answer = assistant_texts(app)[-1]
    assert "Sherman" in answer and "](" not in answer and "<b>" not in answer


def test_unreachable_model_is_one_clear_error(data_dir: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeOpenAIServer(fail_with=500) as server:
        monkeypatch.setenv("CITECHAT_ENGINE", "openai")
        monkeypatch.setenv("CITECHAT_OPENAI_BASE_URL", server.base_url)
        app = ask(started(), GENEVA_QUESTION)
    assert app.chat_message[-1].error and not app.expander


def test_chat_deleted_elsewhere_while_answering_keeps_the_reply(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rag.pipeline import Pipeline

    chats = ChatStore(data_dir / "chats.sqlite3")
    answer = Pipeline.ask

    def ask_while_another_window_deletes(self, *args, **kwargs):
        for chat in chats.chats():
            chats.delete(chat.id)
        return answer(self, *args, **kwargs)

    app = ask(started(), "Who is Sergei Ryabkov?")
    monkeypatch.setattr(Pipeline, "ask", ask_while_another_window_deletes)
    ask(app, GENEVA_QUESTION)
    assert "Sherman" in assistant_texts(app)[-1]
    # the deleted chat is gone; the question and its reply live on in a new one
    (saved,) = chats.chats()
    messages = chats.load(saved.id).messages
    assert [m.role for m in messages] == ["user", "assistant"]
    assert messages[0].content == GENEVA_QUESTION and "Sherman" in messages[1].content
