"""What a question asks for: its scope over documents and the kind of answer it wants."""

from __future__ import annotations

import pytest

from rag.questions import (
    answer_type,
    asks_for_account,
    asks_why_or_how,
    compared_things,
    holds_answer_type,
    is_cross_document,
    is_list_question,
    missing_answer,
    without_scope,
    without_source_descriptor,
)


@pytest.mark.parametrize(("question", "cross"), [
    ("Which Russian officials appear in each of the two articles?", True),
    ("Compare how the two articles describe NATO.", True),
    ("What do both documents say about Ukraine?", True),
    ("Who represented the United States at the Geneva talks?", False),
    ("In the Moscow Times piece, what does Moscow compare strategic stability to?", False),
])
def test_cross_document(question: str, cross: bool) -> None:
    assert is_cross_document(question) is cross


def test_scope_and_source_words_are_removed() -> None:
    assert without_scope("Which officials appear in each of the two articles?") == \
        "Which officials appear ?"
    assert without_source_descriptor(
        "Who is the U.S. defence secretary named in the RUSI commentary?") == \
        "Who is the U.S. defence secretary?"


@pytest.mark.parametrize(("question", "kind"), [
    ("Who represented the United States?", "name"),
    ("Which Russian officials appear in each of the two articles?", "name"),
    ("When is the next NATO summit?", "date"),
    ("How many troops are near the border?", "number"),
    ("What did the UN peacekeeping idea involve?", None),
    ("What's the budget for the Rings musical?", "number"),
    ("What is the population of Warsaw?", "number"),
    ("On what date was the match played?", "date"),
    ("In which year did the band form?", "date"),
    ("What is the main reason?", None),
    ("What is the name of the king?", None),
])
def test_answer_type(question: str, kind: str | None) -> None:
    assert answer_type(question) == kind


@pytest.mark.parametrize(("question", "text", "holds"), [
    ("Who represented the United States?", "Deputy Secretary of State Wendy Sherman spoke.", True),
    # the only name is the one the question already gives
    ("Who met Wendy Sherman?", "Talks with Wendy Sherman went on.", False),
    ("Who would the UN contact?", "It would contact the leaders of Donetsk.", True),
    ("When is the summit?", "The summit is in June, in Madrid.", True),
    ("How many troops?", "A reported 100,000-plus troops.", True),
    ("How many troops?", "Many troops.", False),
    ("How many troops?", "Some three hundred troops.", True),
    # years before 1500, decades and centuries are dates; a count is not
    ("When did Kublai move the capital?", "Kublai moved it in 1272.", True),
    ("When was the Duchy founded?", "It was founded in 911, by treaty.", True),
    ("When did it spread?", "It spread in the 1960s.", True),
    ("When was it built?", "It dates from the 10th century.", True),
    ("When did it fall?", "It fell in 300 BC.", True),
    ("When did it fall?", "Some 1,000 men fell.", False),
    # what a text holds is kept between questions; whether it answers is the question's
    ("Who spoke at the talks?", "Talks with Wendy Sherman went on.", True),
    ("What is the plan?", "Wendy Sherman in June 2021 with 100,000 troops.", False),
])
def test_holds_answer_type(question: str, text: str, holds: bool) -> None:
    assert holds_answer_type(question, text) is holds


@pytest.mark.parametrize(("question", "listing"), [
    ("What punishments face those who break Scotland's smoking ban?", True),
    ("Which changes in Pakistani politics do analysts credit?", True),
    ("What are the main reasons for the delay?", True),
    ("List the officials named.", True),
    ("Name three rivers of France.", True),
    ("Name the mother of Edward Stafford.", False),  # one person
    ("What does he want NATO to do?", False),
    ("What is the plan?", False),
    ("Who led the talks?", False),
])
def test_list_questions(question: str, listing: bool) -> None:
    assert is_list_question(question) is listing


@pytest.mark.parametrize(("question", "things"), [
    ("Which band was formed first, The Exies or Circus Diablo?", ["Exies", "Circus Diablo"]),
    ("Are Christopher Nolan and Sathish Kalathil both film directors?",
     ["Christopher Nolan", "Sathish Kalathil"]),
    ("Which singer is American, Mark King or Nick Hexum?", ["Mark King", "Nick Hexum"]),
    ("Who led the United States delegation?", []),
])
def test_compared_things(question: str, things: list[str]) -> None:
    assert compared_things(question) == things


@pytest.mark.parametrize(("question", "text", "missing"), [
    ("How many jobs will the ban cost?", "The trade says 1,000 jobs will go.", None),
    ("How many jobs will the ban cost?", "Some 2,000 bar jobs will go.", None),
    ("How many Victorians are Catholic?", "Around 26% of Victorians are Catholic.", None),
    ("How many jobs will the ban cost?", "Jobs would be lost, and fines of £2,500 paid.",
     "count"),  # a number, but not of jobs
    ("How many jobs will the ban cost?", "Three hundred jobs will go.", None),
    ("When was the match played?", "England lost 18-17 to France.", "date"),
    ("On what date was the match played?", "England lost on 12 February.", None),
    ("Who sang the song?", "The song was sung in Barbados.", "name"),
    ("Who sang the song?", "The song was sung by Cliff Richard.", None),
    ("Why did the firm move?", "It moved for 20 reasons.", None),  # no kind asked for
    ("How many times was he premier?", "He was premier twice.", None),
    ("How many times was he premier?", "He was premier in 1887.", "count"),
    ("How many times was he selected?", "He was a two-time Pro Bowl selection.", None),
    ("How many times was he selected?", "He was a full-time player.", "count"),
    # what a named person said: a sentence naming them, or the next one, speaks or quotes
    ("What did Vladimir Putin say about the strike?",
     "One of his fellow pupils was Vladimir Putin.\n\n\"Hunger strike is a last resort.",
     "speaker"),  # the quote is another extract's, not his
    ("What did Vladimir Putin say about the strike?",
     "Vladimir Putin was asked about it.\nHe said it was sad.", None),
    ("What does Dusty Hare think went wrong?", "\"Golfers miss too,\" Hare added.", None),
    ("What does the licensed trade say it will cost?", "It will cost jobs.", None),
])
def test_missing_answer(question: str, text: str, missing: str | None) -> None:
    assert missing_answer(question, text) == missing


@pytest.mark.parametrize(("question", "reason"), [
    ("Why is the walker glad he refused surgery?", True),
    ("How did England lose to France?", True),
    ("How many jobs will go?", False),
    ("How long was he left without pain relief?", False),
    ("What did the analysts credit?", False),
])
def test_asks_why_or_how(question: str, reason: bool) -> None:
    assert asks_why_or_how(question) is reason


@pytest.mark.parametrize(("question", "account"), [
    ("Why is the walker glad he refused surgery?", True),
    ("In the story about the ex-spy, what happened once he was freed in 1992?", True),
    ("What did David McLetchie want to know about jails?", True),
    ("What did the Normans do in Italy?", True),
    ("What did the Normans call their duchy?", False),  # a name: a fact one phrase gives
    ("What's the budget for the Rings musical?", False),
    ("How many jobs will go?", False),
])
def test_asks_for_account(question: str, account: bool) -> None:
    assert asks_for_account(question) is account
