"""citechat's web page: chat with your documents, every claim cited and checkable.

UI only. Answers, summaries, ingest and chat storage all come from `rag`; this file lays
them out. Untrusted text (documents, model output) goes through rag.render: Markdown
without HTML, images or links (never `unsafe_allow_html`), document quotes escaped, and
highlighted passages as fully escaped HTML (why HTML there: see rag/render.py).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import streamlit as st

from rag.app import identity, model_settings
from rag.app.worker import Replies, Reply, request
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

SEEDS = resources.files("rag") / "seeds"  # package data: the sample documents
UPLOAD_TYPES = ["txt", "md", "html", "htm", "pdf", "docx"]
SUMMARY_LENGTHS = ["auto", "short", "medium", "long"]
FLAGS = {"weak": ("Weakly supported", ":material/warning:"),  # claim verdict -> label, icon
         "unsupported": ("Not supported by its citation", ":material/block:"),
         "uncited": ("No citation", ":material/help:")}
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


@st.cache_data(ttl=30, show_spinner=False)
def listed_models(base_url: str | None, key_fingerprint: str, _key: str | None) -> list[str]:
    """The server's models, asked again after 30 s; [] when it does not answer."""
    try:
        return model_settings.listed_models(base_url, _key)
    except CitechatError:
        return []


def save_model(data_dir: Path) -> None:
    """The Save button's callback: keeps the fields, then empties the key's."""
    state = st.session_state
    try:
        model_settings.save_choice(data_dir, state.model_url,
                                   state.get("model_pick") or state.get("model_typed", ""))
        if state.model_key.strip():
            model_settings.save_key(data_dir, state.model_key)
        state.model_note = ("success", "Saved.")
        state.model_key = ""
    except CitechatError as exc:
        state.model_note = ("error", str(exc))


def sidebar_model(settings: Settings) -> Settings:
    """The generative model's base URL, model and key (rag/app/model_settings.py), with
    Test connection; returns the settings with them applied."""
    applied = model_settings.applied(settings)
    with st.expander("Model server", icon=":material/tune:"):
        st.text_input("Base URL", value=applied.openai_base_url or "", key="model_url",
                      placeholder="https://api.openai.com/v1")
        saved = model_settings.saved_key(settings.data_dir) is not None
        st.text_input("API key", type="password", key="model_key",
                      placeholder="Saved (type to replace)" if saved else "None saved")
        key = applied.openai_api_key
        models = listed_models(applied.openai_base_url, model_settings.fingerprint(applied), key)
        if models:
            options = models if applied.openai_model in models else [applied.openai_model, *models]
            st.selectbox("Model", options, index=options.index(applied.openai_model),
                         key="model_pick")
        else:
            st.text_input("Model", value=applied.openai_model, key="model_typed")
        left, right = st.columns(2)
        left.button("Save", key="model_save", icon=":material/save:",
                    on_click=save_model, args=(settings.data_dir,))
        if right.button("Test connection", key="model_test", icon=":material/lan:"):
            state = st.session_state  # what the fields hold now, saved or not
            try:
                st.session_state.model_note = ("success", model_settings.check_connection(
                    model_settings.checked_url(state.model_url), state.model_key.strip() or key,
                    state.get("model_pick") or state.get("model_typed", "")))
            except CitechatError as exc:
                st.session_state.model_note = ("error", str(exc))
        if note := st.session_state.pop("model_note", None):
            (st.success if note[0] == "success" else st.error)(note[1])
    return applied


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
        if response.get("stopped"):
            st.markdown(with_badges(safe_markdown(message.content)) or "*(nothing yet)*")
            st.caption(":material/stop_circle: Stopped")
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


def sidebar_chats(chats: ChatStore, owner: str) -> Chat:
    """Lists `owner`'s saved chats; returns the open one (id 0: new, saved on its first
    question)."""
    st.subheader("Chats")
    if st.button("New chat", key="new_chat", icon=":material/add:"):
        st.session_state.pop("chat_id", None)
    chat = chats.load(st.session_state.get("chat_id", 0), owner) or Chat(0, UNTITLED, 0.0)
    for saved in chats.chats(owner)[:20]:
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
        chats.delete(chat.id, owner)
        del st.session_state.chat_id
        st.rerun()
    return chat


def chat_owner(settings: Settings) -> str:
    """Whose chats this session shows (rag/app/identity.py); gives a browser without one
    its id cookie."""
    cookies = st.context.cookies
    if "browser_id" not in st.session_state:
        st.session_state.browser_id = identity.browser_id(cookies) or identity.new_browser_id()
    browser = st.session_state.browser_id
    if not settings.shared_chats and identity.browser_id(cookies) != browser:
        st.html(identity.cookie_script(browser), unsafe_allow_javascript=True)
    try:
        user = st.user.to_dict()
    except Exception:  # login not configured (or broken): no user
        user = {}
    if "is_logged_in" in user:  # an [auth] section in .streamlit/secrets.toml
        if user["is_logged_in"]:
            who = user.get("email") or user.get("name") or "you"
            st.caption(f":material/person: Signed in as {escape_markdown(str(who))}")
            st.button("Log out", key="logout", on_click=st.logout, icon=":material/logout:")
        else:
            st.button("Log in", key="login", on_click=st.login, icon=":material/login:",
                      help="Your chats follow you from browser to browser")
    return identity.owner(settings.shared_chats, user, browser)


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
