"""From `[n]` markers to exact citations: parse, validate, merge, renumber, narrow.

Pure functions over text and passages: no I/O, no model calls. Markers (`[1]`, `[2, 3]`,
`[1-3]`) are 1-based indexes into the passages an engine was given. `resolve` drops (and
counts) markers that point nowhere, gives each distinct span one citation, renumbers them
1..N in order of first appearance, writes multi-markers as adjacent single ones (`[1][2]`),
and narrows each citation to the sentences of its passage that best support the answer
sentences citing it, so `source_text(doc)[start:end] == text` still holds.

But: it does not judge whether a citation really supports its claim (that is the claim
checker's job, working from `citing_sentences`), does not move markers the engine put in odd
places, and does not accept footnote (`[^1]`) or other marker styles.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from rag.sentences import sentence_spans
from rag.types import Citation, Passage

_NUMBER = r"\d+(?:\s*[-–—]\s*\d+)?"  # 3, or a range 1-3
MARKER = re.compile(rf"\[\s*({_NUMBER}(?:\s*,\s*{_NUMBER})*)\s*\]")
# Markers standing together ("[1] [2]", "[1], [3]") are one run and are rewritten as one.
_RUN = re.compile(rf"{MARKER.pattern}(?:[^\S\r\n]*[,;]?[^\S\r\n]*{MARKER.pattern})*")
# whitespace that is not a line break (U+00A0 included): what a removed marker may leave
_SPACES = "".join(c for c in map(chr, range(0x3001)) if c.isspace() and c not in "\r\n")
_CLOSING = re.compile(r"[.,;:!?)\]}…”’»]|[\"'](?!\w)")
MAX_RANGE = 50  # a marker like [1-999999] is a typo, not 999999 citations

# support(answer sentence, passage sentence) -> score; higher is better, <= 0 is none
Support = Callable[[str, str], float]


@dataclass(frozen=True)
class Resolved:
    """An answer with markers [1]..[N] and the N citations they point to."""

    answer: str
    citations: list[Citation]
    dropped: int  # marker numbers that pointed at no source


def _bounded(digits: str) -> int:
    """The number, or one too large to cite anything (int() refuses 4,300+ digits)."""
    return int(digits) if len(digits) <= 9 else 10**9


def _numbers(body: str) -> list[int]:
    numbers: list[int] = []
    for part in body.split(","):
        low, _, high = re.sub(r"\s*[-–—]\s*", "-", part.strip()).partition("-")
        a, b = _bounded(low), _bounded(high or low)
        numbers += list(range(a, b + 1)) if 0 <= b - a <= MAX_RANGE else [a, b]
    return numbers


def parse_markers(text: str) -> list[int]:
    """Every number the markers of `text` name, in order, repeats included."""
    return [n for match in MARKER.finditer(text) for n in _numbers(match.group(1))]


def strip_markers(text: str) -> str:
    """`text` without markers, and without the spaces they leave ("big [1]." -> "big.")."""
    return _rewrite(text, lambda numbers: [])


def _rewrite(text: str, renumber: Callable[[list[int]], list[int]]) -> str:
    """Replace each run of markers by `renumber(its numbers)` as adjacent markers, each
    number once; a run left with no numbers is removed with the space it leaves."""
    edits = []  # (start, end, replacement), in order
    for run in _RUN.finditer(text):
        numbers = renumber(parse_markers(run.group()))
        edits.append((run.start(), run.end(), "".join(f"[{n}]" for n in dict.fromkeys(numbers))))
    text, joins = _splice(text, edits)
    # Removing "[9]" from "[1[9]]" makes a marker no engine wrote; remove those too.
    while spurious := [(m.start(), m.end(), "") for m in MARKER.finditer(text)
                       if any(m.start() < j < m.end() for j in joins)]:
        text, joins = _splice(text, spurious)
    return text


def _splice(text: str, edits: Sequence[tuple[int, int, str]]) -> tuple[str, list[int]]:
    """`text` with the edits applied, and where the removals (empty ones) joined it."""
    out, pos, joins = "", 0, []
    for start, end, replacement in edits:
        out += text[pos:start] + replacement
        pos = end
        if not replacement:
            out, pos = _close_gap(out, text, pos)
            joins.append(len(out))
    return out + text[pos:], joins


def _close_gap(out: str, text: str, pos: int) -> tuple[str, int]:
    """Tidy the spaces around a removal between `out` and `text[pos:]`: none before
    punctuation or a line end, none at a line start, one between words."""
    before = len(out.rstrip(_SPACES))
    after = len(text) - len(text[pos:].lstrip(_SPACES))
    if after == len(text) or text[after] in "\r\n" or _CLOSING.match(text, after):
        return out[:before], after  # "big [9]." -> "big."
    if before < len(out) or before == 0 or out[before - 1] in "\r\n":
        return out, after  # "big [9] city" -> "big city", "[9] Big" -> "Big"
    return out, pos  # "big[9] city" -> "big city"


def citing_sentences(answer: str) -> list[tuple[str, list[int]]]:
    """The answer's sentences (markers removed) with the marker numbers each carries.

    A marker standing after a sentence's final punctuation ("Paris is big. [1]") belongs
    to that sentence, not the next one."""
    # Sentences are found with the markers blanked out, so "big.[1] Next" still splits.
    blanked = MARKER.sub(lambda m: " " * len(m.group()), answer)
    spans = sentence_spans(blanked)
    starts = [s for s, _ in spans]
    carried: list[list[int]] = [[] for _ in spans]
    for match in MARKER.finditer(answer):
        if spans:
            owner = max(bisect_right(starts, match.start()) - 1, 0)
            carried[owner] += _numbers(match.group(1))
    return [(strip_markers(answer[s:e]), list(dict.fromkeys(numbers)))
            for (s, e), numbers in zip(spans, carried, strict=True)]


_STOPWORDS = frozenset(
    "a an and are as at be been but by can could did do does for from had has have he her "
    "his i if in into is it its may might not of on or our she so such than that the their "
    "them then there these they this those to was we were what when where which who will "
    "with would you your".split()
)
_WORD = re.compile(r"\w+")


def _terms(text: str) -> dict[str, float]:
    """Content words of `text` (folded, plural -s dropped) -> weight; numbers and
    capitalised words (names, acronyms) weigh double."""
    terms: dict[str, float] = {}
    for word in _WORD.findall(unicodedata.normalize("NFKC", text)):
        key = word.casefold()
        if key in _STOPWORDS or (len(key) == 1 and not key.isdigit()):
            continue
        if len(key) > 3 and key.endswith("s") and not key.endswith("ss"):
            key = key[:-1]
        weight = 2.0 if word[0].isupper() or any(c.isdigit() for c in word) else 1.0
        terms[key] = max(weight, terms.get(key, 0.0))
    return terms


def lexical_support(claim: str, sentence: str) -> float:
    """The weighted share of the claim's content words found in `sentence`, 0..1."""
    wanted = _terms(claim)
    found = _terms(sentence)
    total = sum(wanted.values())
    return sum(w for t, w in wanted.items() if t in found) / total if total else 0.0


