"""citechat's web page: chat with your documents, every claim cited and checkable.

UI only. Answers, summaries, ingest and chat storage all come from `rag`; this file lays
them out: the chat here, the sidebar in rag/app/sidebar.py, a saved message and its
sources in rag/app/messages.py. Untrusted text (documents, model output) goes through
rag.render: Markdown without HTML, images or links (never `unsafe_allow_html`), document
quotes escaped, and highlighted passages as fully escaped HTML (why: see rag/render.py).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import streamlit as st

from rag.app import model_settings
from rag.app.messages import show_message
from rag.app.sidebar import chat_owner, sidebar_chats, sidebar_documents, sidebar_model
from rag.app.worker import Replies, Reply, request
from rag.chats import FILENAME, Chat, ChatStore
from rag.config import Settings, load_settings
from rag.errors import CitechatError
from rag.pipeline import Pipeline
from rag.render import escape_markdown, stream_safe

SEEDS = resources.files("rag") / "seeds"  # package data: the sample documents
FOLLOW_S = 0.2  # how often a reply in progress is redrawn
UNANSWERED = "This question has no reply: the app stopped before it was ready."


@st.cache_resource(show_spinner="Loading the embedding model…")
def shared_pipeline(key: str, _settings: Settings) -> Pipeline:
    """The embedder and the store, built once per process (per settings `key`) and shared
    by every session."""
    return Pipeline.build(_settings)


@st.cache_resource(show_spinner=False)
def session_pipeline(key: str, engine: str, k: int | None, model: str,
                     _settings: Settings) -> Pipeline:
    """The shared embedder and store with the sidebar's engine, k and model settings
    (`model`: their fingerprint); the engine (a model client) is built once per choice."""
    base = shared_pipeline(key, _settings)
    chosen = _settings.model_copy(update={"engine": engine, "k": k})
    return Pipeline(chosen, base.embedder, base.store)


def ingest_seeds(pipeline: Pipeline) -> None:
    with st.status("First launch: adding the sample documents…", expanded=True) as status:
        bar = st.progress(0.0)
        with resources.as_file(SEEDS) as seeds:
            report = pipeline.ingest([seeds], on_file=lambda done, total, r: bar.progress(
                done / total, text=f"{r.name}: {r.status}"))
        for failed in (r for r in report.results if r.status == "failed"):
            st.error(f"{escape_markdown(failed.name)}: {failed.reason}")
        status.update(label="Sample documents added.", state="complete",
                      expanded=report.exit_code != 0)


def engine_status(settings: Settings) -> str:
    if settings.engine == "extractive":
        return "Extractive · offline"
    return f"{settings.openai_model} @ {settings.openai_base_url or 'api.openai.com'}"


@st.cache_resource(show_spinner=False)
def reply_registry(path: str) -> Replies:
    """The replies in progress over the chat store at `path`, one registry per process,
    shared by every session (a reply outlives the script run that asked for it)."""
    return Replies(ChatStore(Path(path)))


def follow(reply: Reply) -> None:
    """Shows `reply` as it streams, with Stop, until it is saved; then reruns to show it
    as saved. A rerun meanwhile (Stop, a reload) ends this run, never the reply."""
    with st.chat_message("assistant"):
        st.button("Stop", key="stop_reply", on_click=reply.stop,
                  icon=":material/stop_circle:", type="secondary")
        box = st.empty()
        while not reply.done.wait(FOLLOW_S):
            box.markdown(stream_safe(reply.text) if reply.text else "*Finding the passages…*")
    st.session_state.chat_id = reply.chat_id
    st.rerun()


def offer_retry(registry: Replies, pipeline: Pipeline, chat: Chat, owner: str) -> None:
    if st.button("Retry", key="retry_reply",
                 icon=":material/refresh:"):
        registry.retry(pipeline, chat, owner)
        st.rerun()


def main() -> None:
    st.set_page_config(page_title="citechat", page_icon=":material/format_quote:",
                       layout="wide", initial_sidebar_state=380)  # px: room for names
    try:
        settings = load_settings()
        key = settings.model_dump_json()
        base = shared_pipeline(key, settings)
        fresh = not (settings.data_dir / FILENAME).exists()
        if fresh and not base.documents() and SEEDS.is_dir():
            ingest_seeds(base)
    except CitechatError as exc:
        st.error(str(exc))
        st.stop()
    registry = reply_registry(str(settings.data_dir / FILENAME))
    if "chat_id" not in st.session_state and st.query_params.get("chat", "").isdigit():
        st.session_state.chat_id = int(st.query_params["chat"])  # a reload: the same chat
    # looked up before the chat is loaded: a reply saved in between is then in the chat
    reply = registry.in_chat(st.session_state.get("chat_id", 0))
    with st.sidebar:
        st.title(":material/format_quote: citechat")
        engine = st.selectbox("Engine", ["extractive", "openai"], key="engine",
                              index=0 if settings.engine == "extractive" else 1)
        k = st.slider("Most passages (k; 0: as many as fill the context)", 0,
                      max(20, settings.k or 0), settings.k or 0, key="k")
        chosen = sidebar_model(settings) if engine == "openai" else settings
        pipeline = session_pipeline(key, engine, k or None, model_settings.fingerprint(chosen),
                                    chosen)
        st.caption(f":material/bolt: {escape_markdown(engine_status(pipeline.settings))}")
        scope = sidebar_documents(pipeline)
        owner = chat_owner(settings)
        chat = sidebar_chats(registry.chats, owner)
    if chat.id:  # the open chat in the URL, so that a reload reopens it (if yours)
        st.query_params["chat"] = str(chat.id)
    else:
        st.query_params.pop("chat", None)
    # still the chat asked in (not a new one; it may be gone meanwhile), and yours
    reply = reply if reply and (reply.key[0], reply.owner) == (
        st.session_state.get("chat_id"), owner) else None
    chat_area(registry, pipeline, chat, owner, scope, reply)


def chat_area(registry: Replies, pipeline: Pipeline, chat: Chat, owner: str,
              scope: list[str] | None, reply: Reply | None) -> None:
    """The open chat, its reply in progress or a Retry, and the chat box (disabled while
    a reply is made; a summary asked for meanwhile waits for it)."""
    st.caption("Answers quote your documents; open a citation to see the exact passage.")
    for message in chat.messages:
        show_message(pipeline, message)
    pending = None if reply else st.session_state.pop("pending", None)
    question = st.chat_input("Ask about your documents", key="question",
                             disabled=reply is not None)
    if reply:
        follow(reply)  # until it is saved; then the page reruns
    last = chat.messages[-1] if chat.messages else None
    if last and last.role == "user":
        st.error(UNANSWERED)
    if last and (last.role == "user" or (last.response or {}).get("error")
                 or (last.response or {}).get("stopped")):
        offer_retry(registry, pipeline, chat, owner)
    if pending is not None:
        what = ", ".join(pending) if pending else "all documents"
        length = st.session_state.get("summary_length", "auto")
        asked = request(pending or None, summary=True, length=length)
        st.session_state.chat_id = registry.ask(pipeline, chat, owner, f"Summarize {what}", asked)
        st.rerun()
    if question:
        asked = request(scope, summary=False)
        st.session_state.chat_id = registry.ask(pipeline, chat, owner, question, asked)
        st.rerun()

main()
