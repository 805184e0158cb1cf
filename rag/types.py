"""Plain data passed between the pipeline stages.

Every span is a pair of character offsets into a document's exact source text, so
`source_text(doc)[start:end] == text` holds for chunks, passages and citations alike.
Nothing here does I/O or talks to a model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Extracted:
    """What a format reader returns: the text every offset will point into, the title,
    one `(start, end)` character range per page (empty for unpaged formats) and the
    character ranges of page furniture (running headers, footers, page numbers)."""

    text: str
    title: str = ""
    pages: tuple[tuple[int, int], ...] = ()
    furniture: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Document:
    """A loaded document: its name in the collection, its exact text, its title and,
    for paged formats, one `(start, end)` character range per page (page n is
    `pages[n - 1]`)."""

    name: str
    text: str
    content_hash: str
    title: str = ""
    pages: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Chunk:
    """A slice of a document that is embedded and indexed as one unit."""

    id: str
    doc: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Passage:
    """A retrieved span with its fused relevance score."""

    doc: str
    start: int
    end: int
    score: float
    text: str


@dataclass(frozen=True)
class Citation:
    """What an `[n]` marker in an answer points to."""

    n: int
    doc: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Turn:
    """One exchange of a conversation, as the engines see history."""

    question: str
    answer: str


@dataclass
class Response:
    """What `ask` and `summarize` return, what the CLI prints and the app renders."""

    question: str
    standalone_question: str
    answer: str
    refused: bool
    citations: list[Citation]
    passages: list[Passage]
    engine: str
    timings_ms: dict[str, float] = field(default_factory=dict)
    claims: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
