"""Extractive summaries: candidates, ranking, length, focus, several documents, and the
generative engine's map-reduce at the same length and focus.

The property test builds documents with quotations running over several sentences,
headings and page furniture, chunks them as ingest does, and checks that every summary
sentence is exactly one whole candidate sentence, cited with exactly its span, and never
a piece of a quotation."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_llm_engine import fake, units

from rag import chunking
from rag.citations import citing_sentences
from rag.engines.base import REFUSAL
from rag.engines.llm import LLMEngine
from rag.errors import CitechatError
from rag.sentences import sentence_spans
from rag.summaries import SummaryRequest, extractive_summary, parse_length, shares, single_count
from rag.summaries.candidates import candidates, is_candidate, quotes_balanced
from rag.summaries.ranking import pagerank, salience, term_matrix
from rag.types import Document, Passage

from conftest import GENEVA, RUSI, BagOfWordsEmbedder

BAG = BagOfWordsEmbedder()


def passages_of(name: str, text: str, size: int = 120) -> list[Passage]:
    """The document's chunks as the pipeline hands them to summaries."""
    doc = Document(name, text, "hash")
    chunks = chunking.chunk_document(doc, size)
    weights = chunking.boilerplate_weights(doc, chunks)
    return [Passage(c.doc, c.start, c.end, 1.0, c.text, weight=w)
            for c, w in zip(chunks, weights, strict=True)]


@pytest.mark.parametrize(("text", "balanced"), [
    ('He said "we will go" and left.', True),
    ('"We will go.', False),
    ('We are ready," he said.', False),
    ("She called it “a triumph” today.", True),
    ("She called it “a triumph today.", False),
    ("The players’ union said ‘no deal’ again.", True),
    ("The union said ‘no deal again.", False),
    ("Russia’s view is clear.", True),
    ('He called it an "alarming development", and left.', True),
    ('Rates fell ("sharply", it said) last year.', True),
])
def test_quotation_marks_pair_up(text: str, balanced: bool) -> None:
    assert quotes_balanced(text) is balanced


@pytest.mark.parametrize(("text", "ok"), [
    ("The council approved the new budget on Monday.", True),
    ("Room for hope?", False),  # a heading: too short
    ("The emotional disconnect between the two sides", False),  # no final punctuation
    ("and then the council approved the budget on Monday.", False),  # a cut sentence
    ('"The council approved the budget," she said.', True),
    ("2019 was the year the council approved the budget.", True),
])
def test_candidate_sentences(text: str, ok: bool) -> None:
    assert is_candidate(text) is ok


def test_a_quotation_reopened_at_a_new_sentence_ends_where_it_closes() -> None:
    # reporters reopen a quotation running on ('..." important. "Foreigners...'): the
    # sentence after its closing mark is the reporter's again, the ones inside are not
    text = ('"The budget is fine," said the mayor of the city. "But if the climate is stable '
            'that is more important. "Foreigners would like free entry to the market." '
            "What surprised observers is that the council had courted investment.")
    found = [s.text for s in candidates(passages_of("a.txt", text, 400))]
    assert found == ['"The budget is fine," said the mayor of the city.',
                     '"Foreigners would like free entry to the market."',
                     "What surprised observers is that the council had courted investment."]


def test_salience_favours_the_documents_common_terms() -> None:
    texts = ["The council budget vote passed.", "The council budget was cut.",
             "The council budget grew.", "A heron flew over the quiet river."]
    terms, _ = term_matrix(tuple(texts))
    assert salience(terms).argmin() == 3 and salience(terms)[:3].min() > salience(terms)[3]


def test_furniture_chunks_and_lines_are_skipped() -> None:
    text = ("Printable version\n\nThe council approved the new budget after a long debate.\n\n"
            "The mayor said the vote was a turning point for the city.")
    units = passages_of("a.txt", text, 60)
    units[-1] = replace(units[-1], weight=0.5)
    found = candidates(units)
    assert [s.text for s in found] == ["The council approved the new budget after a long debate."]
    assert found[0].lead and found[0].opens


@pytest.mark.parametrize(("value", "expected"), [
    ("short", "short"), ("LONG", "long"), (" 7 ", 7), (3, 3), (None, "auto"), ("", "auto")])
def test_lengths_parse(value, expected) -> None:
    assert parse_length(value) == expected


