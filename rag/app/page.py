"""citechat's web page: chat with your documents, every claim cited and checkable.

UI only. Answers, summaries, ingest and chat storage all come from `rag`; this file lays
them out. Untrusted text (documents, model output) goes through rag.render: Markdown
without HTML, images or links (never `unsafe_allow_html`), document quotes escaped, and
highlighted passages as fully escaped HTML (why HTML there: see rag/render.py).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from importlib import resources

import streamlit as st

from rag.chats import FILENAME, UNTITLED, Chat, ChatStore, Message, export_markdown
from rag.config import Settings, load_settings
from rag.errors import CitechatError
from rag.pages import PageView, cited_pages
from rag.pipeline import Pipeline
from rag.render import (
    escape_markdown,
    highlight_html,
    page_label,
    safe_markdown,
    short,
    stream_safe,
    with_badges,
)
from rag.types import Response, Turn

SEEDS = resources.files("rag") / "seeds"  # package data: the sample documents
UPLOAD_TYPES = ["txt", "md", "html", "htm", "pdf", "docx"]
SUMMARY_LENGTHS = ["auto", "short", "medium", "long"]
FLAGS = {"weak": ("Weakly supported", ":material/warning:"),  # claim verdict -> label, icon
         "unsupported": ("Not supported by its citation", ":material/block:"),
         "uncited": ("No citation", ":material/help:")}


@st.cache_resource(show_spinner="Loading the embedding model…")
def shared_pipeline(key: str, _settings: Settings) -> Pipeline:
    """The embedder and the store, built once per process (per settings `key`) and shared
    by every session."""
    return Pipeline.build(_settings)


@st.cache_resource(show_spinner=False)
def session_pipeline(key: str, engine: str, k: int, _settings: Settings) -> Pipeline:
    """The shared embedder and store with the sidebar's engine and k; the engine (a model
    client) is built once per choice."""
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


def streamed(work: Callable[[Callable[[str], None]], Response]) -> Response:
    """Run `work(on_token)` in a thread, showing its tokens (made safe) as they arrive."""
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
            yield stream_safe(piece)

    threading.Thread(target=run, daemon=True).start()
    st.write_stream(pieces())
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["response"]  # type: ignore[return-value]


def show_sources(pipeline: Pipeline, response: dict) -> None:
    for citation in response.get("citations", []):
        doc, start, end = citation["doc"], citation["start"], citation["end"]
        quote = escape_markdown(short(citation["text"]))
        title = escape_markdown(citation.get("title") or doc)
        with st.expander(f"**[{citation['n']}]** {title} — “{quote}”"):
            try:
                source = pipeline.source_text(doc)
            except CitechatError:
                st.warning("This document has since been removed.")
                continue
            pages = cited_page_numbers(citation)
            page = page_label(pages)
            st.caption(f"{escape_markdown(doc)}, {page + ', ' if page else ''}"
                       f"characters {start}–{end}")
            show_cited(pipeline, citation, pages, highlight_html(source, start, end))


# -- the cited page of a PDF, beside the text (rendering: rag/pages.py) ---------------------


@st.cache_data(max_entries=64, show_spinner="Rendering the page…")
def page_views(_pipeline: Pipeline, doc: str, content_hash: str, cited: str,
               pages: tuple[int, int]) -> list[PageView]:
    """The cited pages with the citation highlighted; [] without the PDF's bytes."""
    original = _pipeline.original(doc)
    return cited_pages(original, cited, pages) if original else []


def cited_page_numbers(citation: dict) -> tuple[int, int] | None:
    """The citation's (first, last) pages, as saved with it (None: a document without
    pages, or a chat saved before citations had them)."""
    return tuple(citation["pages"]) if citation.get("pages") else None


def show_cited(pipeline: Pipeline, citation: dict, pages: tuple[int, int] | None,
               highlighted: str) -> None:
    """A PDF citation's page images beside the highlighted text; other formats (and PDFs
    whose file is not kept here) the text alone."""
    info = pipeline.store.document(citation["doc"])
    views = page_views(pipeline, citation["doc"], info.content_hash, citation["text"],
                       pages) if info and pages else []
    if not views:
        st.html(highlighted)
        return
    left, right = st.columns([3, 2])
    for view in views:
        left.image(view.png, caption=f"Page {view.page}", width="stretch")
    right.html(highlighted)


