"""Which extracts answer a question, by its kind: one, one per document, one per thing
compared, list items, or a refusal."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from rag.ranked import Growth, Ranked
from rag.refusal import DEFAULT_THRESHOLD
from rag.scoring import Scores
from rag.selection import Selector, _runner_up
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


# -- growing the answering sentence (pure: given scores) -------------------------------

PROSE = ("Ada Lovelace was born in London. She wrote the first program in 1843. "
         "Her father was Lord Byron.\n\nBabbage designed the engine.")


def ranked(scores: list[float], growth: Growth):
    from rag.extracts import candidate_sentences

    sentences = candidate_sentences([Passage("ada.txt", 0, len(PROSE), 1.0, PROSE)])
    return Ranked(sentences, Scores(np.array(scores), (), frozenset()), growth)


@pytest.mark.parametrize(("scores", "growth", "quoted"), [
    ([1.0, 0.55, 0.1, 0.1], Growth(), [0]),
    ([1.0, 0.75, 0.1, 0.1], Growth(), [0, 1]),
    # "She wrote…" answers; the sentence naming her joins it, however it scores
    ([0.1, 1.0, 0.1, 0.1], Growth(), [0, 1]),
    # a neighbour scoring nearly as well joins whatever it opens with
    ([1.0, 0.2, 0.2, 0.1], Growth(neighbour=0.15), [0, 1, 2]),
    # never across the paragraph break
    ([0.1, 0.1, 1.0, 0.9], Growth(neighbour=0.5), [1, 2]),
])
def test_growth(scores: list[float], growth: Growth, quoted: list[int]) -> None:
    found = ranked(scores, growth)
    first = int(np.argmax(scores))
    extract = found.extract(first)
    assert [found.sentences.index(s) for s in extract.sentences] == quoted


@pytest.mark.parametrize(("first", "quoted"), [
    (0, [0, 1, 2]),  # what follows it in its paragraph, however it scores
    (1, [0, 1, 2]),  # "She…" with the sentence naming her
    (3, [3]),  # never across the paragraph break
])
def test_onward_growth_for_why_and_how(first: int, quoted: list[int]) -> None:
    found = ranked([0.1, 0.1, 0.1, 0.1], Growth())
    extract = found.extract(first, onward=True)
    assert [found.sentences.index(s) for s in extract.sentences] == quoted


@pytest.mark.parametrize(("scores", "runner_up", "count", "second"), [
    ([1.0, 0.1, 0.1, 0.9], 0.85, 1, [3]),  # another paragraph's sentence scoring near joins
    ([1.0, 0.1, 0.1, 0.8], 0.85, 1, []),  # too far below the best
    ([1.0, 0.1, 0.1, 0.9], None, 1, []),  # off
    ([1.0, 0.1, 0.86, 0.9], 0.85, 1, [3]),  # the best of them
    # the best two, best first; "Her father…" with the sentence naming her
    ([1.0, 0.1, 0.86, 0.9], 0.85, 2, [3, 1, 2]),
])
def test_runner_up(scores: list[float], runner_up: float | None, count: int,
                   second: list[int]) -> None:
    found = ranked(scores, Growth(runner_up=runner_up, runner_ups=count))
    extra = _runner_up(found, found.extract(0))
    assert [found.sentences.index(s) for e in extra for s in e.sentences] == second


def test_a_why_or_how_runner_up_quotes_its_paragraph_on() -> None:
    """For "why" and "how", a runner-up is the sentence naming the reason or manner and
    what follows it ("…a treatment called cryotherapy. It cools the body to -160C.")."""
    found = ranked([0.1, 0.9, 0.1, 1.0], Growth(runner_ups=1))
    extra = _runner_up(found, found.extract(3), onward=True)
    assert [found.sentences.index(s) for e in extra for s in e.sentences] == [0, 1, 2]


# -- the second hop (pure: given scores) -----------------------------------------------

HOP_DOCS = {
    "Leland.txt": "Leland\n\nMovies such as Maximum Overdrive have been shot in Leland.",
    "Maximum Overdrive.txt": ("Maximum Overdrive\n\nMaximum Overdrive is a 1986 horror film. "
                              "It was written and directed by Stephen King."),
    "Wilmington.txt": "Wilmington\n\nWilmington is a port city near Leland.",
    "Ports.txt": "Ports\n\nA port handles ships.",
    "Kerry Saxby.txt": "Kerry Saxby\n\nKerry Saxby was born in Young, New South Wales.",
    "Young_ New South Wales.txt": "At the 2011 census Young had 6,960 people.",
    "Act of War_ Direct Action.txt": ("Act of War: Direct Action\n\nAct of War: Direct Action "
                                      "is a game with a story by Dale Brown."),
    "Direct action.txt": "Direct action\n\nDirect action is a form of protest.",
    "Dale Brown.txt": "Dale Brown\n\nDale Brown writes aviation thrillers. He lives in Reno.",
    "In Love and War.txt": ("In Love and War\n\nIn Love and War is a 1987 film starring James "
                            "Woods. It was shot in Texas. It is based on the story of James "
                            "Stockdale."),
    "James Stockdale.txt": "James Stockdale\n\nJames Stockdale was awarded the Medal of Honor.",
}


def hop_ranked(question: str, scores: dict[str, float]) -> Ranked:
    """The candidates of HOP_DOCS, each scored as `scores` says by its first words."""
    from rag.extracts import candidate_sentences
    from rag.lexical import tokenize

    sentences = candidate_sentences([Passage(d, 0, len(t), 1.0, t, title=t.split("\n")[0])
                                     for d, t in HOP_DOCS.items()])
    score = np.array([next((v for k, v in scores.items() if s.text.startswith(k)), 0.05)
                      for s in sentences])
    terms = tuple(frozenset(t) for t in tokenize([s.text for s in sentences]))
    return Ranked(sentences, Scores(score, terms, frozenset(tokenize([question])[0])))


@pytest.mark.parametrize(("question", "scores", "hop"), [
    # the bridge's sentence holding what the extract lacks ("directed"), though it
    # scores below the bridge's first sentence and far below the best; "It" is quoted
    # with the sentence naming it
    ("Who directed the one shot in Leland?",
     {"Movies": 1.0, "Maximum Overdrive is": 0.3, "It was": 0.2},
     "Maximum Overdrive is a 1986 horror film. It was written and directed by Stephen King."),
    # the question's own names are searched for too: Leland's article says what was shot
    ("Which port city is near Leland?", {"Wilmington is": 1.0},
     "Movies such as Maximum Overdrive have been shot in Leland."),
    # nor one neither names
    ("What does a port handle?", {"A port": 1.0}, None),
    # a file name writes "_" for the title's comma
    ("What was the population of the town where Kerry Saxby was born?",
     {"Kerry Saxby was": 1.0}, "At the 2011 census Young had 6,960 people."),
    # "Direct action" is part of the best document's own name, not a thing it names
    ('What genre is the author of the story behind "Act of War: Direct Action" known for?',
     {"Act of War: Direct Action is": 1.0, "Direct action is": 0.6, "Dale Brown writes": 0.1},
     "Dale Brown writes aviation thrillers."),
    # the best document names the bridge two sentences after the one that answers
    ("What medal was the real person behind the 1987 film starring James Woods awarded?",
     {"In Love and War is": 1.0}, "James Stockdale was awarded the Medal of Honor."),
])
def test_second_hop(question: str, scores: dict[str, float], hop: str | None) -> None:
    from rag.selection import _by_kind, _second_hop

    found = hop_ranked(question, scores)
    best = found.extract(found.order[0], grow=False)
    hops = _second_hop(question, found, best)
    assert [e.text for e in hops] == ([hop] if hop else [])
    if hop:  # with a hop, the reply is the two hops: no runner-ups
        assert [e.text for e in _by_kind(question, question, found, best)] == [best.text, hop]
    assert [e.bridged for e in hops] == [True] * len(hops)


@pytest.mark.parametrize(("question", "context", "bridged", "judged"), [
    ("Who led the U.S. delegation?", "", False, True),
    ("Where were they held?", "Who led the U.S. delegation?", False, False),  # a follow-up
    ("Why did the talks fail?", "", False, False),  # an account
    ("Which band formed first, The Exies or Circus Diablo?", "", False, False),  # compares
    ("Who directed the one shot in Leland?", "", True, False),  # over a second hop
])
def test_which_questions_the_answerability_model_judges(question: str, context: str,
                                                        bridged: bool, judged: bool) -> None:
    from rag.selection import _model_judges

    found = hop_ranked(question, {"Movies": 1.0})
    extracts = [found.extract(found.order[0], grow=False)]
    if bridged:
        extracts.append(replace(found.extract(found.order[1], grow=False), bridged=True))
    assert _model_judges(question, context, extracts) is judged


@pytest.mark.parametrize(("text", "subject", "names"), [
    ("She was born in Young, New South Wales.", "young new south wales", True),
    ("He ran Dunkin' Brands.", "dunkin brands", True),
    ("Ötzi was found in 1991.", "otzi", True),
    ("The report says costs rose.", "report", False),  # a word, not a name
    ("Younger voters stayed home.", "young", False),  # part of a word
])
def test_names(text: str, subject: str, names: bool) -> None:
    from rag.selection import _names

    assert _names(text, subject) is names


def test_a_runner_up_naming_a_document_brings_its_hop() -> None:
    """The best sentence names nothing; the runner-up names the town whose article
    answers: the reply is the best, the runner-up and the town's sentence."""
    from rag.selection import _by_kind

    question = "What was the population of the town where the walker was born?"
    found = hop_ranked(question, {"A port": 1.0, "Kerry Saxby was": 0.9})
    best = found.extract(found.order[0], grow=False)
    assert [e.text for e in _by_kind(question, question, found, best)] == [
        "A port handles ships.", "Kerry Saxby was born in Young, New South Wales.",
        "At the 2011 census Young had 6,960 people."]


