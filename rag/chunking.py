"""Cutting a Document into Chunks whose offsets slice its text exactly.

LangChain's RecursiveCharacterTextSplitter does the cutting, preferring paragraph, line
and sentence boundaries, so that a chunk rarely splits a sentence; its sentence level is
Punkt's sentences (rag/sentences.py), not a regex, so "vs." or "e.g." inside a sentence
is no boundary. This module only adds what the splitter does not keep: each chunk's
exact `start`/`end` in the source text, a stable id, and (rag/boilerplate.py) a weight
that down-ranks page furniture. It does not change the text.
"""

from __future__ import annotations

import hashlib
import re

from langchain_text_splitters import RecursiveCharacterTextSplitter

from rag.boilerplate import (  # noqa: F401 (re-exported: callers know them from here)
    boilerplate_weight,
    boilerplate_weights,
    end_of_body,
    is_furniture,
)
from rag.render import short
from rag.sentences import sentence_spans
from rag.types import Chunk, Document

SENTENCES = "<sentences>"  # the level cut where Punkt ends a sentence, not a regex
# Paragraphs, lines, sentences, clauses, words, characters: the splitter tries these in
# order, so a chunk boundary falls on the coarsest one that keeps chunks under size.
SEPARATORS = [r"\n\s*\n", r"\n", SENTENCES, r"(?<=[;:])\s+", r"(?<=,)\s+", r"\s+", ""]


def chunk_id(doc: Document, start: int, end: int) -> str:
    key = f"{doc.name}\x00{doc.content_hash}\x00{start}\x00{end}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


class _Splitter(RecursiveCharacterTextSplitter):
    """The recursive splitter with its sentence level taken from rag/sentences.py: a regex
    cannot tell the full stop of "vs." or "e.g." from a sentence's end."""

    def _split_text(self, text: str, separators: list[str]) -> list[str]:
        for i, separator in enumerate(separators):
            if separator == SENTENCES:  # no coarser separator occurs in the text
                return self._split_sentences(text, separators[i + 1 :])
            if not separator or re.search(separator, text):
                break
        return super()._split_text(text, separators)

    def _split_sentences(self, text: str, finer: list[str]) -> list[str]:
        """Whole sentences merged up to the size; a longer sentence cut at `finer`."""
        starts = [start for start, _ in sentence_spans(text)[1:]]
        chunks: list[str] = []
        fitting: list[str] = []  # sentences (each with the spaces after it) under the size
        for a, b in zip([0, *starts], [*starts, len(text)], strict=True):
            if len(text[a:b]) < self._chunk_size:
                fitting.append(text[a:b])
                continue
            chunks += self._merge_splits(fitting, "") + self._split_text(text[a:b], finer)
            fitting = []
        return chunks + self._merge_splits(fitting, "")


def _splitter(size: int, overlap: int) -> RecursiveCharacterTextSplitter:
    return _Splitter(
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
        chunks.append(_chunk(doc, start, last_end))
    return _headings_moved(doc, chunks, size)


def _chunk(doc: Document, start: int, end: int) -> Chunk:
    return Chunk(chunk_id(doc, start, end), doc.name, start, end, doc.text[start:end])


# a chunk's last paragraph when it is one short line that does not end like a sentence
_TRAILING_HEADING = re.compile(r"(?:\A|\n[ \t]*\n\s*)(?=[^\n]*\w)([^\n]{1,100})(?<![.!?;:,])\Z")


def _headings_moved(doc: Document, chunks: list[Chunk], size: int) -> list[Chunk]:
    """A heading the splitter left at the end of a chunk ("8 Conclusion", or a chunk of
    its own before a paragraph too long to share one) moved to the start of the chunk
    it names, when that still fits in `size`."""
    moved: list[Chunk | None] = list(chunks)
    for i in range(len(chunks) - 1):
        chunk, after = moved[i], moved[i + 1]
        found = _TRAILING_HEADING.search(chunk.text) if chunk and after else None
        if found is None or after.end - (chunk.start + found.start(1)) > size:
            continue
        heading, rest = chunk.start + found.start(1), chunk.text[: found.start()].rstrip()
        moved[i + 1] = _chunk(doc, min(heading, after.start), after.end)
        moved[i] = _chunk(doc, chunk.start, chunk.start + len(rest)) if rest else None
    return [chunk for chunk in moved if chunk is not None]


def first_line_title(text: str, max_chars: int = 150) -> str:
    """The text's first line of three or more words that is not page furniture
    ("Printable version", "Support us!"), cut to its first sentence and `max_chars`."""
    for line in text[:2000].splitlines():
        if len(line.split()) >= 3 and boilerplate_weight(line) == 1.0:
            spans = sentence_spans(line)
            return short(line[: spans[0][1]], max_chars) if spans else ""
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
