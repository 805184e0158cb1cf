"""The page's sidebar parts: the model server's settings (rag/app/model_settings.py holds
the logic), the documents with their Summarize and Delete actions and the upload form,
the owner's saved chats, and who that owner is (rag/app/identity.py). It lays them out
only: ingest and chat storage are rag's.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from rag.app import identity, model_settings
from rag.chats import UNTITLED, Chat, ChatStore, export_markdown
from rag.config import Settings
from rag.errors import CitechatError
from rag.pipeline import Pipeline
from rag.render import escape_markdown

UPLOAD_TYPES = ["txt", "md", "html", "htm", "pdf", "docx"]
SUMMARY_LENGTHS = ["auto", "short", "medium", "long"]


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
