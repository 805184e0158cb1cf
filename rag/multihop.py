"""Second hops: retrieving again with what the first retrieval found.

"Who directed the film that was shot in Leland in 1986?" names neither the film nor its
director. The passage that answers the first half ("...Maximum Overdrive was filmed in
Leland") names what the second half hinges on. So when the best passage by BM25 names
things the question does not, and some of those are at home in other documents, the
question is asked again with those names added — if it is long enough to describe
something it does not name (`may_bridge`): a short factoid question is not asked twice.
BM25's best rather than the fused ranking's is known before the question is embedded, so
the second retrieval runs beside the first. What it finds outside the first ranking's
best document joins the ranking (a chunk keeps the better of its two scores); what it
finds inside that document is left to the first ranking, which already ranks that
document's chunks for the question itself. The first hop's best stays first, so an
answer can cite a sentence for each hop.

Comparisons ("Which is older, A or B?", "Are A and B both...?") need a passage on each
thing compared: the best-ranked chunk mentioning each is placed right after the first
hop's best, and a thing no ranked chunk mentions is retrieved on its own.

Pure functions over text and rankings; the retrieving is done by rag/retrieval.py.
Rules of thumb for English questions; no parser, no chat model. It does not chain more
than two hops, and a bridge inside the same document is left to the first ranking.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from itertools import pairwise

from rag.lexical import fold, mentions
from rag.names import names

Ranked = Sequence[tuple[int, float]]  # (row in the chunk table, score), best first

MAX_BRIDGES = 8  # names from the best passage added to the second query
# A question that hinges on something it does not name describes it instead ("the film
# that was shot in Leland in 1986", "a network founded by who"), which takes words. Of
# HotpotQA's 100 questions, every one the second hop helps has 10 words or more; 60% of
# SQuAD 2.0's single-passage questions have fewer than 11 (docs/retrieval.md).
HOP_WORDS = 11

_COMPARED = re.compile(r"\s*(?:,\s*)?(?:or|and|vs\.?|versus)\s+(?:(?:the|a|an)\s+)?",
                       re.IGNORECASE)


def may_bridge(question: str) -> bool:
    """Whether the question is long enough to describe what it hinges on (HOP_WORDS)."""
    return len(question.split()) >= HOP_WORDS


def bridge_names(question: str, evidence: str) -> list[str]:
    """Names the evidence holds and the question does not (at most MAX_BRIDGES)."""
    asked = fold(question)
    return [name for name in names(evidence) if not mentions(asked, name)][:MAX_BRIDGES]


def follow_up(question: str, bridges: Sequence[str]) -> str:
    """The question asked again with the names its first answer turned up."""
    return f"{question} {' '.join(bridges)}"


def compared(question: str) -> list[str]:
    """The things a question compares ("A or B", "A and B"): names of the question that
    stand next to each other, joined by "or", "and", "vs" or a comma; [] if none."""
    found = names(question)
    joined: list[str] = []
    for first, second in pairwise(found):
        between = question[question.find(first) + len(first):question.find(second)]
        between = between.replace('"', " ").replace("“", " ").replace("”", " ")
        if question.find(first) < question.find(second) and _COMPARED.fullmatch(between):
            joined += [first, second]
    return list(dict.fromkeys(joined))


def without(question: str, things: Sequence[str]) -> str:
    """The question with the named things taken out (to retrieve on one of several)."""
    for thing in things:
        question = question.replace(thing, " ")
    return re.sub(r"\s+", " ", question).strip()


def merged(first: Ranked, second: Ranked, first_doc: str, doc_of: Callable[[int], str]
           ) -> list[tuple[int, float]]:
    """The first ranking joined by the second's chunks outside `first_doc`; each chunk
    keeps its better score, and the first ranking's best stays first."""
    scores = dict(first)
    for row, score in second:
        if doc_of(row) != first_doc:
            scores[row] = max(scores.get(row, 0.0), score)
    head = first[0][0]
    rest = sorted(((r, s) for r, s in scores.items() if r != head), key=lambda item: -item[1])
    return [(head, scores[head]), *rest]


def with_leads(ranked: Ranked, leads: Sequence[int]) -> list[tuple[int, float]]:
    """The ranking with its best first, then the `leads` rows, then the rest."""
    if not ranked:
        return []
    scores = dict(ranked)
    order = list(dict.fromkeys([ranked[0][0], *leads, *(row for row, _ in ranked)]))
    return [(row, scores.get(row, ranked[0][1])) for row in order]