def show_message(pipeline: Pipeline, message: Message) -> None:
    with st.chat_message(message.role):
        if message.role == "user" or message.response is None:
            st.markdown(safe_markdown(message.content))
            return
        response = message.response
        if response.get("error"):
            st.error(safe_markdown(message.content))
            return
        st.caption(f"Sources: {escape_markdown(response.get('scope', 'all documents'))}")
        if response.get("refused"):
            st.info(f"{safe_markdown(message.content)} No passage of the selected documents "
                    "answers this.", icon=":material/search_off:")
            return
        st.markdown(with_badges(safe_markdown(message.content)))
        for claim in response.get("claims", []):
            if claim["verdict"] in FLAGS:
                label, icon = FLAGS[claim["verdict"]]
                st.warning(f"{label}: “{safe_markdown(claim['sentence'])}”", icon=icon)
        show_sources(pipeline, response)


def respond(pipeline: Pipeline, chats: ChatStore, chat: Chat, question: str,
            docs: list[str] | None, summarize: bool) -> None:
    """Answer (or summarize) under the question and save both; the page reruns after."""
    history = [Turn(m.response.get("standalone_question", ""), m.content)
               for m in chat.messages if m.response and not m.response.get("error")]
    scope = ", ".join(docs) if docs else "all documents"
    if summarize:
        length = st.session_state.get("summary_length", "auto")
        work = lambda sink: pipeline.summarize(docs, on_token=sink, length=length)  # noqa: E731
    else:
        work = lambda sink: pipeline.ask(question, history, docs, on_token=sink)  # noqa: E731
    chat_id = save(chats, chat.id, question)
    with st.chat_message("assistant"):
        try:
            if pipeline.engine.name == "extractive":  # nothing to stream: it quotes
                with st.spinner("Finding the passages…"):
                    response = work(None)
            else:
                response = streamed(work)
        except CitechatError as exc:
            save(chats, chat_id, question, str(exc), {"error": True, "scope": scope})
            return
    save(chats, chat_id, question, response.answer, response.to_dict() | {"scope": scope})


def save(chats: ChatStore, chat_id: int, question: str, answer: str | None = None,
         response: dict | None = None) -> int:
    """Saves the question (`answer` None) or the reply to it in the open chat. A chat
    deleted from another window meanwhile is started again under a new id, with the
    question, so that nothing the user sees is lost. Returns the chat's id."""
    role, content = ("user", question) if answer is None else ("assistant", answer)
    if not (chat_id and chats.append(chat_id, role, content, response)):
        chat_id = chats.create()
        chats.append(chat_id, "user", question)
        if answer is not None:
            chats.append(chat_id, "assistant", answer, response)
    st.session_state.chat_id = chat_id
    return chat_id


def sidebar_documents(pipeline: Pipeline) -> list[str] | None:
    """Lists, deletes and selects documents; returns the selection (None: all of them)."""
    st.subheader("Documents")
    infos = pipeline.documents()
    selected = []
    for info in infos:
        left, right = st.columns([5, 1], vertical_alignment="center")
        title = info.title
        named = (f"{escape_markdown(title)} :gray[· {escape_markdown(info.name)}]" if title
                 else escape_markdown(info.name))
        if left.checkbox(f"{named} :gray[· {info.chunks} chunks]",
                         value=True, key=f"use:{info.name}"):
            selected.append(info.name)
        with right.popover("", icon=":material/more_vert:", help="Summarize or delete"):
            if st.button("Summarize", key=f"sum:{info.name}", icon=":material/notes:"):
                st.session_state.pending = [info.name]
            if st.button("Delete", key=f"del:{info.name}", icon=":material/delete:"):
                try:
                    pipeline.remove(info.name)
                    st.rerun()
                except CitechatError as exc:  # StoreBusy: another process is writing
                    st.session_state.action_error = str(exc)  # shown by sidebar_upload
    scope = None if len(selected) in (0, len(infos)) else selected
    label = "Summarize all documents" if scope is None else f"Summarize the {len(scope)} selected"
    if infos:
        left, right = st.columns([3, 2], vertical_alignment="center")
        if left.button(label, key="sum:all", icon=":material/summarize:"):
            st.session_state.pending = scope or []
        right.selectbox("Summary length", SUMMARY_LENGTHS, key="summary_length",
                        format_func=str.capitalize, label_visibility="collapsed",
                        help="Auto follows each document's length")
    if infos and not selected:
        st.caption("No document ticked: chatting with all of them.")
    sidebar_upload(pipeline)
    return scope


