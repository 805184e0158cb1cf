"""Tests for rag/citations.py: tables for the edge cases, hypothesis for the invariants
(exact spans, numbering 1..N without gaps, dropped counts, text outside markers kept)."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag.citations import (
    MARKER,
    citing_sentences,
    lexical_support,
    narrow,
    parse_markers,
    resolve,
    strip_markers,
)
from rag.types import Passage

SOURCE = (
    "Paris is the capital of France. It has 2.1 million inhabitants. "
    "The Seine flows through the city. Rome is the capital of Italy."
)


def span(sentence: str) -> tuple[int, int]:
    start = SOURCE.index(sentence)
    return start, start + len(sentence)


S1 = span("Paris is the capital of France.")
S2 = span("It has 2.1 million inhabitants.")
S3 = span("The Seine flows through the city.")
S4 = span("Rome is the capital of Italy.")


def passage(start: int, end: int, doc: str = "d", text: str = SOURCE) -> Passage:
    return Passage(doc, start, end, 1.0, text[start:end])


WHOLE = passage(0, len(SOURCE))


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("no markers", []),
        ("a [1] b", [1]),
        ("a [2, 3]", [2, 3]),
        ("a [1][2]", [1, 2]),
        ("a [1-3]", [1, 2, 3]),
        ("a [1 – 3]", [1, 2, 3]),
        ("a [ 4 ,5,6 ]", [4, 5, 6]),
        ("a [1-2, 5]", [1, 2, 5]),
        ("a [3-1]", [3, 1]),  # backwards: both ends, not an empty range
        ("a [2-900]", [2, 900]),  # too wide to be a range
        ("[1] repeats [1]", [1, 1]),
        ("a [^1] [x] [1.5] [] [-1] [1,]", []),
        ("nested [1[2]]", [2]),
    ],
)
def test_parse_markers(text: str, numbers: list[int]) -> None:
    assert parse_markers(text) == numbers


@pytest.mark.parametrize(
    ("text", "stripped"),
    [
        ("Paris is big [1].", "Paris is big."),
        ("Paris is big. [1]", "Paris is big."),
        ("Paris is big.[1] Rome too.", "Paris is big. Rome too."),
        ("Paris [1] is big.", "Paris is big."),
        ("Paris [1], Rome [2] and Bern [3].", "Paris, Rome and Bern."),
        ("[1] Paris.", "Paris."),
        ("Paris.\n[1] Rome.\n  [2] Bern.", "Paris.\nRome.\n  Bern."),
        ("Paris [1]\nRome", "Paris\nRome"),
        ("big\u00a0[1] city", "big\u00a0city"),
        ("big\u00a0[1]!", "big!"),
        ('he said "yes [1]" and left', 'he said "yes" and left'),
        ("(see [1])", "(see)"),
        ("a [1] [2, 3] [4-5] b", "a b"),
        ("x [1[9]] y", "x y"),  # "[1]" only appears once "[9]" is gone
        ("no markers  here .", "no markers  here ."),  # text outside markers is left alone
    ],
)
def test_strip_markers(text: str, stripped: str) -> None:
    assert strip_markers(text) == stripped


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("", []),
        ("[1]", []),
        ("Paris is big [1]. Rome is old [2].", [("Paris is big.", [1]), ("Rome is old.", [2])]),
        ("Paris is big. [1] Rome is old.", [("Paris is big.", [1]), ("Rome is old.", [])]),
        ("Paris is big.[1][2] Rome is old.", [("Paris is big.", [1, 2]), ("Rome is old.", [])]),
        ("[3] Paris is big.", [("Paris is big.", [3])]),
        ("Paris [1] is big [1, 2].", [("Paris is big.", [1, 2])]),
        ("Paris.\n[4]\nRome [5].", [("Paris.", [4]), ("Rome.", [5])]),
        ("Dr. Smith [1] said so.", [("Dr. Smith said so.", [1])]),
    ],
)
def test_citing_sentences(answer: str, expected: list[tuple[str, list[int]]]) -> None:
    assert citing_sentences(answer) == expected


def test_resolve_renumbers_in_order_of_first_appearance() -> None:
    sources = [passage(*S1), passage(*S2), passage(*S3)]
    resolved = resolve("Seine [3]. Paris [1]. Again [3].", sources)
    assert resolved.answer == "Seine [1]. Paris [2]. Again [1]."
    assert [(c.n, c.start, c.end) for c in resolved.citations] == [(1, *S3), (2, *S1)]
    assert resolved.dropped == 0


@pytest.mark.parametrize(
    ("text", "answer", "dropped"),
    [
        ("Paris [0] is big [4].", "Paris is big.", 2),
        ("Paris [1, 7] is big.", "Paris [1] is big.", 1),
        ("Paris [2-5].", "Paris [1][2].", 2),
        ("Paris [9] [1].", "Paris [1].", 1),
        ("[99] Paris.", "Paris.", 1),
    ],
)
def test_resolve_drops_markers_pointing_nowhere(text: str, answer: str, dropped: int) -> None:
    resolved = resolve(text, [passage(*S1), passage(*S2), passage(*S3)])
    assert (resolved.answer, resolved.dropped) == (answer, dropped)


@pytest.mark.parametrize(
    ("text", "answer", "count"),
    [
        ("Paris [2, 1] is big [1].", "Paris [1][2] is big [2].", 2),
        ("Paris [1] [1], [2] is big.", "Paris [1][2] is big.", 2),
        ("Paris [1][3].", "Paris [1].", 1),  # sources 1 and 3 are the same span
        ("Paris [3] and [1].", "Paris [1] and [1].", 1),
        ("Paris [1-3].", "Paris [1][2].", 2),
    ],
)
def test_resolve_merges_and_splits_markers(text: str, answer: str, count: int) -> None:
    sources = [passage(*S1), passage(*S2), passage(*S1)]
    resolved = resolve(text, sources)
    assert resolved.answer == answer
    assert len(resolved.citations) == count
    assert [c.n for c in resolved.citations] == list(range(1, count + 1))


def test_one_span_cited_for_two_claims_is_one_citation() -> None:
    # the same span under two indexes is one citation, narrowed for both claims together
    text = "Paris is the capital of France [1]. It has 2.1 million inhabitants [2]."
    resolved = resolve(text, [WHOLE, WHOLE])
    assert resolved.answer == text.replace("[2]", "[1]")
    assert [(c.n, c.start, c.end) for c in resolved.citations] == [(1, S1[0], S2[1])]


def test_passages_narrowed_to_the_same_span_become_one_citation() -> None:
    overlapping = [passage(S1[0], S2[1]), passage(S2[0], S3[1])]
    resolved = resolve("Paris has 2.1 million inhabitants [1][2].", overlapping)
    assert resolved.answer == "Paris has 2.1 million inhabitants [1]."
    assert [(c.n, c.start, c.end) for c in resolved.citations] == [(1, *S2)]


@pytest.mark.parametrize(
    ("claim", "span"),
    [
        ("The city has 2.1 million inhabitants.", S2),
        ("The Seine flows through Paris.", S3),
        ("Rome is the capital of Italy.", S4),
        ("It has 2.1 million inhabitants in France.", S2),  # S1 scores too low to join
        ("Quantum chromodynamics.", (S1[1], len(SOURCE))),  # no overlap: the whole passage
    ],
)
def test_resolve_narrows_to_the_supporting_sentence(claim: str, span: tuple[int, int]) -> None:
    # the passage starts with the space after S1, which a narrowed span would not
    citation = resolve(f"{claim} [1]", [passage(S1[1], len(SOURCE))]).citations[0]
    assert (citation.start, citation.end) == span
    assert citation.text == SOURCE[slice(*span)]


def test_narrowing_keeps_close_neighbours_as_one_span() -> None:
    claim = "Paris is the capital of France and the Seine flows through the city."
    # S1 and S3 both support it but are not adjacent: only the better one is kept
    assert narrow(WHOLE, [claim]) == S1
    # two claims about adjacent sentences: both are kept, as one contiguous span
    claims = ["Paris is the capital of France.", "It has 2.1 million inhabitants."]
    assert narrow(WHOLE, claims) == (S1[0], S2[1])
    # the best sentence widens backwards too: S2 is best, S1 close behind
    claims = ["It has 2.1 million inhabitants.", "Paris is the capital of France and big."]
    assert narrow(WHOLE, claims) == (S1[0], S2[1])
    assert narrow(WHOLE, claims, keep_ratio=0.9) == S2


def test_narrowing_offsets_are_into_the_document() -> None:
    text = "Intro line.\n" + SOURCE
    offset = len("Intro line.\n")
    cited = passage(offset, len(text), text=text)
    citation = resolve("Rome is the capital of Italy [1].", [cited]).citations[0]
    assert (citation.start, citation.end) == (offset + S4[0], offset + S4[1])
    assert text[citation.start : citation.end] == citation.text


def test_custom_support_decides_the_sentence() -> None:
    def likes_rome(claim: str, sentence: str) -> float:
        return 1.0 if "Rome" in sentence else 0.0

    citation = resolve("Paris is the capital of France [1].", [WHOLE], likes_rome).citations[0]
    assert (citation.start, citation.end) == S4
    cited = passage(S1[1], len(SOURCE))
    for score in (0.0, -1.0):  # nothing above zero: the whole passage
        nothing = resolve("Paris [1].", [cited], lambda c, s, score=score: score).citations[0]
        assert (nothing.start, nothing.end) == (cited.start, cited.end)


def test_narrow_rejects_a_bad_keep_ratio() -> None:
    with pytest.raises(ValueError, match="keep_ratio"):
        narrow(WHOLE, ["Paris"], keep_ratio=0)


@pytest.mark.parametrize(
    ("claim", "better", "worse"),
    [
        ("Paris has 2 million people.", "It has 2 million people.", "Paris has many people."),
        ("Rome is old.", "Rome is ancient.", "The city is old."),
        ("The rivers flow.", "A river flows.", "Nothing here."),
    ],
)
def test_lexical_support_ranks(claim: str, better: str, worse: str) -> None:
    assert lexical_support(claim, better) > lexical_support(claim, worse)


def test_lexical_support_bounds() -> None:
    assert lexical_support("Paris is big.", "Paris is big.") == 1.0
    assert lexical_support("Paris is big.", "Rome is old.") == 0.0
    assert lexical_support("the of and", "the of and") == 0.0


# --- properties -------------------------------------------------------------------------

WORDS = ["Paris", "is", "big", "the", "Rome", "2.1", "1990", "city", "Élan", "東京", "naïve"]
PIECES = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from([" ", "\u00a0", "\n", ". ", "! ", "? ", ", ", "Dr. ", "U.S. ", "…", "[", "1]"]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=3),
)
SENTENCES = st.lists(st.sampled_from(WORDS), min_size=1, max_size=6).map(
    lambda words: " ".join(words)[:1].upper() + " ".join(words)[1:] + ". "
)
TEXT = st.lists(st.one_of(SENTENCES, PIECES), max_size=30).map("".join)


@st.composite
def documents_and_passages(draw: st.DrawFn) -> tuple[dict[str, str], list[Passage]]:
    docs = {f"doc{i}": draw(TEXT.filter(bool)) for i in range(draw(st.integers(1, 2)))}
    passages = []
    for _ in range(draw(st.integers(0, 6))):
        doc = draw(st.sampled_from(sorted(docs)))
        start = draw(st.integers(0, len(docs[doc]) - 1))
        end = draw(st.integers(start + 1, len(docs[doc])))
        passages.append(passage(start, end, doc, docs[doc]))
    if passages and draw(st.booleans()):
        passages.append(draw(st.sampled_from(passages)))  # the same span twice
    return docs, passages


@st.composite
def markers(draw: st.DrawFn, most: int) -> str:
    n = st.integers(0, most + 2)  # 0 and > most point nowhere
    space = st.sampled_from(["", " "])
    form = draw(st.sampled_from(["single", "list", "range"]))
    if form == "single":
        body = str(draw(n))
    elif form == "list":
        body = (draw(space) + "," + draw(space)).join(map(str, draw(st.lists(n, min_size=2))))
    else:
        body = f"{draw(n)}{draw(space)}{draw(st.sampled_from('-–'))}{draw(space)}{draw(n)}"
    return f"[{draw(space)}{body}{draw(space)}]"


@st.composite
def cases(draw: st.DrawFn) -> tuple[dict[str, str], list[Passage], str]:
    docs, passages = draw(documents_and_passages())
    # pieces of the documents too, so that answer sentences overlap passage sentences
    quotes = st.sampled_from([p.text for p in passages] or [""]).flatmap(
        lambda text: st.integers(0, len(text)).map(lambda cut: text[cut : cut + 40])
    )
    claim = st.one_of(quotes, SENTENCES, PIECES)
    spaced = st.sampled_from(["", " ", ", ", "\u00a0", "\n"])
    cited = st.tuples(claim, spaced, st.lists(markers(len(passages)), max_size=3), spaced)
    parts = draw(st.lists(cited.map(lambda part: part[0] + part[1] + " ".join(part[2]) + part[3])))
    return docs, passages, "".join(parts)


PROPERTIES = settings(max_examples=300, deadline=None,
                      suppress_health_check=[HealthCheck.too_slow])


@PROPERTIES
@given(cases())
def test_citations_are_exact_spans_inside_cited_passages(case) -> None:
    docs, passages, text = case
    resolved = resolve(text, passages)
    cited = [passages[n - 1] for n in parse_markers(text) if 1 <= n <= len(passages)]
    for citation in resolved.citations:
        assert docs[citation.doc][citation.start : citation.end] == citation.text
        assert any(p.doc == citation.doc and p.start <= citation.start <= citation.end <= p.end
                   for p in cited)
    for p in cited:  # no cited passage is lost
        assert any(c.doc == p.doc and p.start <= c.start <= c.end <= p.end
                   for c in resolved.citations)


@PROPERTIES
@given(cases())
def test_numbering_is_one_to_n_in_order_of_first_appearance(case) -> None:
    _, passages, text = case
    resolved = resolve(text, passages)
    count = len(resolved.citations)
    assert [c.n for c in resolved.citations] == list(range(1, count + 1))
    used = parse_markers(resolved.answer)
    assert list(dict.fromkeys(used)) == list(range(1, count + 1))
    assert resolved.dropped == sum(not 1 <= n <= len(passages) for n in parse_markers(text))


@PROPERTIES
@given(cases())
def test_rewritten_markers_are_single_and_adjacent(case) -> None:
    _, passages, text = case
    answer = resolve(text, passages).answer
    found = list(MARKER.finditer(answer))
    assert all(m.group() == f"[{m.group(1)}]" and m.group(1).isdigit() for m in found)
    for left, right in itertools.pairwise(found):
        between = answer[left.end() : right.start()]
        if re.fullmatch(r"[^\S\n]*[,;]?[^\S\n]*", between):  # one run of markers
            assert between == "" and left.group() != right.group()


@PROPERTIES
@given(cases())
def test_only_markers_change(case) -> None:
    _, passages, text = case
    resolved = resolve(text, passages)
    assert strip_markers(resolved.answer) == strip_markers(text)
    assert not parse_markers(strip_markers(text))
    if not parse_markers(text):
        assert resolved.answer == text


@PROPERTIES
@given(TEXT, st.lists(st.integers(1, 3), max_size=6))
def test_removing_a_marker_adds_no_space(words: str, numbers: list[int]) -> None:
    words = re.sub(r"\s+", " ", words).strip() or "x"
    # a marker after any subset of the words, with one space before it
    tokens = words.split(" ")
    text = " ".join(t + (f" [{numbers[i]}]" if i < len(numbers) else "")
                    for i, t in enumerate(tokens))
    stripped = strip_markers(text)
    assert "  " not in stripped
    assert not re.search(r"\s[.,;:!?]", stripped) or re.search(r"\s[.,;:!?]", words)


@PROPERTIES
@given(cases())
def test_resolving_again_changes_nothing(case) -> None:
    _, passages, text = case
    first = resolve(text, passages)
    again = resolve(first.answer, [passage(c.start, c.end, c.doc, " " * c.start + c.text)
                                   for c in first.citations])
    assert again.answer == first.answer
    assert again.dropped == 0
