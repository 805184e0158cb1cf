"""In a real browser: the app's summaries of the seeds (the whole collection, then each
document, ticked alone) quote their sources, so the page shows no claim flag under them
("Weakly supported", "Not supported by its citation", "No citation").

Serves app.py with `streamlit run` on a copy of the seeded data directory and drives
Debian's Chromium through Playwright (tests/app_server.py).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from rag.documents import parse

from app_server import app_page, wait_until_idle
from conftest import GENEVA, RUSI, SEEDS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WAIT_MS = 90_000
FLAG_LABELS = ("Weakly supported", "Not supported by its citation", "No citation")


def summary_replies(page: Page):
    """The assistant messages that carry sources (an answer or a summary)."""
    return page.get_by_test_id("stChatMessage").filter(has=page.locator("details"))


def wait_for_replies(page: Page, count: int):
    replies = summary_replies(page)
    replies.nth(count - 1).wait_for(timeout=WAIT_MS)
    wait_until_idle(page, WAIT_MS)
    return replies.nth(count - 1)


def label(doc: str) -> str:
    """How the page names a document's citations: its title, else its file name."""
    return parse(doc, (SEEDS / doc).read_bytes()).title or doc


def assert_unflagged(reply, docs: tuple[str, ...]) -> None:
    """A cited reply, citing exactly `docs`, with no claim flagged."""
    text = reply.inner_text()
    assert reply.locator(".stMarkdownBadge").count() >= 2, text
    assert {d for d in (RUSI, GENEVA) if label(d) in text} == set(docs), text
    for flag in FLAG_LABELS:
        assert flag not in text, text


def test_summaries_in_the_app_raise_no_claim_flags(app_url: str) -> None:
    with app_page(app_url, WAIT_MS) as page:
        page.get_by_role("button", name="Summarize all documents").click()
        assert_unflagged(wait_for_replies(page, 1), (RUSI, GENEVA))
        # each document alone: untick the other one, summarize the selection
        sidebar = page.get_by_test_id("stSidebar")
        for count, (doc, other) in enumerate(((RUSI, GENEVA), (GENEVA, RUSI)), start=2):
            sidebar.get_by_text(other).click()
            if count == 3:
                sidebar.get_by_text(doc).click()
            page.get_by_role("button", name="Summarize the 1 selected").click()
            assert_unflagged(wait_for_replies(page, count), (doc,))
