"""The offline engine: cited sentences, refusals and follow-ups (summaries: test_summarize.py)."""

from __future__ import annotations

import pytest

from rag.engines.base import REFUSAL
from rag.engines.extractive import FOLLOW_UP_JOIN, ExtractiveEngine
from rag.types import Passage, Turn

from conftest import GENEVA

PASSAGES = [
    Passage("a.txt", 0, 61, 1.0, "Wendy Sherman led the U.S. delegation. The talks were long."),
    Passage("b.txt", 10, 58, 0.9, "Cats sleep a lot. Dogs bark at the postman daily."),
]


@pytest.fixture
def engine(embedder) -> ExtractiveEngine:
    return ExtractiveEngine(embedder)


def test_answer_is_the_best_sentence_with_a_marker(engine) -> None:
    draft = engine.answer("Who led the United States delegation?", PASSAGES)
    assert not draft.refused
    assert draft.text.startswith("Wendy Sherman led the U.S. delegation. [1]")
    first = draft.sources[0]
    assert (first.doc, first.start, first.end) == ("a.txt", 0, 38)
    assert PASSAGES[0].text[first.start : first.end] == first.text


def test_refuses_when_the_question_names_what_the_documents_lack(engine) -> None:
    draft = engine.answer("Who won the 2018 FIFA World Cup?", PASSAGES)
    assert draft.refused and draft.text == REFUSAL and draft.sources == []


def test_refuses_below_threshold_and_without_passages(embedder) -> None:
    strict = ExtractiveEngine(embedder, threshold=0.99)
    assert strict.answer("Who led the United States delegation?", PASSAGES).refused
    assert ExtractiveEngine(embedder).answer("Anything?", []).refused


def test_follow_up_carries_the_previous_question(engine) -> None:
    history = [Turn("What did the UN peacekeeping idea involve?", "…")]
    condensed = engine.condense(history, "Which country seemed to welcome it?")
    assert condensed == ("Which country seemed to welcome it?" + FOLLOW_UP_JOIN
                         + "What did the UN peacekeeping idea involve?")
    standalone = "What does Ryabkov want NATO to do about Ukraine at its next summit in Madrid?"
    assert engine.condense(history, standalone) == standalone


def test_seed_answers(seeded) -> None:
    response = seeded.ask("Who represented the United States at the Geneva talks?")
    assert not response.refused and "Sherman" in response.answer
    assert any(c.doc == GENEVA and "Sherman" in c.text for c in response.citations)
    for citation in response.citations:
        assert seeded.source_text(citation.doc)[citation.start : citation.end] == citation.text
    refused = seeded.ask("Who won the 2018 FIFA World Cup?")
    assert refused.refused and refused.citations == () and refused.answer == REFUSAL


def test_follow_up_over_the_seeds_finds_the_madrid_passage(seeded) -> None:
    first = seeded.ask("Who is Sergei Ryabkov?")
    second = seeded.ask("What does he want NATO to do at its next summit?",
                        [Turn(first.standalone_question, first.answer)])
    assert any("Madrid" in p.text for p in second.passages[:3])
    assert "Madrid" in second.answer
