"""The claims of an answer, as Markdown shows it: each line read as Markdown first, so
headings (`### Title`, a `**Title**` line, a line with no marker and no closing
punctuation), rules, list bullets and numbers, block quotes, document labels
(`**doc.txt**:`), bold/italic/code markers, links and quotation marks around a whole
claim are left out, and a marker followed by a capitalised word ends a claim even where
the engine put no full stop ("Title [1] Next sentence [2]"). It reads line by line, not
as a full Markdown parser: tables, HTML and footnote-style markers are text. Scoring the
claims is rag/claims.py's.
"""

from __future__ import annotations

import re

from rag.citations import MARKER, citing_sentences, parse_markers

__all__ = ["claim_sentences"]

_WORDS = re.compile(r"\w+")
# -- Markdown, line by line --------------------------------------------------------------
_HEADING = re.compile(r"^ {0,3}#{1,6}(?:\s|$)")
_RULE = re.compile(r"^\s*(?:([-*_=])(?:\s*\1){2,}|\|?(?:\s*:?-+:?\s*\|)+\s*:?-*:?)\s*$")
_BOLD_LINE = re.compile(r"^(\*\*|__)(?!\s).*?(?<!\s)\1\s*:?$")  # **Title**, **Title:**
# block quotes, a bullet or number, then a label: **doc.txt**:, **Title:** or doc.txt:
_PREFIX = re.compile(r"^(?:\s*>)*\s*(?:[-*+•‣◦▪]\s+|\(?\d{1,3}[.)]\s+)?(?:(\*\*|__)[^*\n]{1,200}?\1"
                     r"\s*:\s+|(\*\*|__)[^*\n]{1,200}?:\2\s+|[\w.-]{1,150}\.[A-Za-z]{2,4}:\s+)?")
_EMPHASIS = re.compile(r"\*\*|__|`+|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)")
_LINK = re.compile(r"\[([^\]\n]*[^\]\d\s,\-–—][^\]\n]*)\]\([^)\s]*\)")  # [text](url) -> text
# a marker run followed by a capitalised word starts a new sentence
_MARKER_THEN_CAPITAL = re.compile(
    rf"((?:{MARKER.pattern}[^\S\n]*)+)(?=(?:\*\*|__)\w|[*_]?[\"'“‘(]?[A-Z])")
_ENDED = re.compile(rf"(?:[.!?…:;][\"'”’)\]*_]*|{MARKER.pattern})\s*$")  # closes a sentence
_CONTINUES = re.compile(r"\s*[a-z]")
_QUOTES = {'"': '"', "“": "”", "‘": "’", "«": "»", "'": "'"}


def _is_heading(line: str) -> bool:
    text = line.strip()
    if _HEADING.match(line) or _RULE.match(line):
        return True
    if MARKER.search(text):
        return False
    # a bold line, or a line no punctuation closes ("Key points", a title): a label
    return bool(_BOLD_LINE.match(text)) or not _ENDED.search(text)


def _unquoted(sentence: str) -> str:
    """The sentence without quotation marks wrapping all of it (“…”, "…" or “….”)."""
    body = sentence.rstrip(".,;:!? ")
    close = _QUOTES.get(body[:1])
    if close and len(body) > 2 and body.endswith(close) and close not in body[1:-1]:
        return body[1:-1].strip() + sentence[len(body):].rstrip()
    return sentence


def _line_parts(line: str) -> list[str]:
    """The line's text without its formatting, split where a marker ends a claim."""
    line = _LINK.sub(r"\1", line)
    # not for markers opening the line ("[1] Paris is big."): those cite what follows
    line = _MARKER_THEN_CAPITAL.sub(
        lambda m: m.group(1).rstrip() + "\n" if line[:m.start()].strip() else m.group(0), line)
    return [_EMPHASIS.sub("", _PREFIX.sub("", part, count=1)) for part in line.split("\n")]


def _logical_lines(answer: str) -> list[str]:
    """The answer's lines, a line wrapped mid-sentence (the next line goes on in lower
    case) joined to the next, as Markdown would show it."""
    lines: list[str] = []
    for line in answer.splitlines():
        if lines and lines[-1].strip() and _CONTINUES.match(line) \
                and not _ENDED.search(lines[-1]):
            lines[-1] = f"{lines[-1].rstrip()} {line.strip()}"
        else:
            lines.append(line)
    return lines


def claim_sentences(answer: str) -> list[list[tuple[str, list[int]]]]:
    """The answer's claims, line by line: each line's sentences with their formatting
    left out and the marker numbers each carries. Heading lines give none; a line of
    markers and punctuation only ("[1]", "… [2]") belongs to the last sentence before it."""
    lines: list[list[tuple[str, list[int]]]] = []
    for line in _logical_lines(answer):
        if not line.strip():
            continue
        if not _WORDS.search(MARKER.sub("", line)) and lines and lines[-1]:
            sentence, numbers = lines[-1][-1]
            lines[-1][-1] = (sentence, list(dict.fromkeys(numbers + parse_markers(line))))
            continue
        if _is_heading(line):
            continue
        sentences = []
        for part in _line_parts(line):
            sentences += [(_unquoted(" ".join(s.split())), ns)
                          for s, ns in citing_sentences(part)]
        lines.append([(s, ns) for s, ns in sentences if _WORDS.search(s)])
    return lines
