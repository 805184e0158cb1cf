"""Cutting a Document into Chunks whose offsets slice its text exactly.

LangChain's RecursiveCharacterTextSplitter does the cutting, preferring paragraph, line
and sentence boundaries, so that a chunk rarely splits a sentence. This module only adds
what the splitter does not keep: each chunk's exact `start`/`end` in the source text, a
stable id, and (rag/boilerplate.py) a weight that down-ranks page furniture.
It does not change the text.
"""

from __future__ import annotations

import hashlib

from langchain_text_splitters import RecursiveCharacterTextSplitter

from rag.boilerplate import (  # noqa: F401 (re-exported: callers know them from here)
    boilerplate_weight,
    boilerplate_weights,
    end_of_body,
    is_furniture,
)
from rag.sentences import sentence_spans
from rag.types import Chunk, Document

# Paragraphs, lines, sentence ends, clauses, words, characters: the splitter tries these
# in order, so a chunk boundary falls on the coarsest one that keeps chunks under size.
SEPARATORS = [r"\n\s*\n", r"\n", r"(?<=[.!?…])\s+|(?<=[.!?…][\"'”’)])\s+", r"(?<=[;:])\s+",
              r"(?<=,)\s+", r"\s+", ""]

def chunk_id(doc: Document, start: int, end: int) -> str:
    key = f"{doc.name}\x00{doc.content_hash}\x00{start}\x00{end}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


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


def first_line_title(text: str, max_chars: int = 150) -> str:
    """The text's first line of three or more words that is not page furniture
    ("Printable version", "Support us!"), cut to its first sentence and `max_chars`."""
    for line in text[:2000].splitlines():
        if len(line.split()) >= 3 and boilerplate_weight(line) == 1.0:
            spans = sentence_spans(line)
            return line[: spans[0][1]][:max_chars].strip() if spans else ""
    return ""


def title_of(doc: Document, max_chars: int = 150) -> str:
    """The document's title: the one its reader found, else its first line of three or
    more words that is not page furniture."""
    return doc.title or first_line_title(doc.text, max_chars)


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
