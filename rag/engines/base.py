"""The contract every answer engine meets, and the draft it hands back.

An engine sees only text and passages: no store, no retrieval, no citation mapping.
Markers `[n]` in a draft are 1-based indexes into `Draft.sources`; the pipeline turns
them into citations (rag/citations.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from rag.types import Passage, Turn

if TYPE_CHECKING:
    from rag.summaries import SummaryRequest

REFUSAL = "The documents don't say."

# Called with each piece of text as it is generated (streaming engines only).
TokenSink = Callable[[str], None]


@dataclass(frozen=True)
class Draft:
    """An answer before citation mapping: text with `[n]` markers into `sources`."""

    text: str
    sources: list[Passage]
    refused: bool = False


class Engine(Protocol):
    name: str

    def condense(self, history: Sequence[Turn], question: str) -> str:
        """A standalone version of `question` given the conversation so far."""
        ...

    def answer(
        self, question: str, passages: Sequence[Passage], on_token: TokenSink | None = None
    ) -> Draft:
        """An answer to `question` from `passages` only, or a refusal."""
        ...

    def summarize(
        self, units: Sequence[Passage], instruction: str = "", on_token: TokenSink | None = None,
        request: SummaryRequest | None = None,
    ) -> Draft:
        """A summary of `units` (all chunks of the documents asked for, in document order)
        at the request's length and focus."""
        ...
