"""BM25 terms and mentions: accent, case and Unicode folding; saved indexes and their
terms' version."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from rag.lexical import LexicalIndex, SegmentedIndex, fold, mentions, tokenize, without_accents


@pytest.mark.parametrize(("text", "folded"), [
    ("Ötzi", "Otzi"), ("Łódź", "Lodz"), ("Ørsted", "Orsted"), ("naïve café", "naive cafe"),
    ("Ærøskøbing", "AEroskobing"), ("e\u0301lan", "elan"), ("ﬁle", "file"),
    ("Москва", "Москва"),  # other scripts keep their letters (й would lose its breve)
])
def test_without_accents(text: str, folded: str) -> None:
    assert without_accents(text) == folded


@pytest.mark.parametrize(("query", "text"), [
    ("Otzi", "The iceman Ötzi was found in 1991."),
    ("Ötzi", "the iceman otzi"),
    ("Sao Paulo", "São Paulo's mayor"),
    ("interview with Kommersant", "interview\u00a0with\u00a0Kommersant"),
])
def test_query_and_text_share_terms(query: str, text: str) -> None:
    assert set(tokenize([query])[0]) <= set(tokenize([text])[0])


@pytest.mark.parametrize(("text", "entity", "found"), [
    ("the iceman ötzi", "Otzi", True),
    ("president françois hollande", "Francois Hollande", True),
    ("talks in the u.s. capital", "United States", True),
    ("talks in paris", "Otzi", False),
])
def test_mentions_fold_accents(text: str, entity: str, found: bool) -> None:
    assert mentions(fold(text), entity) is found


def test_accent_folded_query_finds_the_accented_row() -> None:
    index = LexicalIndex.build(["Ötzi the iceman", "the Alps in winter", "a glacier"])
    scores = index.scores("Where was Otzi found?")
    assert int(np.argmax(scores)) == 0 and scores[1] == scores[2] == 0
    assert index.knows("Otzi") and not index.knows("Ursus")


def test_saved_index_loads_unless_built_with_other_terms(tmp_path) -> None:
    index = LexicalIndex.build(["Ötzi the iceman", "the Alps"])
    index.save(tmp_path / "bm25")
    loaded = LexicalIndex.load(tmp_path / "bm25", 2)
    assert np.array_equal(loaded.scores("otzi"), index.scores("otzi"))
    (tmp_path / "bm25" / "citechat-terms").write_text("older terms", encoding="utf-8")
    with pytest.raises(ValueError):
        LexicalIndex.load(tmp_path / "bm25", 2)


def test_an_index_without_terms_scores_zero() -> None:
    index = LexicalIndex.build(["a;", "of the", ""])
    assert index.scores("the a").tolist() == [0.0, 0.0, 0.0] and not index.knows("anything")


def test_an_entity_with_brackets_is_looked_for_not_compiled() -> None:
    assert mentions(fold("in the film (1986 cut) was"), "(1986 Cut)")
    assert not mentions(fold("nothing here"), "[Bracketed) Name")


def test_segments_score_as_one_index_with_the_collections_idf() -> None:
    # every text three terms long: the segments' average lengths match the whole's, so
    # only the IDF differs between a segment and the collection, and it is rescaled
    texts = ["otter river fish", "otter sea kelp", "heron river frog", "heron marsh reed",
             "badger sett worm", "badger wood beetle", "kestrel field vole"]
    whole = LexicalIndex.build(texts)
    split = SegmentedIndex([(LexicalIndex.build(texts[:2]), np.array([0, 1])),
                            (LexicalIndex.build(texts[2:]), np.arange(2, 7))], 7)
    for query in ("otter", "river heron", "badger worm vole", "kelp kelp", "absent"):
        assert np.allclose(split.scores(query), whole.scores(query), atol=1e-6), query
    assert split.knows("river vole") and not split.knows("river ursus")


def test_rows_of_removed_documents_score_nothing() -> None:
    texts = ["otter river", "otter sea", "heron river"]
    places = np.array([0, -1, 1])  # the second row's document is gone
    scores = SegmentedIndex([(LexicalIndex.build(texts), places)], 2).scores("otter")
    assert scores[0] > 0 and scores[1] == 0 and len(scores) == 2


def test_building_an_index_logs_no_debug_lines(caplog) -> None:
    with caplog.at_level(logging.DEBUG):
        LexicalIndex.build(["the heron nests in the marsh", "a glacier"])
    assert not [r for r in caplog.records if r.name.startswith("bm25s")]
