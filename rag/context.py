"""Ranked chunks -> the context an engine answers from: exact passages within a budget.

Chunks are taken best first until the character budget is full (and, if a cap is given,
until there are `k` of them), skipping any that would overflow it. A ranked chunk's
neighbours in its document (the chunks just before and after it) join the ranking at a
share of its score, so that a passage's surroundings — a pronoun's antecedent, the rest
of a list, the paragraph's opening sentence — can be there when the budget allows.
Then, where a chunk opens with a pronoun and the sentence before it is not in the
context, that sentence is added; where a chunk ends on a colon, so is the next one. The
list stays in rank order, each connecting sentence right after the chunk it serves.

Every passage is a chunk or one sentence of a chunk, so `source_text(doc)[start:end] ==
text` holds by construction. It does not merge passages (the text between two chunks is
not in the table) and does not rank anything itself.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from rag.sentences import sentence_spans
from rag.store import ChunkTable
from rag.types import Passage

# a sentence that leans on the one before it ("He suggested…", "This treaty…")
_ANAPHORIC_START = re.compile(
    r"[\"'“‘(]?(?:He|She|It|They|His|Her|Its|Their|Them|This|That|These|Those|Such|There|"
    r"Both|The latter|The former)\b")
_LIST_LEAD = re.compile(r"[:;]\s*$")

Ranked = Sequence[tuple[int, float]]  # (row in the table, score), best first


@dataclass(frozen=True)
class Budget:
    chars: int | None = None  # characters of passage text in all; None: no limit
    passages: int | None = None  # at most this many passages; None: no limit

    def fits(self, used: int, size: int, taken: int) -> bool:
        return ((self.chars is None or used + size <= self.chars)
                and (self.passages is None or taken < self.passages))


def with_neighbours(table: ChunkTable, ranked: Ranked, share: float
                    ) -> Iterator[tuple[int, float]]:
    """The ranking with each chunk's neighbours in its document joining it at `share` of
    the chunk's score: a neighbour comes after its chunk, before the first chunk scoring
    less than it. The ranking's own order is kept (it need not be sorted by score). Lazy:
    a context full after five passages reads no further into a ranking of hundreds."""
    if share <= 0:
        yield from ranked
        return
    placed: set[int] = set()
    waiting: dict[int, float] = {}  # neighbour row -> its share of its chunk's score
    # (-share, when it first waited, row) of `waiting`, stale ones included: the best
    # share first, and among equal shares the one waiting longest
    queue: list[tuple[float, int, int]] = []
    since: dict[int, int] = {}

    def place(row: int, score: float, ranked_itself: bool = True) -> tuple[int, float]:
        placed.add(row)
        waiting.pop(row, None)
        for near in (row - 1, row + 1) if ranked_itself else ():  # neighbours, not theirs
            if _same_doc(table, row, near) and near not in placed and (
                    near not in waiting or share * score > waiting[near]):
                waiting[near] = share * score
                heapq.heappush(queue, (-share * score, since.setdefault(near, len(since)), near))
        return row, score

    def best_waiting() -> tuple[int, float] | None:
        while queue and waiting.get(queue[0][2]) != -queue[0][0]:
            heapq.heappop(queue)  # placed since, or raised by another chunk
        return (queue[0][2], -queue[0][0]) if queue else None

    for row, score in ranked:
        while (best := best_waiting()) is not None and best[1] > score:
            yield place(best[0], best[1], ranked_itself=False)
        if row not in placed:
            yield place(row, score)
    yield from sorted(waiting.items(), key=lambda item: -item[1])


def take(table: ChunkTable, ranked: Iterable[tuple[int, float]], budget: Budget
         ) -> list[tuple[int, float]]:
    """The chunks taken best first within the budget, skipping any that overflow it."""
    taken: list[tuple[int, float]] = []
    used = 0
    for row, score in ranked:
        size = len(table.texts[row])
        if budget.fits(used, size, len(taken)):
            taken.append((row, score))
            used += size
        elif budget.passages is not None and len(taken) >= budget.passages:
            break
    return taken


def _passage(table: ChunkTable, row: int, score: float, span: tuple[int, int] | None = None
             ) -> Passage:
    chunk = table.chunk(row)
    start, end = span or (0, len(chunk.text))
    return Passage(chunk.doc, chunk.start + start, chunk.start + end, round(score, 6),
                   chunk.text[start:end])


def _edge_sentence(table: ChunkTable, row: int, last: bool) -> tuple[int, int] | None:
    spans = sentence_spans(table.texts[row])
    return (spans[-1] if last else spans[0]) if spans else None


def _same_doc(table: ChunkTable, row: int, near: int) -> bool:
    return 0 <= near < len(table.ids) and table.docs[near] == table.docs[row]


def _bridging(table: ChunkTable, row: int, score: float, chosen: set[int]
              ) -> tuple[Passage | None, Passage | None]:
    """The sentence before the chunk when the chunk opens with a pronoun, and the
    sentence after it when it ends on a colon (each only when its chunk is not chosen)."""
    text = table.texts[row]
    before = after = None
    if _same_doc(table, row, row - 1) and row - 1 not in chosen and _ANAPHORIC_START.match(text):
        span = _edge_sentence(table, row - 1, last=True)
        before = span and _passage(table, row - 1, score, span)
    if _same_doc(table, row, row + 1) and row + 1 not in chosen and _LIST_LEAD.search(text):
        span = _edge_sentence(table, row + 1, last=False)
        after = span and _passage(table, row + 1, score, span)
    return before, after


def assemble(table: ChunkTable, ranked: Ranked, budget: Budget,
             neighbour_share: float = 0.0) -> list[Passage]:
    """The context for a ranking: chunks within the budget (neighbours joining the
    ranking at `neighbour_share` of their chunk's score), in rank order, with the
    sentences that connect a chunk to the text around it where the budget allows."""
    taken = take(table, with_neighbours(table, ranked, neighbour_share), budget)
    chosen = {row for row, _ in taken}
    room = float("inf") if budget.chars is None else budget.chars - sum(
        len(table.texts[row]) for row in chosen)
    # a cap on passages counts the connecting sentences too: `k` asked for is `k` given
    spare = float("inf") if budget.passages is None else budget.passages - len(taken)
    passages: list[Passage] = []
    for row, score in taken:
        before, after = _bridging(table, row, score, chosen)
        for passage in (_passage(table, row, score), before, after):
            if passage is None or any(p.doc == passage.doc and p.start == passage.start
                                      for p in passages):
                continue
            if passage.start == table.starts[row] and passage.end == table.ends[row]:
                passages.append(passage)  # the chunk itself, already paid for
            elif len(passage.text) <= room and spare > 0:
                passages.append(passage)
                room -= len(passage.text)
                spare -= 1
    return passages