def sidebar_upload(pipeline: Pipeline) -> None:
    with st.form("upload", clear_on_submit=True, border=False):
        files = st.file_uploader("Add documents", type=UPLOAD_TYPES, accept_multiple_files=True,
                                 key="uploads")
        if st.form_submit_button("Add to collection", icon=":material/upload:") and files:
            bar = st.progress(0.0, text="Adding…")
            results = []
            try:
                for done, upload in enumerate(files, start=1):
                    results.append(pipeline.ingest_bytes(upload.name, upload.getvalue()))
                    bar.progress(done / len(files), text=f"Added {done} of {len(files)}")
            except CitechatError as exc:  # StoreBusy, or the store or the model failing
                st.session_state.action_error = str(exc)
            st.session_state.upload_results = results
            st.rerun()  # list the new documents
    if error := st.session_state.pop("action_error", None):
        st.error(error)
    for result in st.session_state.pop("upload_results", []):
        if result.status == "failed":
            st.error(f"{escape_markdown(result.name)}: {result.reason}")
        else:
            st.success(f"{escape_markdown(result.name)}: {result.status} ({result.chunks} chunks)")


def sidebar_chats(chats: ChatStore) -> Chat:
    """Lists saved chats; returns the open one (id 0: new, saved on its first question)."""
    st.subheader("Chats")
    if st.button("New chat", key="new_chat", icon=":material/add:"):
        st.session_state.pop("chat_id", None)
    chat = chats.load(st.session_state.get("chat_id", 0)) or Chat(0, UNTITLED, 0.0)
    for saved in chats.chats()[:20]:
        current = saved.id == chat.id
        if st.button(escape_markdown(saved.title), key=f"chat:{saved.id}", disabled=current,
                     type="tertiary", icon=":material/chat:"):
            st.session_state.chat_id = saved.id
            st.rerun()
    left, right = st.columns(2)
    left.download_button("Export", key="export", data=export_markdown(chat),
                         file_name=f"citechat-{chat.id}.md", mime="text/markdown",
                         icon=":material/download:", help="The chat as Markdown, cited",
                         disabled=not chat.messages)
    if right.button("Delete", key="delete_chat", icon=":material/delete:", disabled=not chat.id):
        chats.delete(chat.id)
        del st.session_state.chat_id
        st.rerun()
    return chat


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
    chats = ChatStore(settings.data_dir / FILENAME)
    with st.sidebar:
        st.title(":material/format_quote: citechat")
        engine = st.selectbox("Engine", ["extractive", "openai"], key="engine",
                              index=0 if settings.engine == "extractive" else 1)
        k = st.slider("Passages to retrieve (k)", 1, max(20, settings.k), settings.k, key="k")
        pipeline = session_pipeline(key, engine, k, settings)
        st.caption(f":material/bolt: {escape_markdown(engine_status(pipeline.settings))}")
        scope = sidebar_documents(pipeline)
        chat = sidebar_chats(chats)
    st.caption("Answers quote your documents; open a citation to see the exact passage.")
    for message in chat.messages:
        show_message(pipeline, message)
    pending = st.session_state.pop("pending", None)
    question = st.chat_input("Ask about your documents", key="question")
    if pending is not None:
        what = ", ".join(pending) if pending else "all documents"
        respond(pipeline, chats, chat, f"Summarize {what}", pending or None, summarize=True)
        st.rerun()
    if question:
        with st.chat_message("user"):
            st.markdown(safe_markdown(question))
        respond(pipeline, chats, chat, question, scope, summarize=False)
        st.rerun()


main()