@pytest.mark.parametrize("value", ["tiny", "0", "500", "-2"])
def test_bad_lengths_are_one_clear_error(value: str) -> None:
    with pytest.raises(CitechatError, match="summary length"):
        parse_length(value)


@pytest.mark.parametrize("n", [1, 4, 12, 20, 45, 300])
def test_named_lengths_grow_and_follow_the_document(n: int) -> None:
    short, medium, long = (single_count(x, n) for x in ("short", "medium", "long"))
    assert 1 <= short <= medium <= long <= n
    assert single_count("auto", n) == medium
    assert single_count(5, n) == min(5, n)


def test_several_documents_share_the_length() -> None:
    assert shares(6, [10, 20]) == [2, 4]
    assert shares("short", [10, 20, 30]) == [1, 1, 1]
    assert all(a <= b for a, b in zip(shares("short", [30, 30]), shares("long", [30, 30]),
                                      strict=True))


def test_pagerank_favours_the_hub() -> None:
    star = np.zeros((4, 4))
    star[0, 1:] = star[1:, 0] = 1.0
    ranks = pagerank(star, np.ones(4), 0.85)
    assert ranks.argmax() == 0 and ranks.sum() == pytest.approx(1.0)


# -- every summary sentence is one whole cited sentence --------------------------------

WORDS = st.sampled_from("council budget city mayor vote river bridge school tax plan".split())
PLAIN = st.lists(WORDS, min_size=5, max_size=12).map(lambda w: f"The {' '.join(w)}.")
QUOTED = st.lists(PLAIN, min_size=2, max_size=3).map(
    lambda s: '"' + " ".join(s)[:-1] + '," the mayor said.')
PARAGRAPH = st.lists(st.one_of(PLAIN, QUOTED), min_size=1, max_size=4).map(" ".join)
DOCUMENT = st.lists(st.one_of(PARAGRAPH, st.just("Latest News")), min_size=1, max_size=6)


def inside_quotation(text: str, start: int) -> bool:
    line = text[text.rfind("\n", 0, start) + 1 : start]
    return line.count('"') % 2 == 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(paragraphs=DOCUMENT, length=st.one_of(st.sampled_from(["short", "long"]),
                                             st.integers(1, 8)))
def test_summary_sentences_are_whole_cited_sentences(paragraphs, length) -> None:
    text = "\n\n".join(paragraphs)
    units = passages_of("doc.txt", text)
    sources, summary = extractive_summary(units, BAG.embed, BAG.embed_query, length)
    spans = set(sentence_spans(text))
    for source in sources:
        assert text[source.start : source.end] == source.text
        assert (source.start, source.end) in spans or any(
            (u.start + s, u.start + e) == (source.start, source.end)
            for u in units for s, e in sentence_spans(u.text))
        assert quotes_balanced(source.text) and not inside_quotation(text, source.start)
    assert [(s, [n]) for s, n in zip((x.text for x in sources), range(1, len(sources) + 1),
                                     strict=True)] == citing_sentences(summary)
    if isinstance(length, int):
        assert len(sources) <= length


# -- on the seeds, through the pipeline --------------------------------------------------


def assert_exactly_cited(pipeline, response) -> None:
    assert not response.refused
    for citation in response.citations:
        assert pipeline.source_text(citation.doc)[citation.start : citation.end] == citation.text
    sentences = [s for s, numbers in citing_sentences(response.answer) if numbers]
    by_number = {c.n: c.text for c in response.citations}
    assert all(len(n) == 1 for _, n in citing_sentences(response.answer) if n)
    assert sentences == [by_number[n[0]] for _, n in citing_sentences(response.answer) if n]
    assert all(c.verdict == "supported" for c in response.claims
               if not c.sentence.startswith("###")), response.claims


def test_one_document_at_each_length(seeded) -> None:
    counts = []
    for length in ("short", "auto", "long", 4):
        response = seeded.summarize([RUSI], length=length)
        assert_exactly_cited(seeded, response)
        assert {c.doc for c in response.citations} == {RUSI}
        starts = [c.start for c in response.citations]
        assert starts == sorted(starts)
        counts.append(len(response.citations))
    assert counts[0] < counts[1] < counts[2] and counts[3] == 4
    assert "Antonov" in seeded.summarize([RUSI]).answer


