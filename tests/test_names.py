"""The one name finder, read three ways (tables); capitals of any alphabet count."""

from __future__ import annotations

import pytest

from rag.names import asserted, entities, names


@pytest.mark.parametrize(("question", "found"), [
    ("Where was Ötzi found?", ["Ötzi"]),
    ("What did Émile Zola write in 1898?", ["Émile Zola", "1898"]),
    ("Who founded Łódź University?", ["Łódź University"]),
    ("Ötzi: where was he found?", []),  # a lone word opening a clause is its capital
    ("Both Never Cry Wolf and Big Hero 6 were released by what label?",
     ["Never Cry Wolf", "Big Hero 6"]),
    ("Are Frozen and Senet both games?", ["Frozen", "Senet"]),  # a name after "Are"
])
def test_entities_read_any_alphabets_capitals(question: str, found: list[str]) -> None:
    assert entities(question) == found


@pytest.mark.parametrize(("text", "found"), [
    ("The mummy, known as Ötzi, was found by Helmut Simon.", ["Ötzi", "Helmut Simon"]),
    ("It was filmed at the Bank of England by Ángel Díaz.", ["Bank of England", "Ángel Díaz"]),
    # a lone word opening a sentence counts only where it is capitalised mid-sentence too
    ("Ötzi lies in Bolzano. He was moved there from Österreich.", ["Bolzano", "Österreich"]),
])
def test_names_read_any_alphabets_capitals(text: str, found: list[str]) -> None:
    assert names(text) == found


@pytest.mark.parametrize(("sentence", "found"), [
    ("The find was announced by Ötzi Museum staff.", ["Ötzi Museum"]),
    ("Wendy Sherman met Sergei Ryabkov in Genève.", ["Wendy Sherman", "Sergei Ryabkov",
                                                     "Genève"]),
    ("NATO said so.", []),  # no lowercase letter: an acronym is checked as a number would be
])
def test_asserted_names(sentence: str, found: list[str]) -> None:
    assert asserted(sentence) == found