def test_things_one_sentence_names_together_go_on_to_the_hop() -> None:
    """"Leland and Wilmington" are joined but not compared: the best sentence names both,
    so the reply goes on to what it names, as for any question."""
    from rag.selection import _by_kind

    question = "What was filmed in the town between Leland and Wilmington?"
    found = hop_ranked(question, {"Wilmington is": 1.0})
    best = found.extract(found.order[0], grow=False)
    assert [e.text for e in _by_kind(question, question, found, best)] == [
        "Wilmington is a port city near Leland.",
        "Movies such as Maximum Overdrive have been shot in Leland."]


def test_a_name_only_the_title_holds_is_covered(selector) -> None:
    """The article's sentences say "Jamie" and "he"; its title says "Costin"."""
    text = ("Costin aims for comeback in 2006\n\nJamie Costin should be paralysed.\n\n"
            + "Other news of the week followed. " * 30
            + "\n\nJamie has daily cryotherapy in Poland. He is in a room cooled by liquid "
              "nitrogen.")
    title = text.split("\n")[0]
    late = text.index("Jamie has")
    found = selector.consider("How does the freezing treatment Costin had in Poland work?",
                              [Passage("sport.txt", late, len(text), 1.0, text[late:],
                                       title=title)])
    assert found.signals.uncovered == ()
    other = selector.consider("How does the freezing treatment Smith had in Poland work?",
                              [Passage("sport.txt", late, len(text), 1.0, text[late:],
                                       title=title)])
    assert other.signals.uncovered == ("Smith",)


