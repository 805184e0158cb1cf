"""Hybrid retrieval over the seeds, and the dev set's gold quotes within the top 5."""

from __future__ import annotations

import pytest

from rag.evaluation import locate

from conftest import GENEVA, RUSI, dev_items


def test_shoygu_mattis_passage_comes_first(seeded) -> None:
    passages = seeded.retrieve("Between which two defence ministers did Antonov want contacts?")
    top = passages[0]
    assert top.doc == RUSI and "Shoygu" in top.text and "Mattis" in top.text
    assert seeded.source_text(top.doc)[top.start : top.end] == top.text


def test_passages_slice_their_documents(seeded) -> None:
    for passage in seeded.retrieve("Wendy Sherman Geneva talks", k=10):
        assert seeded.source_text(passage.doc)[passage.start : passage.end] == passage.text


def test_non_breaking_spaces_do_not_break_search(seeded) -> None:
    # the seed writes "interview\u00a0with\u00a0Kommersant"; plain spaces must match it
    top = seeded.retrieve("interview with Kommersant", k=1)[0]
    assert "Kommersant" in top.text and "\u00a0" in top.text


def test_document_filter(seeded) -> None:
    passages = seeded.retrieve("Russia NATO Ukraine", k=8, docs=[GENEVA])
    assert passages and all(p.doc == GENEVA for p in passages)


def test_budget_limits_context(seeded) -> None:
    passages = seeded.retrieve("Russia and the West", k=50, budget_chars=1000)
    assert sum(len(p.text) for p in passages) <= 1000 and passages


# d07 asks which Russian officials appear in each article; its gold quote in the Geneva
# article ("Sergei Ryabkov") sits in a passage about what Ryabkov said, which ranks
# outside the top five for "officials". Known gap, recorded in docs/answers.md.
KNOWN_MISSES = {"d07"}
SINGLE_TURN_WITH_GOLD = [
    pytest.param(i, id=i["id"], marks=[pytest.mark.xfail(strict=True, reason="known miss")]
                 if i["id"] in KNOWN_MISSES else [])
    for i in dev_items() if len(i["turns"]) == 1 and i["gold"]
]


@pytest.mark.parametrize("item", SINGLE_TURN_WITH_GOLD)
def test_dev_gold_quotes_are_in_the_top_five(seeded, item: dict) -> None:
    passages = seeded.retrieve(item["turns"][0], k=5)
    for gold in item["gold"]:
        start, end = locate(gold["quote"], seeded.source_text(gold["doc"]))
        covered = {i for p in passages if p.doc == gold["doc"]
                   for i in range(max(p.start, start), min(p.end, end))}
        assert len(covered) >= 0.8 * (end - start), gold["quote"]
