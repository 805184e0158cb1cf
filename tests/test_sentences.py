"""Sentence spans: Punkt's decisions on abbreviations, initials, decimals and quotes, the
layout rules on top, and the offsets contract."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rag.sentences import sentence_spans


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


@pytest.mark.parametrize(("text", "expected"), [
    ("The U.S. Army met Mr. Smith at 3.5 p.m. on Jan. 5. He left.",
     ["The U.S. Army met Mr. Smith at 3.5 p.m. on Jan. 5.", "He left."]),
    ("J. K. Rowling wrote it. Sergei V. Lavrov spoke. Gen. Milley agreed.",
     ["J. K. Rowling wrote it.", "Sergei V. Lavrov spoke.", "Gen. Milley agreed."]),
    ("It was a U.N. peacekeeping idea. The U.S. refused.",
     ["It was a U.N. peacekeeping idea.", "The U.S. refused."]),
    ('Then "Go home." she said. He said "Stop." Then he left.',
     ['Then "Go home." she said.', 'He said "Stop."', "Then he left."]),
    ("“I will go,” he said. (This is it.) And more!? Yes.",
     ["“I will go,” he said.", "(This is it.)", "And more!?", "Yes."]),
    ("It rained… The next day came.", ["It rained…", "The next day came."]),
    # what a PDF prints: a quoted question then a comma, an elided list in a formula
    ("Take “Who is the bad guy in lord of the rings?”, which is hard. Yes.",
     ["Take “Who is the bad guy in lord of the rings?”, which is hard.", "Yes."]),
    ("A corpus C = {p1, p2, . . . , pM}, where each passage is a text. It ends.",
     ["A corpus C = {p1, p2, . . . , pM}, where each passage is a text.", "It ends."]),
    ("iPhone sales rose. iPad sales fell.", ["iPhone sales rose.", "iPad sales fell."]),
    ("Russia and West Continue to Talk\nBy Anna Smith\n\nThe talks began.",
     ["Russia and West Continue to Talk", "By Anna Smith", "The talks began."]),
    ("  Leading space. Trailing space.  \n", ["Leading space.", "Trailing space."]),
    ("", []),
    (" \n\n ", []),
])
def test_sentences(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_a_window_of_the_text_keeps_offsets_into_the_whole() -> None:
    text = "Abc def. Ghi jkl. Mno pqr."
    assert sentence_spans(text, 9, 17) == [(9, 17)]
    assert [text[s:e] for s, e in sentence_spans(text, 9)] == ["Ghi jkl.", "Mno pqr."]


@given(st.text(alphabet=st.sampled_from(list("ab .!?\n\"”’(U.S.)3,e"))), st.integers(0, 40))
def test_spans_are_trimmed_ordered_and_inside_the_window(text: str, start: int) -> None:
    start = min(start, len(text))
    spans = sentence_spans(text, start)
    previous_end = start
    for s, e in spans:
        assert previous_end <= s < e <= len(text)
        assert not text[s].isspace() and not text[e - 1].isspace()
        previous_end = e
