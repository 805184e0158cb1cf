"""From `[n]` markers to exact citations: parse, validate, merge, renumber, narrow.

Pure functions over text and passages. Markers (`[1]`, `[2, 3]`, `[1-3]`) are 1-based
indexes into the passages an engine was given; a marker that points nowhere is dropped
and counted, the same passage cited twice becomes one citation, and citations are
renumbered 1..N in order of first appearance. Each citation is then narrowed to the
sentences of its passage that best support the answer sentences citing it, so a reader
sees the exact words, and `source_text(doc)[start:end] == text` still holds. Nothing here
judges whether the citation really supports the claim (see rag/claims.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.lexical import tokenize
from rag.sentences import sentence_spans
from rag.types import Citation, Passage

MARKER = re.compile(r"\[\s*(\d+(?:\s*(?:,|-|–)\s*\d+)*)\s*\]")
MAX_RANGE = 50  # a marker like [1-999999] is a typo, not 999999 citations

# score(answer sentence, passage sentence) -> support; higher is better
Support = Callable[[str, str], float]


@dataclass(frozen=True)
class Resolved:
    answer: str
    citations: list[Citation]
    dropped: int


def _numbers(body: str) -> list[int]:
    numbers: list[int] = []
    for part in re.split(r"\s*,\s*", body):
        low, _, high = re.sub(r"\s*[-–]\s*", "-", part).partition("-")
        if not high:
            numbers.append(int(low))
            continue
        a, b = int(low), int(high)
        numbers += list(range(a, b + 1)) if 0 <= b - a <= MAX_RANGE else [a, b]
    return numbers


def parse_markers(text: str) -> list[int]:
    """Every number the markers of `text` name, in order, repeats included."""
    return [n for match in MARKER.finditer(text) for n in _numbers(match.group(1))]


def strip_markers(text: str) -> str:
    return _tidy(MARKER.sub("", text))


def _tidy(text: str) -> str:
    text = re.sub(r"[ \t]+([.,;:!?])", r"\1", text)
    text = re.sub(r"[ \t]{2,}", " ", text)
    return re.sub(r"[ \t]+\n", "\n", text).strip()


def citing_sentences(answer: str) -> list[tuple[str, list[int]]]:
    """The answer's sentences (markers removed) with the marker numbers each carries.

    A marker standing after a sentence's final punctuation ("Paris is big. [1]") belongs
    to that sentence, not the next one."""
    spans = sentence_spans(answer)
    owned: list[list[int]] = [[] for _ in spans]
    for match in MARKER.finditer(answer):
        owner = max((i for i, (s, _) in enumerate(spans) if s <= match.start()), default=0)
        if spans and spans[owner][0] == match.start() and owner > 0:
            owner -= 1  # a sentence cannot open with its own marker
        if spans:
            owned[owner] += _numbers(match.group(1))
    result = []
    for (s, e), numbers in zip(spans, owned, strict=True):
        sentence = strip_markers(answer[s:e])
        if sentence:
            result.append((sentence, list(dict.fromkeys(numbers))))
        elif numbers and result:
            result[-1][1].extend(n for n in numbers if n not in result[-1][1])
    return result


def lexical_support(claim: str, sentence: str) -> float:
    """Share of the claim's stemmed terms found in the sentence; names and numbers
    (capitalised words, digits) count double."""
    terms = tokenize([claim])[0]
    if not terms:
        return 0.0
    found = set(tokenize([sentence])[0])
    heavy = {t for t in tokenize([" ".join(re.findall(r"\b(?:[A-Z]\w+|\d[\d.,]*)", claim))])[0]}
    total = sum(2.0 if t in heavy else 1.0 for t in terms)
    return sum(2.0 if t in heavy else 1.0 for t in terms if t in found) / total


def narrow(passage: Passage, claims: Sequence[str], support: Support = lexical_support,
           keep_ratio: float = 0.8) -> tuple[int, int]:
    """Document offsets of the contiguous run of the passage's sentences that best
    supports `claims`: the best sentence plus neighbours scoring at least `keep_ratio`
    of it. The whole passage when no sentence shares anything with the claims."""
    spans = sentence_spans(passage.text)
    if len(spans) <= 1 or not claims:
        return passage.start, passage.end
    scores = [max(support(c, passage.text[s:e]) for c in claims) for s, e in spans]
    best = max(range(len(spans)), key=scores.__getitem__)
    if scores[best] <= 0:
        return passage.start, passage.end
    first = last = best
    while first > 0 and scores[first - 1] >= keep_ratio * scores[best]:
        first -= 1
    while last < len(spans) - 1 and scores[last + 1] >= keep_ratio * scores[best]:
        last += 1
    return passage.start + spans[first][0], passage.start + spans[last][1]


_RUN = re.compile(r"(?:\[\d+\]\s*){2,}")


def _merge_run(match: re.Match[str]) -> str:
    """`[2] [2][1]` -> `[2][1]`: adjacent markers, each number once."""
    numbers = dict.fromkeys(int(n) for n in re.findall(r"\d+", match.group(0)))
    trailing = match.group(0)[len(match.group(0).rstrip()):]
    return "".join(f"[{n}]" for n in numbers) + trailing


def resolve(text: str, sources: Sequence[Passage], support: Support | None = None) -> Resolved:
    """Rewrite `text`'s markers to citations 1..N of `sources`, narrowed to what they
    support; invalid markers are removed and counted in `dropped`."""
    renumber: dict[tuple[str, int, int], int] = {}  # source span -> new number
    first_source: list[Passage] = []
    dropped = 0

    def rewrite(match: re.Match[str]) -> str:
        nonlocal dropped
        new: list[int] = []
        for n in _numbers(match.group(1)):
            if not 1 <= n <= len(sources):
                dropped += 1
                continue
            source = sources[n - 1]
            key = (source.doc, source.start, source.end)
            if key not in renumber:
                renumber[key] = len(renumber) + 1
                first_source.append(source)
            if renumber[key] not in new:
                new.append(renumber[key])
        return "".join(f"[{n}]" for n in new)

    answer = _tidy(_RUN.sub(_merge_run, MARKER.sub(rewrite, text)))
    claims_by_number: dict[int, list[str]] = {}
    for sentence, numbers in citing_sentences(answer):
        for n in numbers:
            claims_by_number.setdefault(n, []).append(sentence)
    citations = []
    for n, source in enumerate(first_source, start=1):
        start, end = narrow(source, claims_by_number.get(n, []), support or lexical_support)
        text_span = source.text[start - source.start : end - source.start]
        citations.append(Citation(n, source.doc, start, end, text_span))
    return Resolved(answer, citations, dropped)
