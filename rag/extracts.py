"""Candidate sentences and the extracts built from them: the units an answer quotes.

`candidate_sentences` turns retrieved passages into their sentences, each once, in
document order, with exact document offsets; passages of a document that overlap or
touch are read as one stretch of text first, so that a sentence cut by a chunk boundary
comes out whole and a sentence's neighbours are known. `extract_span` grows an answering
sentence into a short extract of 1-3 contiguous sentences: the sentence before it when it
opens by referring back ("He suggested…", "The company said…"), the items after it when it
introduces or belongs to a list, and any neighbour the caller's `wanted` predicate asks for.

Pure functions over text: no scoring (rag/scoring.py) and no choice of which sentence
answers (rag/selection.py). Its rules read English prose; they do not parse.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.chunking import is_furniture
from rag.sentences import sentence_spans
from rag.types import Passage

MAX_SENTENCES = 3
LIST_ITEMS = 4  # a list's items joining an extract beyond MAX_SENTENCES
HEADING_START = 3  # a document's first line starts within this many characters (a BOM)
MAX_GAP = 3  # characters of whitespace between two sentences read as neighbours


@dataclass(frozen=True)
class Sentence:
    """A candidate sentence: exact document offsets, and where it stands."""

    doc: str
    start: int
    end: int
    text: str
    rank: int  # rank of the best retrieved passage holding it (0 = best)
    after_break: bool  # a line break (or unseen text) separates it from the one before
    furniture: bool = False  # on a line of page furniture (a headline, a photo caption)
    title: str = ""  # its document's title


def _stretches(passages: Sequence[Passage]) -> list[tuple[str, int, str, int, str]]:
    """(doc, start, text, best rank, title) of each run of passages that overlap or
    touch."""
    ranked = sorted(enumerate(passages), key=lambda item: (item[1].doc, item[1].start))
    runs: list[list] = []
    for rank, p in ranked:
        last = runs[-1] if runs else None
        if last and last[0] == p.doc and p.start <= last[1] + len(last[2]):
            end = last[1] + len(last[2])
            last[2] += p.text[max(end - p.start, 0):]
            last[3] = min(last[3], rank)
        else:
            runs.append([p.doc, p.start, p.text, rank, p.title])
    return [tuple(run) for run in runs]


def candidate_sentences(passages: Sequence[Passage]) -> list[Sentence]:
    """Every sentence of the passages once, in document order within each document."""
    found: list[Sentence] = []
    for doc, offset, text, rank, title in _stretches(passages):
        previous_end = None
        for s, e in sentence_spans(text):
            gap = text[previous_end:s] if previous_end is not None else None
            after_break = gap is None or "\n" in gap
            if gap is None and found and found[-1].doc == doc:
                after_break = offset + s - found[-1].end > 1  # a paragraph break, likely
            line = text[text.rfind("\n", 0, s) + 1:(text.find("\n", e) + 1 or len(text) + 1) - 1]
            furniture = is_furniture(line) or is_heading(line, text[s:e], title, offset + s)
            found.append(Sentence(doc, offset + s, offset + e, text[s:e], rank, after_break,
                                  furniture, title))
            previous_end = e
    return found


def is_heading(line: str, sentence: str, title: str, start: int) -> bool:
    """Whether a sentence is its document's headline: a line of its own with no full
    stop that is the title or opens the document ("No UK premiere for Rings musical",
    "Strandloper (novel)"). It names the topic, so it looks like the answer to every
    question about the document, and answers none."""
    line = line.strip()
    return line == sentence.strip() and not line.endswith(".") and (
        start <= HEADING_START or line == title.strip())


def neighbours(sentences: Sequence[Sentence], i: int, step: int) -> int | None:
    """The index of the sentence just before (step -1) or after (step 1) sentence `i` in
    its document, if it is a candidate too."""
    j = i + step
    if not 0 <= j < len(sentences):
        return None
    a, b = (sentences[j], sentences[i]) if step < 0 else (sentences[i], sentences[j])
    if a.doc != b.doc or not 0 <= b.start - a.end <= MAX_GAP:
        return None
    return j


# "He suggested…", "But the company said…", "In 1995 she…": the subject is named before
_REFERS_BACK = re.compile(
    r"^[\"“‘']?(?:(?:But|And|However|Yet|Still|Also|So|Then|Later|Now|Instead|Meanwhile|"
    r"In (?:\d{4}|addition|turn)|At (?:first|the time)),?\s+)?"
    r"(?:He|She|They|It|This|These|Those|His|Her|Their|Its|Such|Both|"
    r"The (?:company|firm|group|band|film|city|country|team|club|party|government|"
    r"organi[sz]ation|university|school|book|album|song|show|series|game|man|woman|"
    r"latter|former|move|plan|deal|law|ban|scheme|project|idea|system|report|study|"
    r"survey|device|product|network|service|station|building|church|region|area|state|"
    r"river|war|battle|event|festival|singer|actor|player|author|star|minister|president|"
    r"chairman|leader|official|spokesman|spokeswoman|expert|analyst))\b", re.IGNORECASE)
_LIST_ITEM = re.compile(r"^\s*(?:[-–—•*·▪]|\(?\d{1,2}[.)]|\(?[a-z][.)])\s")
_INTRODUCES_LIST = re.compile(r"(?::|\b(?:include|includes|including|are|were|following))\s*$")


def refers_back(text: str) -> bool:
    """Whether a sentence opens by referring to a subject named before it."""
    return bool(_REFERS_BACK.match(text))


def is_list_item(text: str) -> bool:
    return bool(_LIST_ITEM.match(text))


def _continues_list(sentences: Sequence[Sentence], last: int, j: int) -> bool:
    """Whether sentence `j` (just after `last`) carries on a list `last` starts or is in."""
    nxt, current = sentences[j], sentences[last]
    return is_list_item(nxt.text) and (
        is_list_item(current.text) or bool(_INTRODUCES_LIST.search(current.text)))


def extract_span(sentences: Sequence[Sentence], i: int,
                 wanted: Callable[[int], bool] = lambda j: False,
                 max_sentences: int = MAX_SENTENCES) -> tuple[int, int]:
    """(first, last) indexes of the extract around sentence `i`: `i`, the sentence naming
    its subject when `i` refers back, the list items it introduces or belongs to, then
    the neighbours in its paragraph that `wanted` asks for; at most `max_sentences`,
    always contiguous."""
    first = last = i
    before = neighbours(sentences, i, -1)
    if before is not None and refers_back(sentences[i].text) and not sentences[i].after_break:
        first = before
    last = _list_end(sentences, first, last, max_sentences)
    for step in (1, -1):
        while last - first + 1 < max_sentences:
            j = neighbours(sentences, last if step > 0 else first, step)
            later = sentences[max(j, first) if j is not None and step > 0 else first]
            if j is None or later.after_break or not wanted(j):
                break  # a neighbour joins only within its paragraph
            first, last = min(first, j), max(last, j)
    return first, _list_end(sentences, first, last, max_sentences)


def _list_end(sentences: Sequence[Sentence], first: int, last: int, max_sentences: int) -> int:
    """The last sentence of the extract once the list it introduces or is in continues
    (a list's items join beyond `max_sentences`, up to LIST_ITEMS of them)."""
    while last - first + 1 < max_sentences + LIST_ITEMS:
        after = neighbours(sentences, last, 1)
        if after is None or not _continues_list(sentences, last, after):
            break
        last = after
    return last
