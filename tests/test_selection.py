"""Which extracts answer a question, by its kind: one, one per document, one per thing
compared, list items, or a refusal."""

from __future__ import annotations

import pytest

from rag.selection import Selector
from rag.types import Passage

DOCS = {
    "exies.txt": "The Exies\n\nThe Exies are an American rock band formed in 1997 in Los Angeles.",
    "diablo.txt": "Circus Diablo\n\nCircus Diablo is a rock band formed in 2004.",
    "ban.txt": ("Penalties were set out. Employers face fines of up to £2,500. Licensees "
                "may lose their licence. Individuals face fines of £1,000.\n\nThe weather "
                "was mild."),
}


def passages() -> list[Passage]:
    return [Passage(doc, 0, len(text), 1.0, text, title=text.split("\n")[0])
            for doc, text in DOCS.items()]


@pytest.fixture(scope="module")
def selector(embedder) -> Selector:
    return Selector(embedder)


@pytest.mark.parametrize(("question", "docs"), [
    ("Which band was formed first, The Exies or Circus Diablo?", {"exies.txt", "diablo.txt"}),
    ("When was Circus Diablo formed?", {"diablo.txt"}),
])
def test_one_extract_per_thing_compared(selector, question: str, docs: set[str]) -> None:
    found = selector.select(question, passages())
    assert found.refusal is None and {e.doc for e in found.extracts} == docs


def test_a_list_question_gets_its_items(selector) -> None:
    found = selector.select("What penalties face those who break the ban?", passages())
    said = " ".join(e.text for e in found.extracts)
    assert all(part in said for part in ("2,500", "licence", "1,000"))
    assert "weather" not in said


@pytest.mark.parametrize("question", ["When was Nirvana formed?",
                                      "When was Circus Diablo formed in 1997?"])
def test_refusals(selector, question: str) -> None:
    found = selector.select(question, passages())
    assert found.refusal and found.extracts == ()


def test_every_extract_slices_its_document(selector) -> None:
    for question in ("Which band was formed first, The Exies or Circus Diablo?",
                     "What penalties face those who break the ban?"):
        for extract in selector.select(question, passages()).extracts:
            for s in extract.sentences:
                assert DOCS[s.doc][s.start:s.end] == s.text
