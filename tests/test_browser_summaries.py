"""Summaries in a real browser (`streamlit run app.py`, Debian's Chromium through
Playwright), over the seeds plus a third document: the whole collection, two selected
documents at a short length chosen beside the Summarize button, and a typed request.
Every cited span shown is checked against the document."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page

from rag.config import load_settings
from rag.pipeline import Pipeline

from app_server import app_page, running_app, wait_until_idle
from conftest import GENEVA_TITLE, RUSI_TITLE, SEEDS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WAIT_MS = 90_000
THIRD = "harbour.txt"
THIRD_TITLE = "Harbour Works Begin"
THIRD_TEXT = ("Harbour Works Begin\n\nThe city council approved the new harbour wall on "
              "Tuesday after a long debate about its cost.\n\nThe wall will protect the old "
              "town from winter storms, the engineers said in their report.\n\nWork starts "
              "in spring and should take two years, according to the council's timetable.")


@pytest.fixture
def app_url(tmp_path: Path, seeded_dir: Path, embedder) -> Iterator[str]:
    data = tmp_path / "data"
    shutil.copytree(seeded_dir, data)
    (tmp_path / THIRD).write_text(THIRD_TEXT, encoding="utf-8")
    pipeline = Pipeline.build(load_settings(data_dir=data), embedder=embedder)
    assert pipeline.ingest([tmp_path / THIRD]).exit_code == 0
    with running_app(data, tmp_path / "streamlit.log") as url:
        yield url


def next_reply(page: Page, replies_before: int) -> Locator:
    """The assistant's next message, once all its citations are on the page."""
    messages = page.get_by_test_id("stChatMessage").filter(has=page.locator("details"))
    page.wait_for_function(
        "n => document.querySelectorAll('[data-testid=stChatMessage]:has(details)').length > n",
        arg=replies_before, timeout=WAIT_MS)
    wait_until_idle(page, WAIT_MS)
    return messages.last


def cited_documents(reply: Locator) -> set[str]:
    """The titles of the documents the reply's citations name."""
    labels = reply.get_by_test_id("stExpander").locator("summary")
    found = set()
    for i in range(labels.count()):
        text = labels.nth(i).inner_text()
        found.add(re.search(r"\[\d+\]\s*(.+?)\s+—\s+“", text, re.S).group(1))
    return found


def replies(page: Page) -> int:
    return page.locator("[data-testid=stChatMessage]:has(details)").count()


def test_collection_selection_length_and_typed_summaries(app_url: str, tmp_path: Path) -> None:
    with app_page(app_url, WAIT_MS) as page:
        page.get_by_role("button", name="Summarize all documents").click()
        whole = next_reply(page, 0)
        assert cited_documents(whole) == {RUSI_TITLE, GENEVA_TITLE, THIRD_TITLE}
        assert whole.locator("h3").count() >= 3  # a heading per document
        whole_count = whole.get_by_test_id("stExpander").count()  # `whole` is the last one

        page.get_by_test_id("stCheckbox").filter(has_text=THIRD).click()
        page.get_by_role("button", name="Summarize the 2 selected").wait_for(timeout=WAIT_MS)
        page.get_by_role("combobox", name="Summary length").click()
        page.get_by_role("option", name="Short").click()
        page.get_by_role("button", name="Summarize the 2 selected").click()
        selected = next_reply(page, 1)
        assert cited_documents(selected) == {RUSI_TITLE, GENEVA_TITLE}
        assert selected.get_by_test_id("stExpander").count() < whole_count

        box = page.get_by_test_id("stChatInputTextArea")
        box.fill("Summarize the Moscow Times article")
        box.press("Enter")
        typed = next_reply(page, 2)
        assert cited_documents(typed) == {GENEVA_TITLE}
        check_a_citation(typed)


def check_a_citation(reply: Locator) -> None:
    """Opens the first citation: its highlighted text is the document's exact span."""
    source = reply.get_by_test_id("stExpander").first
    source.locator("summary").click()
    mark = source.locator(".citechat-source mark")
    mark.wait_for(timeout=WAIT_MS)
    where = source.get_by_test_id("stCaptionContainer").first.inner_text()
    doc, start, end = re.fullmatch(r"(.+), characters (\d+)–(\d+)", where.strip()).groups()
    assert mark.text_content() == (SEEDS / doc).read_text(encoding="utf-8")[int(start):int(end)]
