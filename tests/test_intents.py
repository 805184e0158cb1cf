"""Typed summary requests: which messages are ones, of which documents, how long, on what;
and, end to end, that the chat answers one exactly as the Summarize button does."""

from __future__ import annotations

import pytest

from rag.intents import DocRef, SummaryIntent, resolve, summary_intent

from conftest import GENEVA, RUSI, SEEDS


@pytest.mark.parametrize(("message", "names", "length", "focus", "bullets"), [
    ("Summarize the Moscow Times article", ("the Moscow Times article",), "auto", "", False),
    ("give me a short summary of both documents", (), "short", "", False),
    ("Summarize both documents", (), "auto", "", False),
    ("Summarize what the RUSI piece says about the UN peacekeeping idea",
     ("the RUSI piece",), "auto", "the UN peacekeeping idea", False),
    ("Give me a one-paragraph summary of the RUSI piece", ("the RUSI piece",), "short", "",
     False),
    ("Summarize the report in five points", (), 5, "", True),
    ("Can you summarize the documents in 3 sentences?", (), 3, "", False),
    ("Summarize it in one sentence", (), 1, "", False),
    ("Please write a detailed summary of everything", (), "long", "", False),
    ("tl;dr of the RUSI commentary please", ("the RUSI commentary",), "short", "", False),
    ("What are the key points of both articles?", (), "auto", "", True),
    ("What is the Moscow Times article about?", ("the Moscow Times article",), "short", "",
     False),
    ("Summarize the documents on peacekeeping", (), "auto", "peacekeeping", False),
    ("Summarize everything about NATO", (), "auto", "NATO", False),
    ("summarise the RUSI and Moscow Times pieces", ("the RUSI", "Moscow Times pieces"), "auto",
     "", False),
])
def test_summary_requests_are_read(message, names, length, focus, bullets) -> None:
    assert summary_intent(message) == SummaryIntent(names, length, focus, bullets)


@pytest.mark.parametrize("message", [
    "Who summarized the talks?", "What did Ryabkov say about NATO?",
    "Does the RUSI piece mention a summary of the talks?", "Why did the talks stall?",
    "What is the summit in Madrid about?",
])
def test_questions_are_not_summary_requests(message: str) -> None:
    assert summary_intent(message) is None


@pytest.fixture(scope="module")
def seeds() -> list[DocRef]:
    return [DocRef(p.name, "", p.read_text(encoding="utf-8")) for p in sorted(SEEDS.glob("*"))]


@pytest.mark.parametrize(("message", "docs", "focus"), [
    ("Summarize the Moscow Times article", [GENEVA], ""),
    ("Summarize the RUSI piece", [RUSI], ""),
    ("Summarize what the RUSI piece says about the UN peacekeeping idea", [RUSI],
     "the UN peacekeeping idea"),
    ("summarise the article about peacekeeping", [RUSI], ""),
    ("summarise the RUSI and Moscow Times pieces", [RUSI, GENEVA], ""),
    (f"Summary of {GENEVA}", [GENEVA], ""),
    ("Summarize both documents", None, ""),
    ("Summarize the peacekeeping proposal", None, "the peacekeeping proposal"),
])
def test_names_resolve_to_documents(seeds, message, docs, focus) -> None:
    found = resolve(summary_intent(message), seeds)
    assert (found.docs, found.focus) == (docs, focus)


def test_a_typed_request_gets_the_buttons_summary(seeded) -> None:
    typed = seeded.ask("Summarize the Moscow Times article")
    button = seeded.summarize([GENEVA])
    assert typed.question == "Summarize the Moscow Times article"
    assert (typed.answer, typed.citations) == (button.answer, button.citations)
    both = seeded.ask("give me a short summary of both documents")
    assert both.answer == seeded.summarize(length="short").answer
    assert {c.doc for c in both.citations} == {RUSI, GENEVA}


def test_a_typed_request_sets_length_and_focus(seeded) -> None:
    five = seeded.ask("Summarize the RUSI piece in five points")
    assert len(five.citations) == 5 and five.answer.count("\n- ") == 4
    focused = seeded.ask("Summarize what the RUSI piece says about the UN peacekeeping idea")
    assert focused.answer == seeded.summarize(
        [RUSI], length="auto", focus="the UN peacekeeping idea").answer
    assert {c.doc for c in focused.citations} == {RUSI}
