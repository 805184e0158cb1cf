"""Cutting a Document into Chunks whose offsets slice its text exactly.

LangChain's RecursiveCharacterTextSplitter does the cutting, preferring paragraph, line
and sentence boundaries, so that a chunk rarely splits a sentence. This module only adds
what the splitter does not keep: each chunk's exact `start`/`end` in the source text, a
stable id, and a weight that down-ranks web boilerplate (share links, donation appeals).
It does not change the text.
"""

from __future__ import annotations

import hashlib
import re

from langchain_text_splitters import RecursiveCharacterTextSplitter

from rag.sentences import sentence_spans
from rag.types import Chunk, Document

# Paragraphs, lines, sentence ends, clauses, words, characters: the splitter tries these
# in order, so a chunk boundary falls on the coarsest one that keeps chunks under size.
SEPARATORS = [r"\n\s*\n", r"\n", r"(?<=[.!?…])\s+|(?<=[.!?…][\"'”’)])\s+", r"(?<=[;:])\s+",
              r"(?<=,)\s+", r"\s+", ""]

_BOILERPLATE = re.compile(
    r"share this article|original article link|channel website|printable version|"
    r"latest news from|support (?:us|the [\w ]+)!?|small favou?r to ask|read more|"
    r"subscribe|donat(?:e|ion)|cookie|all rights reserved|\bcontinue\b",
    re.IGNORECASE,
)
# A line like these ends an article's body on most news sites; what follows it is page
# furniture (appeals, share links, related stories).
_END_OF_BODY = re.compile(
    r"^(?:the views expressed|share this article|related (?:articles|stories)|"
    r"all rights reserved|©|copyright\b|read more\b|support (?:us|the )|"
    r"… we have a small favou?r)",
    re.IGNORECASE | re.MULTILINE,
)


def chunk_id(doc: Document, start: int, end: int) -> str:
    key = f"{doc.name}\x00{doc.content_hash}\x00{start}\x00{end}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def end_of_body(text: str) -> int:
    """Where a web article's body ends: the first end-of-body line in its last third
    (len(text) when there is none)."""
    tail_from = len(text) * 2 // 3
    match = _END_OF_BODY.search(text, tail_from)
    return match.start() if match else len(text)


def boilerplate_weight(text: str, after_body: bool = False) -> float:
    """1.0 for ordinary prose, less for page furniture: chunks past the end of an
    article's body, or where navigation/appeal phrases cover a large share of the words."""
    words = len(text.split())
    hits = sum(len(m.group(0).split()) for m in _BOILERPLATE.finditer(text))
    if after_body or (words and hits / words >= 0.15):
        return 0.5
    return 1.0


def boilerplate_weights(doc: Document, chunks: list[Chunk]) -> list[float]:
    body_end = end_of_body(doc.text)
    return [boilerplate_weight(c.text, c.start >= body_end) for c in chunks]


def _splitter(size: int, overlap: int) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        chunk_size=size,
        chunk_overlap=overlap,
        separators=SEPARATORS,
        is_separator_regex=True,
        keep_separator=True,  # joined back with "", so text between pieces survives
        strip_whitespace=True,
    )


def chunk_document(doc: Document, size: int = 600, overlap: int = 0) -> list[Chunk]:
    """The document's chunks in order; `doc.text[c.start:c.end] == c.text` for each."""
    chunks: list[Chunk] = []
    cursor = 0
    for piece in _splitter(size, overlap).split_text(doc.text):
        start = doc.text.find(piece, cursor)
        if start < 0:  # the splitter only ever returns substrings; this guards the invariant
            raise AssertionError(f"chunk not found in {doc.name!r} after offset {cursor}")
        end = start + len(piece)
        chunks.append(Chunk(chunk_id(doc, start, end), doc.name, start, end, piece))
        # The next chunk repeats at most `overlap` characters of this one; searching from
        # there keeps repeated text ("aaaa…") from matching too early.
        cursor = max(start + 1, end - overlap)
    return chunks


def title_of(doc: Document, max_chars: int = 150) -> str:
    """The document's first line of three or more words that is not page furniture
    ("Printable version", "Support us!"), cut to its first sentence and `max_chars`."""
    for line in doc.text[:2000].splitlines():
        if len(line.split()) >= 3 and not _BOILERPLATE.search(line):
            spans = sentence_spans(line)
            return line[: spans[0][1]][:max_chars].strip() if spans else ""
    return ""


def context_for(doc: Document, chunk: Chunk, title: str, max_chars: int = 200) -> str:
    """What a chunk is found by besides its own text: the document's title and the
    sentence just before the chunk, which often names what the chunk's first sentence
    refers to ("He suggested..."). Embedded and indexed with the chunk, never shown,
    and never part of the chunk's span."""
    before = doc.text[max(0, chunk.start - max_chars) : chunk.start]
    spans = sentence_spans(before)
    previous = before[spans[-1][0] : spans[-1][1]] if spans else ""
    parts = [part for part in (title, previous) if part and part not in chunk.text]
    return " ".join(dict.fromkeys(parts))


def sentences_of(doc: Document, chunk: Chunk) -> list[Chunk]:
    """The chunk's sentences as chunk-like spans (ids stable like chunk ids)."""
    return [
        Chunk(chunk_id(doc, chunk.start + s, chunk.start + e), doc.name, chunk.start + s,
              chunk.start + e, chunk.text[s:e])
        for s, e in sentence_spans(chunk.text)
    ]
