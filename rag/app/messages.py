"""How a saved chat message looks on the page: the reply with its claim flags, and each
citation as an expander holding the highlighted passage (and, for a kept PDF, the cited
page with the passage highlighted, rendered by rag/pages.py). It renders only: replies
are made by rag/app/worker.py, and untrusted text goes through rag/render.py.
"""

from __future__ import annotations

import streamlit as st

from rag.chats import Message
from rag.errors import CitechatError
from rag.pages import PageView, cited_pages
from rag.pipeline import Pipeline
from rag.render import (
    escape_markdown,
    highlight_html,
    page_label,
    safe_markdown,
    short,
    with_badges,
)

FLAGS = {"weak": ("Weakly supported", ":material/warning:"),  # claim verdict -> label, icon
         "unsupported": ("Not supported by its citation", ":material/block:"),
         "uncited": ("No citation", ":material/help:")}


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


@st.cache_data(max_entries=64, show_spinner="Rendering the page…")
def page_views(_pipeline: Pipeline, doc: str, content_hash: str, cited: str,
               pages: tuple[int, int]) -> list[PageView]:
    """The cited pages with the citation highlighted; [] without the PDF's bytes."""
    original = _pipeline.original(doc)
    return cited_pages(original, cited, pages) if original else []