def narrow(passage: Passage, claims: Sequence[str], support: Support = lexical_support,
           keep_ratio: float = 0.8) -> tuple[int, int]:
    """Document offsets of the contiguous run of the passage's sentences that best
    supports `claims`: the best sentence, widened to neighbours scoring at least
    `keep_ratio` of it. The whole passage when no sentence scores above zero."""
    if not 0 < keep_ratio <= 1:
        raise ValueError(f"keep_ratio must be in (0, 1], got {keep_ratio}")
    spans = sentence_spans(passage.text)
    if len(spans) <= 1 or not claims:
        return passage.start, passage.end
    scores = [max(support(c, passage.text[s:e]) for c in claims) for s, e in spans]
    best = max(range(len(spans)), key=scores.__getitem__)  # the first of equals
    if scores[best] <= 0:
        return passage.start, passage.end
    first = last = best
    while first > 0 and scores[first - 1] >= keep_ratio * scores[best]:
        first -= 1
    while last < len(spans) - 1 and scores[last + 1] >= keep_ratio * scores[best]:
        last += 1
    return passage.start + spans[first][0], passage.start + spans[last][1]


def resolve(text: str, sources: Sequence[Passage], support: Support | None = None) -> Resolved:
    """Rewrite `text`'s markers into citations 1..N of `sources`, narrowed to the sentences
    that support what cites them; markers pointing nowhere are removed and counted."""
    numbering: dict[tuple[str, int, int], int] = {}  # source span -> citation number
    cited: list[Passage] = []
    dropped = 0

    def renumber(numbers: list[int]) -> list[int]:
        nonlocal dropped
        new = []
        for n in numbers:
            if not 1 <= n <= len(sources):
                dropped += 1
                continue
            source = sources[n - 1]
            key = (source.doc, source.start, source.end)
            if key not in numbering:
                numbering[key] = len(cited) + 1
                cited.append(source)
            new.append(numbering[key])
        return new

    answer = _rewrite(text, renumber)
    citations = _narrowed(answer, cited, support or lexical_support)
    answer, citations = _merge_same_spans(answer, citations)
    return Resolved(answer, citations, dropped)


def _narrowed(answer: str, cited: Sequence[Passage], support: Support) -> list[Citation]:
    claims: dict[int, list[str]] = {}  # citation number -> sentences citing it
    for sentence, numbers in citing_sentences(answer):
        for n in numbers:
            claims.setdefault(n, []).append(sentence)
    citations = []
    for n, source in enumerate(cited, start=1):
        start, end = narrow(source, claims.get(n, []), support)
        text = source.text[start - source.start : end - source.start]
        citations.append(Citation(n, source.doc, start, end, text))
    return citations


def _merge_same_spans(answer: str, citations: list[Citation]) -> tuple[str, list[Citation]]:
    """Two passages narrowed to the same span become one citation. Each merges into the
    earlier number, so numbers stay in order of first appearance."""
    number: dict[tuple[str, int, int], int] = {}  # span -> new number
    merged: list[Citation] = []
    new_number = {}  # old number -> new number
    for citation in citations:
        span = (citation.doc, citation.start, citation.end)
        if span not in number:
            number[span] = len(merged) + 1
            merged.append(replace(citation, n=number[span]))
        new_number[citation.n] = number[span]
    if len(merged) == len(citations):
        return answer, citations
    return _rewrite(answer, lambda numbers: [new_number[n] for n in numbers]), merged
