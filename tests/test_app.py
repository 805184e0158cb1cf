"""The web page through Streamlit's AppTest: chat, citations, refusals, documents,
summaries, saved chats and export. The offline engine needs no model; the generative
path runs against the local fake OpenAI-compatible server."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from conftest import GENEVA, ROOT, RUSI
from fake_openai_server import FakeOpenAIServer, overlap_responder

APP = str(ROOT / "app.py")


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


def assistant_texts(app: AppTest) -> list[str]:
    return [" ".join(e.value for e in m.markdown) + " ".join(e.value for e in m.info)
            for m in app.chat_message if m.name == "assistant"]


def marked(html: str) -> str:
    return re.search(r"<mark>(.*?)</mark>", html, re.S).group(1)


def test_question_gets_a_cited_answer_with_a_highlighted_source(data_dir: Path) -> None:
    app = ask(started(), "Who represented the United States at the Geneva talks?")
    assert "Sherman" in assistant_texts(app)[-1]
    assert ":blue-badge[1]" in assistant_texts(app)[-1]
    label = app.expander[0].label
    assert label.startswith(f"[1] {GENEVA}")
    start, end = (int(x) for x in re.search(r"(\d+)–(\d+)", label).groups())
    source = (ROOT / "seeds" / GENEVA).read_text(encoding="utf-8")
    highlighted = marked(app.get("html")[0].proto.body)
    assert highlighted == source[start:end] and "Sherman" in highlighted


def test_follow_up_keeps_the_conversation(data_dir: Path) -> None:
    app = ask(ask(started(), "Who is Sergei Ryabkov?"),
              "What does he want NATO to do at its next summit?")
    assert "Madrid" in assistant_texts(app)[-1]


def test_refusal_is_shown_as_such(data_dir: Path) -> None:
    app = ask(started(), "Who won the 2018 FIFA World Cup?")
    assert "The documents don't say" in app.info[-1].value
    assert not app.expander


def test_upload_then_ask_then_delete(data_dir: Path) -> None:
    app = started()
    app.file_uploader(key="uploads").set_value(
        ("zebras.md", b"# Zebras\n\nPlains zebras migrate across the Serengeti every year.",
         "text/markdown"))
    app.get("form_submit_button")[0].click().run()
    assert any("zebras.md: added" in s.value for s in app.success)
    assert any("zebras.md" in c.label for c in app.checkbox)
    ask(app, "Where do plains zebras migrate?")
    assert "Serengeti" in assistant_texts(app)[-1]
    app.button(key="del:zebras.md").click().run()
    assert not any("zebras.md" in c.label for c in app.checkbox)


def test_bad_upload_gets_a_visible_reason(data_dir: Path) -> None:
    app = started()
    app.file_uploader(key="uploads").set_value(("empty.txt", b"", "text/plain"))
    app.get("form_submit_button")[0].click().run()
    assert any("empty.txt: empty file" in e.value for e in app.error)
    assert len(app.checkbox) == 2  # nothing lost


def test_summary_of_one_document(data_dir: Path) -> None:
    app = started()
    app.button(key=f"sum:{RUSI}").click().run()
    text = assistant_texts(app)[-1]
    assert "Antonov" in text and ":blue-badge[3]" in text
    assert all(RUSI in e.label for e in app.expander)


def test_source_selection_limits_the_answer(data_dir: Path) -> None:
    app = started()
    app.checkbox(key=f"use:{GENEVA}").uncheck().run()
    ask(app, "Who represented the United States at the Geneva talks?")
    assert all(RUSI in e.label for e in app.expander)
    assert any(f"Sources: {RUSI}" in c.value for c in app.caption)


def test_chats_are_saved_reloaded_and_exported(data_dir: Path) -> None:
    ask(started(), "Who represented the United States at the Geneva talks?")
    again = started()  # a new session: the saved chat is listed and can be opened
    saved = [b for b in again.button if b.label.startswith("Who represented")]
    assert saved
    saved[0].click().run()
    assert "Sherman" in assistant_texts(again)[-1]
    exported = again.get("download_button")[0].proto
    assert exported.label == "Export chat (Markdown)"


def test_export_markdown_has_footnotes(data_dir: Path) -> None:
    from rag.chats import ChatStore, export_markdown

    ask(started(), "Who represented the United States at the Geneva talks?")
    chats = ChatStore(data_dir / "chats.sqlite3")
    chat = chats.chats()[0]
    text = export_markdown(chat.title, chats.messages(chat.id))
    assert "[^1]" in text and f"[^1]: {GENEVA}, characters" in text and "Sherman" in text


def test_generated_answers_stream_from_an_openai_compatible_server(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeOpenAIServer(responder=overlap_responder) as server:
        monkeypatch.setenv("CITECHAT_ENGINE", "openai")
        monkeypatch.setenv("CITECHAT_OPENAI_BASE_URL", server.base_url)
        app = ask(started(), "Who represented the United States at the Geneva talks?")
        assert any("fake" not in c.value and "@ http://127.0.0.1" in c.value
                   for c in app.sidebar.caption)
    assert server.requests and server.requests[-1]["stream"] is True
    assert app.expander and "Geneva" in assistant_texts(app)[-1]
