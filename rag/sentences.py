"""Sentence spans: where each sentence of a text starts and ends, as exact offsets.

Used wherever the pipeline works at sentence grain (chunk boundaries, extractive answers,
narrowing citations, checking claims). A rule-based splitter: line breaks and
sentence-final punctuation followed by a capital, a digit or a quote end a sentence;
common abbreviations and initials ("U.S.", "Mr.", "J.") do not. It does not try to
handle every language's conventions.
"""

from __future__ import annotations

import re

# A sentence ends at . ! ? or … (with closing quotes/brackets) before whitespace and an
# opening character, or at a line break.
_BOUNDARY = re.compile(
    r"""(?<=[.!?…])["'”’)\]]*\s+(?=["'“‘(\[]?[A-Z0-9\u00C0-\u024F\u0400-\u04FF])|\n+"""
)
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st vs etc e.g i.e u.s u.k u.n no gen col lt sgt rep sen gov "
    "inc ltd co corp dept jan feb mar apr jun jul aug sep sept oct nov dec fig".split()
)

_LAST_WORD = re.compile(r"(\S+)$")


def _ends_with_abbreviation(text: str) -> bool:
    match = _LAST_WORD.search(text)
    if not match:
        return False
    word = match.group(1).lower().rstrip(".").lstrip("(\"'“‘")
    # A lone capital initial ("J.") or a dotted acronym ("U.S.") never ends a sentence here.
    is_initial = len(word) == 1 and word.isalpha()
    return word in _ABBREVIATIONS or is_initial or bool(re.fullmatch(r"(?:[a-z]\.)+[a-z]", word))


def _trimmed(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans `(s, e)` of the sentences of `text[start:end]`, offsets into `text`.

    Spans hold no leading or trailing whitespace, do not overlap, and are in order.
    """
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    sentence_start = start
    for match in _BOUNDARY.finditer(text, start, end):
        gap = match.group(0)
        # closing quotes/brackets stay with the sentence they close
        cut = match.start() + len(gap) - len(gap.lstrip("\"'”’)]"))
        if "\n" not in gap and _ends_with_abbreviation(text[sentence_start:cut]):
            continue
        span = _trimmed(text, sentence_start, cut)
        if span:
            spans.append(span)
        sentence_start = match.end()
    span = _trimmed(text, sentence_start, end)
    if span:
        spans.append(span)
    return spans
