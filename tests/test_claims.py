"""Checked citations: each cited sentence scored against the span it cites."""

from __future__ import annotations

import pytest

from rag.claims import check, critical_missing
from rag.engines.base import Draft
from rag.types import Citation

from conftest import GENEVA

SPAN = ("He suggested more regular contacts between Defence Minister Sergei Shoygu and "
        "US counterpart James Mattis, and increased cooperation to counter terrorism.")
OTHER = "The mood music out of Geneva was as good as could have been expected."


def cite(text: str, n: int = 1) -> Citation:
    return Citation(n, "d.txt", 0, len(text), text)


@pytest.mark.parametrize(
    ("sentence", "evidence", "verdict"),
    [
        (SPAN, SPAN, "supported"),
        ("He suggested regular contacts between Shoygu and Mattis.", SPAN, "supported"),
        ("He suggested regular contacts between Shoygu and Mattis.", OTHER, "unsupported"),
        ("He suggested regular contacts between Shoygu and Pompeo.", SPAN, "unsupported"),
        ("He did not suggest regular contacts between Shoygu and Mattis.", SPAN, "unsupported"),
        ("He suggested 12 regular contacts between Shoygu and Mattis.", SPAN, "unsupported"),
    ],
)
def test_verdicts(embedder, sentence: str, evidence: str, verdict: str) -> None:
    [claim] = check(f"{sentence} [1]", [cite(evidence)], embedder)
    assert claim.verdict == verdict, claim
    assert claim.citations == (1,)


def test_uncited_factual_sentences_and_meta_sentences(embedder) -> None:
    found = check("Shoygu met Mattis in Helsinki last year. The documents don't say more.",
                  [], embedder)
    assert [(c.verdict, c.sentence[:6]) for c in found] == [("uncited", "Shoygu")]


def test_critical_tokens() -> None:
    assert critical_missing("Putin met 3 envoys.", "Putin met three envoys.") == ["3"]
    assert critical_missing("Merkel would not agree.", "Merkel would agree.") == ["would not"]
    assert critical_missing("Merkel’s aides agreed.", "Merkel agreed.") == []


class ScriptedEngine:
    """Cites the first passage naming Sherman for both a true and an invented claim."""

    name = "scripted"

    def condense(self, history, question):
        return question

    def answer(self, question, passages, on_token=None):
        n = next(i for i, p in enumerate(passages, start=1) if "Sherman" in p.text)
        text = (f"Wendy Sherman represented the United States [{n}]. "
                f"Sherman promised to withdraw all NATO troops from Poland by 2019 [{n}].")
        return Draft(text, list(passages))


def test_responses_carry_claims_and_can_drop_unsupported(seeded) -> None:
    question = "Who represented the United States at the Geneva talks?"
    response = seeded.ask(question)
    assert response.claims and all(c.verdict == "supported" for c in response.claims)
    seeded._engine = ScriptedEngine()
    kept = seeded.ask(question)
    # "counterpart" is not "represented": an inference, fairly flagged weak at worst
    first, second = (c.verdict for c in kept.claims)
    assert first in ("supported", "weak") and second == "unsupported"
    assert "Poland" in kept.answer
    seeded.settings = seeded.settings.model_copy(update={"drop_unsupported": True})
    dropped = seeded.ask(question)
    assert "Poland" not in dropped.answer and "Sherman" in dropped.answer
    assert len(dropped.claims) == 1 and dropped.claims[0].verdict != "unsupported"
    assert [c.n for c in dropped.citations] == [1] and dropped.citations[0].doc == GENEVA


def test_labelled_set_meets_the_goal(embedder) -> None:
    from benchmarks.claims import build, evaluate

    result = evaluate(build(), embedder)
    assert result["corrupted"] >= 150 and result["n"] - result["corrupted"] >= 150
    assert result["detection"] >= 0.9 and result["false_alarms"] <= 0.1
