"""Candidate sentences from passages, and the extracts grown around an answering one."""

from __future__ import annotations

import pytest

from rag.extracts import candidate_sentences, extract_span, is_list_item, refers_back
from rag.types import Passage

TEXT = ("Smoke-free areas will save lives, Jack McConnell said. He told MSPs the ban would "
        "come in 2006. Penalties include:\n- fines of up to £2,500\n- losing a licence\n"
        "- a fine of £1,000 for individuals\n\nThe trade is unhappy. Pubs fear closures.")


def passages(*cuts: tuple[int, int]) -> list[Passage]:
    return [Passage("d.txt", s, e, 1.0 - 0.1 * i, TEXT[s:e]) for i, (s, e) in enumerate(cuts)]


def test_touching_passages_are_read_as_one_and_offsets_are_exact() -> None:
    cut = TEXT.index("He told") + 8  # a passage boundary inside a sentence
    found = candidate_sentences(passages((cut, len(TEXT)), (0, cut)))
    assert [s.text for s in found][:2] == ["Smoke-free areas will save lives, Jack McConnell said.",
                                           "He told MSPs the ban would come in 2006."]
    assert all(TEXT[s.start:s.end] == s.text for s in found)
    assert found[0].rank == found[1].rank == 0  # the best of the passages read as one


def test_passages_apart_are_not_neighbours() -> None:
    first = TEXT.index("He told")
    found = candidate_sentences(passages((0, first - 1), (TEXT.index("The trade"), len(TEXT))))
    i = [s.text for s in found].index("The trade is unhappy.")
    assert extract_span(found, i, lambda j: True) == (i, i + 1)  # nothing before it is near


def sentences():
    return candidate_sentences(passages((0, len(TEXT))))


def index(found, opening: str) -> int:
    return next(i for i, s in enumerate(found) if s.text.startswith(opening))


@pytest.mark.parametrize(("answer", "wanted", "expected"), [
    # a sentence saying "He" brings the one naming him
    ("He told", lambda j: False, ("Smoke-free", "He told")),
    # a sentence introducing a list brings all its items, beyond three sentences
    ("Penalties include", lambda j: False, ("Penalties include", "- a fine")),
    # and so does a neighbour joining the answer that introduces one
    ("He told", lambda j: True, ("Smoke-free", "- a fine")),
    # an item of a list brings the items after it
    ("- losing", lambda j: False, ("- losing", "- a fine")),
    # neighbours join only when wanted
    ("The trade", lambda j: False, ("The trade", "The trade")),
    ("The trade", lambda j: True, ("The trade", "Pubs fear")),
])
def test_extract_span(answer: str, wanted, expected: tuple[str, str]) -> None:
    found = sentences()
    first, last = extract_span(found, index(found, answer), wanted)
    assert (first, last) == (index(found, expected[0]), index(found, expected[1]))
    assert last - first < 3 or found[last].text.startswith("- ")  # only lists run longer


@pytest.mark.parametrize(("text", "back"), [
    ("He suggested more contacts.", True), ("But the company said no.", True),
    ("In 1995 she published a book.", True), ("“They are wrong,” he said.", True),
    ("Wendy Sherman led the talks.", False), ("Hence the delay.", False)])
def test_refers_back(text: str, back: bool) -> None:
    assert refers_back(text) is back


@pytest.mark.parametrize(("text", "item"), [
    ("- fines of up to £2,500", True), ("• a ban", True), ("2. A second point", True),
    ("(a) first", True), ("2,500 fines", False), ("A normal sentence.", False)])
def test_is_list_item(text: str, item: bool) -> None:
    assert is_list_item(text) is item


@pytest.mark.parametrize(("text", "title", "headings"), [
    # a first line of its own without a full stop: the headline, quoted by no answer
    ("Strandloper (novel)\n\nStrandloper is a novel by Alan Garner.", "", [True, False]),
    # the title on a line of its own, below a masthead line that is prose
    ("Sport news today.\nNo UK premiere for Rings musical\n\nThe show opens in Toronto.",
     "No UK premiere for Rings musical", [False, True, False]),
    # a first paragraph whose first sentence is taken for the title is prose
    ("The crisis began in 1973 when oil rose. Prices rose.",
     "The crisis began in 1973 when oil rose.", [False, False]),
    ("Prices rose.\n\nThey fell.", "", [False, False]),  # a first line with a full stop
])
def test_a_headline_is_page_furniture(text: str, title: str, headings: list[bool]) -> None:
    found = candidate_sentences([Passage("d.txt", 0, len(text), 1.0, text, title=title)])
    assert [s.furniture for s in found] == headings
