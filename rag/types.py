"""Plain data passed between the pipeline stages.

Every span is a pair of character offsets into a document's exact source text, so
`source_text(doc)[start:end] == text` holds for chunks, passages and citations alike.
Pages, where a document has them, are 1-based `(first, last)` pairs. Everything here is
frozen; dicts appear only at the JSON and SQLite edges (`Response.to_dict`/`from_dict`).
Nothing here does I/O or talks to a model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Span = tuple[int, int]  # (start, end) character offsets
Pages = tuple[int, int]  # (first, last) 1-based page numbers
Verdict = Literal["supported", "weak", "unsupported", "uncited"]


@dataclass(frozen=True)
class Extracted:
    """What a format reader makes of a file: the text every offset will point into,
    the title it found, each page's character range, and page furniture (running
    headers, page numbers) as character ranges, kept in the text but down-weighted."""

    text: str
    title: str = ""
    pages: tuple[Span, ...] = ()
    furniture: tuple[Span, ...] = ()


@dataclass(frozen=True)
class Document:
    """A loaded document: its name in the collection, its exact text, its title, and one
    character range per page (empty for formats without pages)."""

    name: str
    text: str
    content_hash: str
    title: str = ""
    pages: tuple[Span, ...] = ()


def pages_of(page_ranges: tuple[Span, ...] | list[Span], start: int, end: int) -> Pages | None:
    """The first and last page (1-based) that characters `start:end` are printed on, or
    None for a document without pages."""
    touched = [n for n, (s, e) in enumerate(page_ranges, start=1) if s < end and start < e]
    if not touched:
        return None
    return touched[0], touched[-1]


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
    """A retrieved span with its relevance score; `weight` is its chunk's boilerplate
    weight (1.0 for prose, less for page furniture)."""

    doc: str
    start: int
    end: int
    score: float
    text: str
    weight: float = 1.0
    title: str = ""
    pages: Pages | None = None


@dataclass(frozen=True)
class Citation:
    """What an `[n]` marker in an answer points to."""

    n: int
    doc: str
    start: int
    end: int
    text: str
    title: str = ""
    pages: Pages | None = None


@dataclass(frozen=True)
class Claim:
    """One sentence of an answer, the citations it carries, and how well they support it."""

    sentence: str
    citations: tuple[int, ...]
    support: float
    verdict: Verdict


@dataclass(frozen=True)
class Turn:
    """One exchange of a conversation, as the engines see history."""

    question: str
    answer: str


def _pages(value: Any) -> Pages | None:
    return (int(value[0]), int(value[1])) if value else None


@dataclass(frozen=True)
class Response:
    """What `ask` and `summarize` return, what the CLI prints and the app renders."""

    question: str
    standalone_question: str
    answer: str
    refused: bool
    citations: tuple[Citation, ...]
    passages: tuple[Passage, ...]
    engine: str
    timings_ms: dict[str, float] = field(default_factory=dict)
    claims: tuple[Claim, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Response:
        """The inverse of `to_dict` (as read back from JSON: lists for tuples)."""
        return cls(
            question=data["question"],
            standalone_question=data.get("standalone_question", data["question"]),
            answer=data["answer"],
            refused=bool(data.get("refused", False)),
            citations=tuple(Citation(**{**c, "pages": _pages(c.get("pages"))})
                            for c in data.get("citations", [])),
            passages=tuple(Passage(**{**p, "pages": _pages(p.get("pages"))})
                           for p in data.get("passages", [])),
            engine=data.get("engine", ""),
            timings_ms=dict(data.get("timings_ms", {})),
            claims=tuple(Claim(c["sentence"], tuple(c["citations"]), float(c["support"]),
                               c["verdict"]) for c in data.get("claims", [])),
        )
