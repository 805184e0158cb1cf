"""The data passed between stages: page lookup and the JSON round trip of a Response."""

from __future__ import annotations

import json

import pytest

from rag.types import Citation, Claim, Passage, Response, pages_of

PAGES = ((0, 10), (12, 30), (30, 30), (32, 50))  # page 3 is empty


@pytest.mark.parametrize(("start", "end", "expected"), [
    (0, 5, (1, 1)),
    (5, 15, (1, 2)),
    (12, 30, (2, 2)),
    (20, 40, (2, 4)),
    (45, 50, (4, 4)),
    (10, 12, None),  # the blank line between two pages is on neither
])
def test_pages_of(start: int, end: int, expected: tuple[int, int] | None) -> None:
    assert pages_of(PAGES, start, end) == expected


def test_a_document_without_pages_has_none() -> None:
    assert pages_of((), 0, 10) is None


def test_a_response_survives_json() -> None:
    response = Response(
        question="Who?", standalone_question="Who?", answer="Sherman did. [1]", refused=False,
        citations=(Citation(1, "a.pdf", 3, 10, "Sherman", "A title", (2, 3)),),
        passages=(Passage("a.pdf", 0, 20, 0.5, "x" * 20, 0.5, "A title", (2, 3)),),
        engine="extractive", timings_ms={"total": 1.0},
        claims=(Claim("Sherman did.", (1,), 0.9, "supported"),))
    assert Response.from_dict(json.loads(json.dumps(response.to_dict()))) == response