# -- "Are X and Y both…?" (pure: the words of each thing's extract) --------------------

FILMS = {
    "Frozen.txt": "Frozen is a 2013 American animated musical fantasy film.",
    "Escape.txt": "Escape from the Dark is a 1976 British family drama film.",
    "Nolan.txt": "Christopher Nolan is an English-American film director.",
    "Kalathil.txt": "Sathish Kalathil is an Indian film director.",
}


@pytest.mark.parametrize(("question", "verdict"), [
    ("Are Christopher Nolan and Sathish Kalathil both film directors?", "Yes"),
    ("Are Frozen and Escape from the Dark both animated films?", "No"),  # one is animated
    ("Are Christopher Nolan and Sathish Kalathil both famous?", None),  # neither says
    ("Are Frozen and Escape from the Dark from the same year?", None),  # values to compare
    ("Which is older, Frozen or Escape from the Dark?", None),  # not a yes or no
])
def test_both_verdict(question: str, verdict: str | None) -> None:
    from rag.extracts import candidate_sentences
    from rag.lexical import tokenize
    from rag.selection import _both_verdict

    sentences = candidate_sentences([Passage(d, 0, len(t), 1.0, t) for d, t in FILMS.items()])
    terms = tuple(frozenset(t) for t in tokenize([s.text for s in sentences]))
    found = Ranked(sentences, Scores(np.ones(len(sentences)), terms,
                                     frozenset(tokenize([question])[0])))
    extracts = [found.extract(i, grow=False) for i in range(len(sentences))]
    assert _both_verdict(question, found, extracts) == verdict


def test_a_verdict_opens_the_reply_and_cites_nothing(selector) -> None:
    from rag.engines.extractive import draft_from

    docs = {"Frozen.txt": FILMS["Frozen.txt"], "Escape.txt": FILMS["Escape.txt"]}
    found = selector.select("Are Frozen and Escape from the Dark both animated films?",
                            [Passage(d, 0, len(t), 1.0, t) for d, t in docs.items()])
    draft = draft_from(found)
    assert found.verdict == "No" and draft.text.startswith("No, not both:\n- ")
    assert sorted(s.doc for s in draft.sources) == sorted(docs)


def test_a_follow_ups_evidence_is_read_with_the_question_it_leans_on(selector) -> None:
    text = ("Delta struck a deal with its pilots on Thursday. The deal would see pilots "
            "accept a 32% pay cut in return for the right to buy 30 million Delta shares.")
    passages = [Passage("delta.txt", 0, len(text), 1.0, text)]
    alone = selector.consider("What do they get in exchange?", passages)
    joined = selector.consider("What do they get in exchange?", passages,
                               context="What deal did Delta strike with its pilots?")
    # its own words score far below the threshold; read as what it asks, well above
    assert alone.signals.best < DEFAULT_THRESHOLD < 0.35 < joined.signals.best


def test_a_list_extract_is_quoted_alone() -> None:
    from rag.extracts import candidate_sentences
    from rag.lexical import tokenize
    from rag.selection import _by_kind

    text = ("They give three reasons for staying:\n- it is core\n- it is risky\n"
            "- it hurts the brand\n\nOther firms moved abroad for costs.")
    sentences = candidate_sentences([Passage("d.txt", 0, len(text), 1.0, text)])
    terms = tuple(frozenset(t) for t in tokenize([s.text for s in sentences]))
    found = Ranked(sentences, Scores(np.array([1.0, 0.5, 0.5, 0.5, 0.95]), terms, frozenset()))
    best = found.extract(0)
    assert len(best.sentences) == 4  # the list's items, beyond three sentences
    assert _by_kind("Why do firms stay?", "Why do firms stay?", found, best) == [best]
