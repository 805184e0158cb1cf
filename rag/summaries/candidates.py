"""The sentences a summary may quote: every whole sentence of the documents' body text.

A candidate is exactly one sentence span (rag/sentences.py) of a chunk, so quoting it
cites its exact offsets. Left out: chunks whose boilerplate weight is below 1 (page
furniture past an article's end, appeals, share links), page-furniture lines (headlines,
photo credits, disclaimers: chunking.is_furniture), headings and other lines without a
sentence's final punctuation, fragments too short to be a claim, pieces that do not open
like a sentence (a sentence cut by a chunk boundary), and sentences whose quotation marks
do not pair up or that stand inside a quotation opened earlier in their paragraph — a
quotation running over several sentences is never cut to one of them.
Each candidate records whether it opens its document or a paragraph (position features).
It does not merge sentences or repair the splitter's mistakes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rag.chunking import is_furniture
from rag.sentences import sentence_spans
from rag.types import Passage

MIN_CHARS, MIN_WORDS = 30, 5
_ENDS_LIKE_A_SENTENCE = re.compile(r"[.!?…][\"'”’)\]]*$")
_OPENING = "\"'“‘([«"


@dataclass(frozen=True)
class Sentence:
    """A candidate sentence: its document, exact span and text, and where it stands."""

    doc: str
    title: str
    start: int
    end: int
    text: str
    lead: bool  # the first candidate of its document
    opens: bool  # starts a line or paragraph (the first sentence of a section)


_OPENS_AFTER = " \t\n([{/-–—"  # a straight quote after one of these (or first) opens


def _straight_quotes(text: str, open_: bool) -> tuple[bool, bool]:
    """(a straight-quoted quotation is open at the end, a mark closed a quotation opened
    before `text`). A mark is read by its side: one after a space and before a word
    opens, one after a word closes. Reporters reopen a quotation that runs on at a new
    sentence ('..." important. "Foreigners...'): an opening mark while one is open starts
    it again, so a mark missing its partner misreads no more than its own sentence."""
    stray = False
    for mark in re.finditer('"', text):
        at = mark.start()
        before = text[at - 1] if at else " "
        after = text[at + 1] if at + 1 < len(text) else " "
        if before in _OPENS_AFTER and not after.isspace():
            open_ = True
        elif not open_:
            stray = True
        else:
            open_ = False
    return open_, stray


def quote_open_after(text: str, open_: bool = False) -> bool:
    """Whether a quotation is open at the end of `text` (`open_`: one was at its start)."""
    straight, _ = _straight_quotes(text, open_)
    return straight or text.rfind("“") > text.rfind("”")


def quotes_balanced(text: str) -> bool:
    """Whether every quotation the sentence opens it also closes (and the reverse).
    Single quotes are judged by their opening mark only: ’ is also an apostrophe."""
    if any(_straight_quotes(text, False)) or text.count("“") != text.count("”"):
        return False
    for opened in re.finditer("‘", text):
        if not re.search(r"’(?!\w)", text[opened.end():]):
            return False
    return text.count("«") == text.count("»")


def is_candidate(text: str) -> bool:
    opening = text.lstrip(_OPENING)[:1]
    return (len(text) >= MIN_CHARS and len(text.split()) >= MIN_WORDS
            and (opening.isupper() or opening.isdigit())
            and bool(_ENDS_LIKE_A_SENTENCE.search(text)) and quotes_balanced(text))


def _line(text: str, start: int, end: int) -> str:
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    return text[line_start : len(text) if line_end < 0 else line_end]


def _unit_sentences(unit: Passage, opens_unit: bool,
                    quoting: bool) -> Iterable[tuple[int, int, str, bool]]:
    """(start, end, text, opens a line) of the unit's candidate sentences; `quoting`: the
    unit starts inside a quotation its paragraph opened in an earlier chunk."""
    for s, e in sentence_spans(unit.text):
        text = unit.text[s:e]
        line_start = unit.text.rfind("\n", 0, s) + 1
        before = unit.text[line_start:s]
        # inside an open quotation, unless the sentence reopens it with its own mark
        inside = (quote_open_after(before, quoting and line_start == 0)
                  and not text.startswith(('"', "“")))
        if inside or not is_candidate(text) or is_furniture(_line(unit.text, s, e)):
            continue
        opens = not before.strip() and (line_start > 0 or opens_unit)
        yield unit.start + s, unit.start + e, text, opens


def _quoting_after(unit: Passage, quoting: bool) -> bool:
    """Whether the unit's last line leaves a quotation open (a line break ends one)."""
    line_start = unit.text.rfind("\n") + 1
    return quote_open_after(unit.text[line_start:], quoting and not line_start)


def candidates(units: Sequence[Passage]) -> list[Sentence]:
    """The candidate sentences of `units` (chunks in document order), in that order."""
    found: list[Sentence] = []
    previous_end: dict[str, int] = {}  # doc -> end of its previous unit
    quoting = False  # the previous unit's last line left a quotation open
    for unit in sorted(units, key=lambda u: (u.doc, u.start)):
        # a gap of two or more characters between chunks is a paragraph break; the
        # splitter cuts inside a paragraph only at a sentence end, leaving one space
        gap = unit.start - previous_end.get(unit.doc, -2)
        previous_end[unit.doc] = unit.end
        quoting = quoting and gap < 2
        title = unit.title or unit.doc
        sentences = list(_unit_sentences(unit, gap >= 2, quoting))
        quoting = _quoting_after(unit, quoting)
        if unit.weight < 1.0:
            continue
        for start, end, text, opens in sentences:
            lead = not found or found[-1].doc != unit.doc
            found.append(Sentence(unit.doc, title, start, end, text, lead, opens or lead))
    return found
