"""How long a summary is: the user's choice (short / medium / long, or a sentence count)
turned into a number of sentences for each document.

The default ("auto", the same as "medium") follows the document's length the way the
BBC News reference summaries do: about 0.65 · n^0.88 sentences of n (fitted on bbc-dev,
benchmarks/summaries.py), capped so that a chat reply stays readable. "short" is about a
third of that, "long" about 1.6 times. A summary of several documents gives each its share.
Nothing here reads text: callers pass sentence counts.
"""

from __future__ import annotations

import re
from typing import Literal

from rag.errors import CitechatError

Named = Literal["auto", "short", "medium", "long"]
Length = Named | int
NAMES: tuple[Named, ...] = ("auto", "short", "medium", "long")
MAX_SENTENCES = 100  # an explicit count above this is a typo, not a summary

# sentences a reference summary of an n-sentence news article has: SCALE * n ** POWER
SCALE, POWER = 0.65, 0.88
BOUNDS = {"short": (2, 5), "medium": (3, 15), "long": (5, 30)}  # (fewest, most) per document
FACTOR = {"short": 1 / 3, "medium": 1.0, "long": 1.6}


def parse_length(value: str | int | None) -> Length:
    """"short", "medium", "long", "auto" or a sentence count, from a flag or a widget.
    Raises CitechatError with one line for anything else."""
    if value is None or value == "":
        return "auto"
    if isinstance(value, int) or re.fullmatch(r"\s*\d+\s*", str(value)):
        count = int(value)
        if not 1 <= count <= MAX_SENTENCES:
            raise CitechatError(f"A summary length must be 1 to {MAX_SENTENCES} sentences, "
                                f"not {count}.")
        return count
    name = str(value).strip().lower()
    if name not in NAMES:
        raise CitechatError(f"Unknown summary length {value!r}: use short, medium, long, "
                            "auto or a number of sentences.")
    return name  # type: ignore[return-value]


def single_count(length: Length, sentences: int) -> int:
    """Sentences in a summary of one document of `sentences` candidate sentences."""
    if sentences <= 0:
        return 0
    if isinstance(length, int):
        return min(length, sentences)
    name = "medium" if length == "auto" else length
    fewest, most = BOUNDS[name]
    wanted = round(FACTOR[name] * SCALE * sentences ** POWER)
    return min(sentences, max(fewest, min(most, wanted)))


def shares(length: Length, sentences: list[int]) -> list[int]:
    """Sentences for each document of a summary of several (`sentences[i]` candidates in
    document i): a named length gives each a short section of its own; an explicit count
    is the total, split in proportion to the documents' lengths, at least one each."""
    if len(sentences) == 1:
        return [single_count(length, sentences[0])]
    if isinstance(length, int):
        total = sum(sentences) or 1
        return [min(n, max(1, round(length * n / total))) for n in sentences]
    fewest = 1 if length == "short" else 2
    return [min(n, max(fewest, round(single_count(length, n) / len(sentences))))
            for n in sentences]
