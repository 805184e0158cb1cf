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


_PHOTO_CREDIT = re.compile(
    r"\b(?:photo|image|picture|illustration)\b.{0,40}(?:\(cc[ -]|©|getty|reuters|\bap\b|afp|"
    r"shutterstock|wikimedia)|\(cc by[\w -]*\d|©", re.IGNORECASE)


def _is_headline(line: str) -> bool:
    """Title Case without a full stop ("Russia and West Continue to Talk")."""
    words = [w for w in line.split() if len(w) >= 4 and w[0].isalpha()]
    capitalised = sum(w[0].isupper() for w in words)
    return len(words) >= 3 and capitalised >= 0.8 * len(words) and not line.rstrip().endswith(".")


def is_furniture(line: str) -> bool:
    """Whether a line is page furniture rather than prose: a headline, a photo caption
    with its credit, an end-of-body disclaimer, or mostly navigation and appeal phrases."""
    return bool(_is_headline(line) or _PHOTO_CREDIT.search(line)
                or _END_OF_BODY.match(line.strip()) or boilerplate_weight(line) < 1.0)


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
    last_start, last_end = -1, 0
    for piece in _splitter(size, overlap).split_text(doc.text):
        # The piece's place is its first occurrence that repeats at most `overlap`
        # characters of the previous chunk and reaches past its end: in repeated text
        # ("alpha alpha…") an earlier occurrence can match the piece without being it.
        start = doc.text.find(piece, max(last_start + 1, last_end - overlap))
        while start >= 0 and start + len(piece) <= last_end:
            start = doc.text.find(piece, start + 1)
        if start < 0 and piece in doc.text[last_start:last_end]:
            continue  # a tail the splitter repeated as overlap: nothing new to index
        if start < 0:  # the splitter only ever returns substrings; this guards the invariant
            raise AssertionError(f"chunk not found in {doc.name!r} after offset {last_start}")
        last_start, last_end = start, start + len(piece)
        chunks.append(Chunk(chunk_id(doc, start, last_end), doc.name, start, last_end, piece))
    return chunks


def title_of(doc: Document, max_chars: int = 150) -> str:
    """The document's first line of three or more words that is not page furniture
    ("Printable version", "Support us!"), cut to its first sentence and `max_chars`."""
    for line in doc.text[:2000].splitlines():
        if len(line.split()) >= 3 and boilerplate_weight(line) == 1.0:
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
    """The chunk's sentences as chunk-like spans; a sentence's id is its chunk's id and
    its position, so a sentence found by search names its chunk."""
    return [
        Chunk(f"{chunk.id}-{i}", doc.name, chunk.start + s, chunk.start + e, chunk.text[s:e])
        for i, (s, e) in enumerate(sentence_spans(chunk.text))
    ]
