"""Second hops and comparisons: the names they work from (tables), how rankings merge,
and retrieval over a small collection where the second hop is what finds the answer."""

from __future__ import annotations

import numpy as np
import pytest

from rag.multihop import (
    bridge_names,
    compared,
    follow_up,
    may_bridge,
    merged,
    names,
    with_leads,
    without,
)
from rag.retrieval import Fusion, hop_bridges, hop_ranking, retrieve


@pytest.mark.parametrize(("text", "found"), [
    ("Are Christopher Nolan and Sathish Kalathil both film directors?",
     ["Christopher Nolan", "Sathish Kalathil"]),
    ("Which is older, the Bank of England or the Banque de France?",
     ["Bank of England", "Banque de France"]),
    # "Leland" opens a sentence and is not seen mid-sentence: taken for a common word
    ("Leland is in North Carolina. In 1986 Maximum Overdrive was shot there.",
     ["North Carolina", "1986 Maximum Overdrive"]),
    ('Is "A Man Without Love" a song?', ["Man Without Love"]),
    ("Between which ministers did Antonov want contacts?", ["Antonov"]),
    ("Tornadoes hit the town. The storm passed.", []),  # capitalised only as an opening
    ("J. R. R. Tolkien met C. S. Lewis.", ["J. R. R. Tolkien", "C. S. Lewis"]),
])
def test_names(text: str, found: list[str]) -> None:
    assert names(text) == found


@pytest.mark.parametrize(("question", "things"), [
    ("Which band was formed first, The Exies or Circus Diablo?", ["Exies", "Circus Diablo"]),
    ("Are Christopher Nolan and Sathish Kalathil both film directors?",
     ["Christopher Nolan", "Sathish Kalathil"]),
    ('Are "Wonderland by Night" and "A Man Without Love" by one singer?',
     ["Wonderland by Night", "Man Without Love"]),
    ("Who is older, J. R. R. Tolkien or C. S. Lewis?", ["J. R. R. Tolkien", "C. S. Lewis"]),
    ("Who directed the film shot in Leland, North Carolina?", []),
    ("Is Paris bigger than Lyon?", []),
])
def test_compared(question: str, things: list[str]) -> None:
    assert compared(question) == things


def test_bridge_names_are_the_evidences_names_the_question_lacks() -> None:
    question = "Who directed the film that was shot in Leland, North Carolina?"
    evidence = "Leland is a town in North Carolina. Maximum Overdrive was filmed in Leland."
    assert bridge_names(question, evidence) == ["Maximum Overdrive"]
    assert follow_up(question, ["Maximum Overdrive"]).endswith("North Carolina? Maximum Overdrive")
    assert without("Is A older than B?", ["B"]) == "Is A older than ?"


def test_merged_keeps_the_first_best_and_takes_only_other_documents() -> None:
    doc = {1: "a", 2: "a", 3: "b", 4: "c"}.__getitem__
    first = [(1, 0.5), (2, 0.4), (3, 0.1)]
    second = [(2, 0.9), (4, 0.8), (3, 0.3), (1, 0.2)]
    assert merged(first, second, "a", doc) == [(1, 0.5), (4, 0.8), (2, 0.4), (3, 0.3)]


def test_with_leads_puts_them_after_the_best() -> None:
    assert with_leads([(1, 0.9), (2, 0.8), (3, 0.7)], [3, 4]) == [
        (1, 0.9), (3, 0.7), (4, 0.9), (2, 0.8)]
    assert with_leads([], [3]) == []


TOWNS = {
    "leland.txt": "Leland is a town in Brunswick County, North Carolina, on the Cape Fear "
                  "River. In 1986 the science fiction film Maximum Overdrive was shot in and "
                  "around Leland, and many townspeople worked as extras.",
    "overdrive.txt": "Maximum Overdrive is a 1986 American science fiction horror film. It "
                     "was written and directed by Stephen King, his only work as a director.",
    "wilmington.txt": "Wilmington is a port city in North Carolina. Dozens of films and "
                      "television series were shot in Wilmington, which is home to a studio.",
    "carrie.txt": "Carrie is a 1976 American horror film directed by Brian De Palma, "
                  "adapted from a novel about a shy girl with telekinetic powers.",
    # films of 1986 that share more of the question's words than the bridge does
    "top-gun.txt": "Top Gun is a 1986 film directed by Tony Scott. It was shot in San Diego.",
    "platoon.txt": "Platoon is a 1986 war film directed by Oliver Stone, shot in the "
                   "Philippines in 1986.",
    "aliens.txt": "Aliens is a 1986 film directed by James Cameron and shot in England.",
    "banks.txt": "The Bank of England was founded in 1694 to act as the government's "
                 "banker. The Bank of England issues banknotes. The Bank of England sets the "
                 "interest rate. The Bank of England is in the City of London.",
    "banque.txt": "The Banque de France was founded in 1800 by Napoleon. It is the central "
                  "bank of France.",
    "otzi.txt": "Ötzi the Iceman was found in the Ötztal Alps in September 1991 by two "
                "hikers, frozen in a glacier.",
}


