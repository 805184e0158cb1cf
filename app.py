"""citechat's web page: chat with your documents, every claim cited and checkable.

UI only. Answers, summaries, ingest and chat storage all come from `rag`; this file lays
them out. Untrusted text (documents, model output) is shown through rag.render: Markdown
with HTML, images and links disabled, and highlighted sources as escaped HTML.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import streamlit as st

from rag.chats import ChatStore, Message, export_markdown
from rag.config import Settings, load_settings
from rag.errors import CitechatError
from rag.pipeline import Pipeline
from rag.render import highlight_html, safe_markdown, with_badges
from rag.types import Response, Turn

SEEDS = Path(__file__).resolve().parent / "seeds"
UPLOAD_TYPES = ["txt", "md", "html", "htm", "pdf"]


@st.cache_resource(show_spinner="Loading the embedding model…")
def shared_pipeline(key: str, _settings: Settings) -> Pipeline:
    """The embedder and the store, built once per process (per settings `key`) and shared
    by every session."""
    return Pipeline.build(_settings)


def session_pipeline(settings: Settings, engine: str, k: int) -> Pipeline:
    base = shared_pipeline(settings.model_dump_json(), settings)
    chosen = settings.model_copy(update={"engine": engine, "k": k})
    return Pipeline(chosen, base.embedder, base.store)


def ingest_seeds_once(pipeline: Pipeline) -> None:
    if pipeline.documents() or not SEEDS.exists():
        return
    with st.status("First launch: adding the sample documents…", expanded=True) as status:
        bar = st.progress(0.0)
        pipeline.ingest([SEEDS], on_file=lambda done, total, _: bar.progress(done / total))
        status.update(label="Sample documents added.", state="complete", expanded=False)


def engine_status(settings: Settings) -> str:
    if settings.engine == "extractive":
        return "Extractive · offline"
    return f"{settings.openai_model} @ {settings.openai_base_url or 'api.openai.com'}"


def streamed(work: Callable[[Callable[[str], None]], Response]) -> Response:
    """Run `work(on_token)` in a thread, showing its tokens as they arrive."""
    tokens: queue.Queue[str | None] = queue.Queue()
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["response"] = work(tokens.put)
        except Exception as exc:  # handed to the page thread, shown there
            outcome["error"] = exc
        finally:
            tokens.put(None)

    def pieces() -> Iterator[str]:
        while (piece := tokens.get()) is not None:
            yield piece

    threading.Thread(target=run, daemon=True).start()
    placeholder = st.empty()
    with placeholder.container():
        st.write_stream(pieces())
    placeholder.empty()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["response"]  # type: ignore[return-value]


def show_sources(pipeline: Pipeline, response: dict, key: str) -> None:
    for citation in response.get("citations", []):
        label = f"[{citation['n']}] {citation['doc']} · {citation['start']}–{citation['end']}"
        with st.expander(label, expanded=False):
            st.caption(f"“{' '.join(citation['text'].split())}”")
            try:
                source = pipeline.source_text(citation["doc"])
            except CitechatError:
                st.warning("This document has since been removed.")
                continue
            st.html(highlight_html(source, citation["start"], citation["end"]))


FLAGS = {"weak": "⚠️ Weakly supported", "unsupported": "⛔ Not supported by its citation",
         "uncited": "❔ No citation"}


def show_claim_flags(response: dict) -> None:
    for claim in response.get("claims", []):
        if claim["verdict"] in FLAGS:
            st.warning(f"{FLAGS[claim['verdict']]}: “{claim['sentence']}”", icon=None)


def show_message(pipeline: Pipeline, message: Message, index: int) -> None:
    with st.chat_message(message.role):
        if message.role == "user" or message.response is None:
            st.markdown(safe_markdown(message.content))
            return
        response = message.response
        scope = response.get("scope")
        if scope:
            st.caption(f"Sources: {scope}")
        if response.get("refused"):
            st.info(f"{message.content} No passage of the selected documents answers this.")
            return
        st.markdown(with_badges(safe_markdown(message.content)))
        show_claim_flags(response)
        show_sources(pipeline, response, key=f"m{index}")


def respond(pipeline: Pipeline, chats: ChatStore, chat_id: int, question: str,
            history: list[Turn], docs: list[str] | None, summarize: bool) -> None:
    chats.append(chat_id, "user", question)
    with st.chat_message("assistant"):
        try:
            if summarize:
                work = lambda sink: pipeline.summarize(docs, on_token=sink)  # noqa: E731
            else:
                work = lambda sink: pipeline.ask(question, history, docs, on_token=sink)  # noqa: E731
            if pipeline.engine.name == "extractive":
                with st.spinner("Finding the passages…"):
                    response = work(None)
            else:
                response = streamed(work)
        except CitechatError as exc:
            chats.append(chat_id, "assistant", f"⚠️ {exc}")
            return
    record = response.to_dict()
    record["scope"] = ", ".join(docs) if docs else "all documents"
    chats.append(chat_id, "assistant", response.answer, record)


def sidebar_documents(pipeline: Pipeline) -> list[str]:
    st.subheader("Documents")
    infos = pipeline.documents()
    selected = []
    for info in infos:
        cols = st.columns([6, 1, 1])
        if cols[0].checkbox(f"{info.name} · {info.chunks} chunks", value=True,
                            key=f"use:{info.name}"):
            selected.append(info.name)
        if cols[1].button("∑", key=f"sum:{info.name}", help=f"Summarize {info.name}"):
            st.session_state.pending = ("summarize", [info.name])
        if cols[2].button("🗑", key=f"del:{info.name}", help=f"Delete {info.name}"):
            pipeline.remove(info.name)
            st.rerun()
    if infos and st.button("Summarize the selection", key="sum:all"):
        st.session_state.pending = ("summarize", selected)
    with st.form("upload", clear_on_submit=True):
        files = st.file_uploader("Add documents", type=UPLOAD_TYPES, accept_multiple_files=True,
                                 key="uploads")
        if st.form_submit_button("Add to collection") and files:
            bar = st.progress(0.0, text="Adding…")
            results = []
            for done, upload in enumerate(files, start=1):
                results.append(pipeline.ingest_bytes(upload.name, upload.getvalue()))
                bar.progress(done / len(files), text=f"Added {done} of {len(files)}")
            st.session_state.upload_results = results
            st.rerun()  # list the new documents
    for result in st.session_state.pop("upload_results", []):
        if result.status == "failed":
            st.error(f"{result.name}: {result.reason}")
        else:
            st.success(f"{result.name}: {result.status} ({result.chunks} chunks)")
    all_names = [info.name for info in infos]
    return [] if selected == all_names else selected or all_names


def sidebar_chats(chats: ChatStore) -> int:
    st.subheader("Chats")
    if st.button("New chat", key="new_chat") or "chat_id" not in st.session_state:
        st.session_state.chat_id = chats.create()
    for chat in chats.chats()[:20]:
        current = chat.id == st.session_state.chat_id
        if st.button(("▶ " if current else "") + chat.title, key=f"chat:{chat.id}"):
            st.session_state.chat_id = chat.id
    chat_id = st.session_state.chat_id
    st.download_button("Export chat (Markdown)", key="export",
                       data=export_markdown(chats.title(chat_id), chats.messages(chat_id)),
                       file_name=f"citechat-{chat_id}.md", mime="text/markdown")
    return chat_id


def main() -> None:
    st.set_page_config(page_title="citechat", page_icon="📎", layout="wide")
    try:
        settings = load_settings()
        base = shared_pipeline(settings.model_dump_json(), settings)
    except CitechatError as exc:
        st.error(str(exc))
        st.stop()
    ingest_seeds_once(base)
    chats = ChatStore(settings.data_dir / "chats.sqlite3")
    with st.sidebar:
        st.title("📎 citechat")
        engine = st.selectbox("Engine", ["extractive", "openai"], key="engine",
                              index=0 if settings.engine == "extractive" else 1)
        k = st.slider("Passages to retrieve (k)", 1, 20, settings.k, key="k")
        pipeline = session_pipeline(settings, engine, k)
        st.caption(f"Engine: {engine_status(pipeline.settings)}")
        docs = sidebar_documents(pipeline)
        chat_id = sidebar_chats(chats)
    st.caption("Answers quote your documents; open a citation to see the exact passage.")
    messages = chats.messages(chat_id)
    for index, message in enumerate(messages):
        show_message(pipeline, message, index)
    pending = st.session_state.pop("pending", None)
    question = st.chat_input("Ask about your documents", key="question")
    if pending or question:
        history = [Turn(m.response.get("standalone_question", ""), m.content)
                   for m in messages if m.role == "assistant" and m.response]
        if pending:
            target = ", ".join(pending[1]) if pending[1] else "all documents"
            respond(pipeline, chats, chat_id, f"Summarize {target}", [], pending[1] or None,
                    summarize=True)
        else:
            with st.chat_message("user"):
                st.markdown(safe_markdown(question))
            respond(pipeline, chats, chat_id, question, history, docs or None, summarize=False)
        st.rerun()


main()