def test_the_collection_has_a_section_per_document_and_their_common_ground(seeded) -> None:
    response = seeded.summarize()
    assert_exactly_cited(seeded, response)
    headings = re.findall(r"^### (.+)$", response.answer, re.MULTILINE)
    titles = {d.name: d.title or d.name for d in seeded.documents()}
    assert headings == [titles[RUSI], titles[GENEVA], "Common ground"]
    common = response.answer.split("### Common ground")[1]
    cited = {c.n: c.doc for c in response.citations}
    for line in filter(None, common.strip().split("\n\n")):
        assert {cited[int(n)] for n in re.findall(r"\[(\d+)\]", line)} == {RUSI, GENEVA}


def peacekeeping_part(text: str) -> tuple[int, int]:
    """Where the RUSI piece discusses Putin's UN peacekeeping suggestion."""
    return (text.index("There seemed to be a glimmer"),
            text.index("preclude and deter emerging US plans"))


def test_a_focused_summary_keeps_to_its_topic(seeded) -> None:
    focused = seeded.summarize([RUSI], focus="the UN peacekeeping idea")
    assert_exactly_cited(seeded, focused)
    assert focused.question.endswith("on the UN peacekeeping idea")
    first, last = peacekeeping_part(seeded.source_text(RUSI))
    assert len(focused.citations) >= 3
    assert all(first <= c.start <= last for c in focused.citations), focused.answer
    whole = seeded.summarize([RUSI])
    assert not all(first <= c.start <= last for c in whole.citations)
    off_topic = seeded.summarize([RUSI], focus="the price of Brazilian coffee beans")
    assert off_topic.refused and off_topic.answer == REFUSAL


# -- the generative engine ---------------------------------------------------------------


def test_map_reduce_gets_length_and_focus_and_keeps_markers() -> None:
    model = fake(REFUSAL, "Facts three to five [4][6].", "The focus [4][6].")
    request = SummaryRequest(length="short", focus="fact four")
    draft = LLMEngine(model, batch_chars=300).summarize(units(6), request=request)
    assert draft.text == "The focus [4][6]." and draft.sources == units(6)
    first_map, _, reduce = model.prompts
    assert "two to four sentences" in first_map and "about this: fact four" in reduce
    assert REFUSAL not in reduce.split("Partial summaries:")[1]  # the empty batch left out
    assert "Facts three to five [4][6]." in reduce


def test_map_reduce_with_nothing_on_the_focus_refuses() -> None:
    model = fake(REFUSAL, REFUSAL)
    draft = LLMEngine(model, batch_chars=300).summarize(
        units(6), request=SummaryRequest(5, "unicorns"))
    assert draft.refused and "Use 5 sentences in all." in model.prompts[0]


# -- the CLI and the app -----------------------------------------------------------------


def test_cli_length_and_focus(tmp_path, seeded_dir) -> None:
    import json
    import shutil

    from test_cli import assert_clean_failure, citechat

    shutil.copytree(seeded_dir, tmp_path / "data")
    three = citechat("summarize", RUSI, "--length", "3", "--focus", "UN peacekeeping forces",
                     "--json", data_dir=tmp_path / "data")
    assert three.returncode == 0, three.stderr
    response = json.loads(three.stdout)
    assert len(response["citations"]) == 3 and response["question"].endswith("forces")
    assert any("peacekeep" in c["text"] for c in response["citations"])
    assert_clean_failure(citechat("summarize", "--length", "tiny", data_dir=tmp_path / "data"),
                         "Unknown summary length 'tiny'")


def test_app_length_control_beside_the_summarize_button(seeded_dir, tmp_path,
                                                        monkeypatch) -> None:
    import shutil

    from test_app import started

    shutil.copytree(seeded_dir, tmp_path / "data")
    monkeypatch.setenv("CITECHAT_DATA_DIR", str(tmp_path / "data"))
    app = started()
    assert app.selectbox(key="summary_length").options == ["Auto", "Short", "Medium", "Long"]
    app.selectbox(key="summary_length").set_value("short").run()
    app.button(key=f"sum:{RUSI}").click().run()
    short = len(app.expander)
    app.selectbox(key="summary_length").set_value("long").run()
    app.button(key=f"sum:{RUSI}").click().run()
    assert not app.exception and 2 <= short < len(app.expander) - short