@pytest.fixture
def towns(make_pipeline, tmp_path):
    folder = tmp_path / "towns"
    folder.mkdir()
    for name, text in TOWNS.items():
        (folder / name).write_text(text, encoding="utf-8")
    pipeline = make_pipeline()
    assert pipeline.ingest([folder]).exit_code == 0
    return pipeline


def _docs(passages) -> list[str]:
    return list(dict.fromkeys(p.doc for p in passages))


def test_second_hop_brings_the_bridge_documents_passage(towns) -> None:
    question = "Who directed the film that was shot in Leland in 1986?"
    one_hop = retrieve(towns.store, towns.embedder, question, 2,
                       fusion=Fusion(second_hop=False))
    two_hops = retrieve(towns.store, towns.embedder, question, 2)
    assert _docs(two_hops) == ["leland.txt", "overdrive.txt"]  # a sentence for each hop
    assert "overdrive.txt" not in _docs(one_hop)
    for passage in two_hops:
        assert towns.source_text(passage.doc)[passage.start : passage.end] == passage.text


def test_a_short_question_is_not_asked_again(towns, monkeypatch) -> None:
    """Both questions' best chunks name things other documents hold; only the question
    long enough to describe what it hinges on gets the second retrieval."""
    import rag.retrieval

    asked: list[str] = []
    fused_rows = rag.retrieval.fused_rows
    monkeypatch.setattr(rag.retrieval, "fused_rows",
                        lambda store, embedder, query, *rest, **named:
                        asked.append(query) or fused_rows(store, embedder, query, *rest, **named))
    for question in ("In what county is Leland?",
                     "Who directed the film that was shot in Leland in 1986?"):
        asked.clear()
        assert retrieve(towns.store, towns.embedder, question, 1)[0].doc == "leland.txt"
        elsewhere = [name for name in bridge_names(question, TOWNS["leland.txt"])
                     if any(name in text for doc, text in TOWNS.items() if doc != "leland.txt")]
        assert elsewhere
        assert len(asked) == (2 if may_bridge(question) else 1)
    assert not may_bridge("In what county is Leland?")


def test_the_hop_starts_from_bm25s_best_chunk(towns) -> None:
    """The hop's names come from the chunk BM25 ranks first, so it needs no embedding;
    no hop when that chunk is the only place its names occur, or nothing matches."""
    question = "Who directed the film that was shot in Leland in 1986?"
    table = towns.store.table()
    scores = table.lexical.scores(question)
    assert table.docs[int(np.argmax(scores))] == "leland.txt"
    bridges = hop_bridges(table, question, scores)
    assert "Maximum Overdrive" in bridges
    # the hop adds the names' BM25 scores to the question's instead of scoring again
    np.testing.assert_allclose(
        table.lexical.scores(follow_up(question, bridges)),
        scores + sum(table.lexical.scores(name) for name in bridges), rtol=1e-5)
    assert hop_bridges(table, question, scores, docs=["leland.txt"]) == []
    assert hop_bridges(table, question, np.zeros_like(scores)) == []


def test_the_hop_ranking_is_empty_when_not_asked(towns) -> None:
    from concurrent.futures import Future

    table = towns.store.table()
    for question, asked in (("In what county is Leland?", False),
                            ("Who directed the film that was shot in Leland in 1986?", True)):
        scores: Future = Future()
        scores.set_result(table.lexical.scores(question))
        ranking = hop_ranking(towns.store, towns.embedder, question, None, Fusion(), table,
                              scores)
        assert bool(ranking) is asked
        if asked:
            assert "overdrive.txt" in {str(table.docs[row]) for row, _ in ranking[:2]}


def test_comparison_gets_a_passage_on_each_thing_compared(towns) -> None:
    passages = towns.retrieve("Which is older, the Bank of England or the Banque de France?",
                              k=2)
    assert set(_docs(passages)) == {"banks.txt", "banque.txt"}


def test_an_unaccented_query_finds_the_accented_name(towns) -> None:
    lexical_only = Fusion(sentence=0.0, chunk=0.0, second_hop=False)
    top = retrieve(towns.store, towns.embedder, "Where was Otzi found?", 1, fusion=lexical_only)
    assert top and top[0].doc == "otzi.txt"
