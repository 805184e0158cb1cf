"""The refusal rule: each signal, read off candidate sentences, and the reason it gives."""

from __future__ import annotations

import pytest

from rag.lexical import tokenize
from rag.refusal import Signals, entities, read_signals, refusal_reason

CANDIDATES = ["Wendy Sherman led the U.S. delegation in 2022.",
              "The talks were long and did not settle anything."]


def signals(question: str, extract: str = CANDIDATES[0], best: float = 0.8,
            known=None) -> Signals:
    terms = [frozenset(t) for t in tokenize(CANDIDATES)]
    return read_signals(question, CANDIDATES, terms, extract, best, known)


@pytest.mark.parametrize(("question", "reason"), [
    ("Who led the United States delegation?", None),  # U.S. stands for United States
    ("Who led the delegation in 2022?", None),
    ("Who led the delegation in 2021?", "uncovered: 2021"),  # in no candidate at all
    ("Who never led the delegation?", "negation"),
    ("Who led the Vienna delegation?", "uncovered: Vienna"),
    ("Why is the Irish walker glad?", None),  # a people, named otherwise ("Ireland")
    ("Did Emmanuel Macron lead it?", "uncovered: Emmanuel Macron"),
])
def test_reasons(question: str, reason: str | None) -> None:
    assert refusal_reason(signals(question)) == reason


def test_a_number_the_best_extract_lacks() -> None:
    found = signals("Were the talks long in 2022?", extract=CANDIDATES[1])
    assert refusal_reason(found) == "number: 2022"


def test_a_capitalised_never_is_a_title_not_a_negation() -> None:
    assert signals("Did Never Cry Wolf lead the delegation?").negation is False
    assert signals("Who never led the delegation?").negation is True


@pytest.mark.parametrize(("question", "reason"), [
    ("How many delegations did Wendy Sherman lead?", "no count"),  # "2022" counts none
    ("When did Wendy Sherman lead the delegation?", None),  # 2022
    ("When were the talks long?", "no date"),
    ("Who said the talks were long?", None),  # no name: not a reason on its own
    ("What did Wendy Sherman say about the talks?", "no speaker"),  # she leads, says nothing
])
def test_the_kind_of_answer_asked_for_is_missing(question: str, reason: str | None) -> None:
    extract = CANDIDATES[1] if "talks" in question else CANDIDATES[0]
    assert refusal_reason(signals(question, extract=extract)) == reason


def test_negation_is_matched_by_a_negated_extract() -> None:
    assert refusal_reason(signals("Which talks did not settle anything?",
                                  extract=CANDIDATES[1])) is None


@pytest.mark.parametrize(("best", "threshold", "refused"),
                         [(0.2, 0.35, True), (0.35, 0.35, False), (0.9, 0.95, True)])
def test_low_evidence(best: float, threshold: float, refused: bool) -> None:
    reason = refusal_reason(signals("Who led the delegation?", best=best), threshold)
    assert (reason == "low evidence") is refused


def test_names_the_collection_lacks_are_unknown_not_just_uncovered() -> None:
    found = signals("Did Emmanuel Macron lead it?", known=lambda name: False)
    assert found.unknown == ("Emmanuel Macron",)
    assert refusal_reason(found) == "unknown: Emmanuel Macron"
    elsewhere = signals("Did Emmanuel Macron lead it?", known=lambda name: True)
    assert elsewhere.unknown == () and elsewhere.uncovered == ("Emmanuel Macron",)


@pytest.mark.parametrize(("question", "names"), [
    ("Who won the 2018 FIFA World Cup?", ["2018 FIFA World Cup"]),
    ("What did Emmanuel Macron propose?", ["Emmanuel Macron"]),
    ("Which band was formed first, The Exies or Circus Diablo?", ["Exies", "Circus Diablo"]),
    ("What is the plan?", []),
    # a capitalised word opening the question or a clause is the sentence's capital
    ("Quick question: who is Wendy Sherman?", ["Wendy Sherman"]),
    ("Stopped: who represented the United States?", ["United States"]),
    ("In 1990, what did NATO do?", ["1990", "NATO"]),
])
def test_entities(question: str, names: list[str]) -> None:
    assert entities(question) == names


def test_the_kind_asked_for_is_read_in_what_the_reply_quotes() -> None:
    """A date in the neighbour of the quoted sentence does not answer "when"."""
    question = "When did Wendy Sherman lead the delegation?"
    terms = [frozenset(t) for t in tokenize(CANDIDATES)]
    window = " ".join(CANDIDATES)
    assert read_signals(question, CANDIDATES, terms, window, 0.8).missing is None
    quoted = read_signals(question, CANDIDATES, terms, window, 0.8, quoted=CANDIDATES[1])
    assert refusal_reason(quoted) == "no date"
