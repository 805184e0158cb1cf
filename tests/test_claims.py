"""Checked citations: claims read from the answer's text, not its formatting, each scored
against the span it cites; citechat's own verbatim output never flagged; the labelled
set's builders."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from benchmarks import claims as labelled
from benchmarks.claims_guard import guard, responses
from rag.claims import Measured, check, claim_sentences, critical_missing, names, support
from rag.config import load_settings
from rag.engines.base import Draft
from rag.pipeline import Pipeline
from rag.sentences import sentence_spans
from rag.types import Citation

from conftest import DEV_EVAL, GENEVA, RUSI, SEEDS

SPAN = ("He suggested more regular contacts between Defence Minister Sergei Shoygu and "
        "US counterpart James Mattis, and increased cooperation to counter terrorism.")
OTHER = "The mood music out of Geneva was as good as could have been expected."


def cite(text: str, n: int = 1) -> Citation:
    return Citation(n, "d.txt", 0, len(text), text)


@pytest.mark.parametrize(
    ("sentence", "evidence", "verdict"),
    [
        (SPAN, SPAN, "supported"),
        ("He suggested regular contacts between Shoygu and Mattis.", SPAN, "supported"),
        ("He suggested regular contacts between Shoygu and Mattis.", OTHER, "unsupported"),
        ("He suggested regular contacts between Shoygu and Pompeo.", SPAN, "unsupported"),
        ("He did not suggest regular contacts between Shoygu and Mattis.", SPAN, "unsupported"),
        ("He suggested 12 regular contacts between Shoygu and Mattis.", SPAN, "unsupported"),
        ("Sergei Lavrov suggested regular contacts between Shoygu and Mattis.", SPAN,
         "unsupported"),
        ("The airport doesn't run flights to Geneva.", "The airport does not run flights to "
         "Geneva or anywhere else.", "supported"),
    ],
)
def test_verdicts(embedder, sentence: str, evidence: str, verdict: str) -> None:
    [claim] = check(f"{sentence} [1]", [cite(evidence)], embedder)
    assert claim.verdict == verdict, claim
    assert claim.citations == (1,)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("**000_941f52de0b6a0cef.txt**: Moscow wants talks. [1] Talks failed. [2]",
         [[("Moscow wants talks.", [1]), ("Talks failed.", [2])]]),
        ("### Russia and the West\n\nMoscow wants talks [1].",
         [[("Moscow wants talks.", [1])]]),
        ("**Key points**\n- **Moscow** wants *new* talks [1].\n2. `Talks` failed [2].",
         [[("Moscow wants new talks.", [1])], [("Talks failed.", [2])]]),
        ("Russia and West Continue to Talk [7] For Moscow, talks are divorce. [8]",
         [[("Russia and West Continue to Talk", [7]), ("For Moscow, talks are divorce.", [8])]]),
        ("“Moscow feels under no obligation” [5]\n> “It is a reset.” [6]",
         [[("Moscow feels under no obligation", [5])], [("It is a reset.", [6])]]),
        ("Sherman met Ryabkov in Geneva on\nmonday [4].\n[5]",
         [[("Sherman met Ryabkov in Geneva on monday.", [4, 5])]]),
        ("Summary:\n\nTitle line\n---\n[1] Paris is big. Lyon too [2].",
         [[("Summary:", [])], [("Paris is big.", [1]), ("Lyon too.", [2])]]),
        ("See [the report](http://example.org) for more [3].",
         [[("See the report for more.", [3])]]),
    ],
)
def test_claims_are_the_text_not_its_formatting(answer: str, expected: list) -> None:
    assert claim_sentences(answer) == expected


def test_uncited_sentences_take_the_citation_that_closes_their_extract() -> None:
    extract = "Talks were held in Geneva. Ryabkov led the Russian side. Sherman led the US one."
    found = check(f"{extract} [1]", [cite(extract)], None)
    assert [(c.verdict, c.citations) for c in found] == [("supported", (1,))] * 3
    found = check(f"Shoygu met Mattis in Helsinki last year. {OTHER} [1]", [cite(OTHER)], None)
    assert [c.verdict for c in found] == ["uncited", "supported"]


def test_uncited_factual_sentences_and_meta_sentences(embedder) -> None:
    found = check("Shoygu met Mattis in Helsinki last year. The documents don't say more.",
                  [], embedder)
    assert [(c.verdict, c.sentence[:6]) for c in found] == [("uncited", "Shoygu")]


def test_critical_tokens() -> None:
    assert critical_missing("Putin met 3 envoys.", "Putin met three envoys.") == ["3"]
    assert critical_missing("Merkel would not agree.", "Merkel would agree.") == ["would not"]
    assert critical_missing("Merkel’s aides agreed.", "Merkel agreed.") == []
    assert critical_missing("It isn't over, we can't stop.", "It is not over; we cannot stop.",
                            ) == []
    assert names("Wendy Sherman met Sergei Ryabkov.") == ["Wendy Sherman", "Sergei Ryabkov"]
    assert names("Yesterday the talks began in March.") == ["March"]


def test_support_scores_arrays_as_it_scores_one() -> None:
    one = [Measured(False, 0.8, 0.7, 0), Measured(False, 0.5, 0.9, 1), Measured(True, 1, 0, 0)]
    arrays = Measured(*(np.array([getattr(m, f) for m in one])
                        for f in ("verbatim", "coverage", "similarity", "missing")))
    assert np.allclose(support(arrays, 0.4, 0.6), [support(m, 0.4, 0.6) for m in one])


_SEED_SENTENCES = sorted({text[s:e] for p in sorted(SEEDS.iterdir())
                          for text in [p.read_text(encoding="utf-8")]
                          for s, e in sentence_spans(text) if len(text[s:e].split()) >= 4})
# a wrap opening with a line break is block markup, which only opens a line
_WRAPS = ["{s} [{n}]", "{s}[{n}]", "\n- {s} [{n}]", "\n1. {s} [{n}]", "**{s}** [{n}]",
          "“{s}” [{n}]", "\n> {s} [{n}]", "*{s}* [{n}]", "**doc.txt**: {s} [{n}]",
          "\n**doc.txt**: {s} [{n}]", "__{s}__ [{n}]", "{s} [{n}]\n", "“{s} [{n}]”"]
_HEADINGS = ["### {t}", "## {t}", "**{t}**", "**{t}:**", "{t}", "# {t}\n\n"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_SEED_SENTENCES), st.sampled_from(_WRAPS)),
                min_size=1, max_size=6),
       st.sampled_from(_HEADINGS), st.sampled_from([" ", "\n", "\n\n"]))
@example([(_SEED_SENTENCES[0], "“{s} [{n}]”"), (_SEED_SENTENCES[0], "**doc.txt**: {s} [{n}]")],
         "### {t}", " ")  # a label after a quotation its marker closes, on the same line
def test_verbatim_sentences_are_supported_in_any_markup(picked, heading, joint) -> None:
    """Whatever markup wraps them, verbatim sentences citing their own spans are claims
    that are supported, and the heading above them is no claim at all."""
    parts = [wrap.format(s=s, n=n) for n, (s, wrap) in enumerate(picked, start=1)]
    answer = heading.format(t="The Talks In Geneva: What Was Said") + "\n\n" + joint.join(parts)
    found = check(answer, [cite(s, n) for n, (s, _) in enumerate(picked, start=1)], None)
    assert found and all(c.verdict == "supported" for c in found), found
    assert not any("What Was Said" in c.sentence for c in found)


# -- the regression guard, on a sample -----------------------------------------------


@pytest.fixture(scope="module")
def hotpot_sample(tmp_path_factory: pytest.TempPathFactory,
                  embedder) -> tuple[Pipeline, list[list[str]]]:
    """Five HotpotQA questions' supporting paragraphs (short documents) ingested, and the
    questions."""
    folder = tmp_path_factory.mktemp("hotpot")
    questions = labelled.write_hotpot(folder / "all")[:5]
    wanted = {doc for q in questions for doc, _, _ in q.supporting}
    (folder / "some").mkdir()
    for doc in sorted(wanted):
        shutil.copy(folder / "all" / doc, folder / "some" / doc)
    pipeline = Pipeline.build(load_settings(data_dir=folder / "data"), embedder=embedder)
    assert pipeline.ingest([folder / "some"]).exit_code == 0
    return pipeline, [[q.text] for q in questions]


def _seeded(seeded_dir: Path, tmp_path: Path, embedder) -> Pipeline:
    shutil.copytree(seeded_dir, tmp_path / "data")
    return Pipeline.build(load_settings(data_dir=tmp_path / "data"), embedder=embedder)


def test_the_extractive_engine_never_flags_its_own_output(seeded_dir, tmp_path, embedder,
                                                         hotpot_sample) -> None:
    """Replies and summaries (each document and the whole collection) over the seeds and a
    HotpotQA sample: verbatim, so no claim is weak or unsupported."""
    seeds = _seeded(seeded_dir, tmp_path, embedder)
    dev = [json.loads(line)["turns"] for line in DEV_EVAL.read_text().splitlines() if line]
    for pipeline, conversations in ((seeds, dev), hotpot_sample):
        docs = sorted(d.name for d in pipeline.documents())
        found = guard(responses(pipeline, conversations, docs, {"summaries": 4}))
        assert found["reply"]["claims"] and found["summary"]["claims"] >= len(docs)
        for part in found.values():
            assert part["weak_or_unsupported"] == 0, part["flagged"]


@pytest.mark.parametrize(("scope", "as_json"), [((), False), ((), True), ((RUSI,), True),
                                               ((GENEVA,), False)])
def test_summarize_on_the_seeds_flags_nothing(seeded_dir, tmp_path, scope, as_json) -> None:
    """`citechat summarize [--json]`, the whole collection and each document."""
    from test_cli import citechat

    shutil.copytree(seeded_dir, tmp_path / "data")
    done = citechat("summarize", *scope, *(["--json"] if as_json else []),
                    data_dir=tmp_path / "data")
    assert done.returncode == 0, done.stderr
    if as_json:
        verdicts = {c["verdict"] for c in json.loads(done.stdout)["claims"]}
        assert verdicts == {"supported"}
    else:
        assert "[1]" in done.stdout and "warning" not in done.stderr, done.stderr


class ScriptedEngine:
    """Cites the first passage naming Sherman for both a true and an invented claim."""

    name = "scripted"

    def condense(self, history, question):
        return question

    def answer(self, question, passages, on_token=None):
        n = next(i for i, p in enumerate(passages, start=1) if "Sherman" in p.text)
        text = (f"Wendy Sherman represented the United States [{n}]. "
                f"Sherman promised to withdraw all NATO troops from Poland by 2019 [{n}].")
        return Draft(text, list(passages))


def test_responses_carry_claims_and_can_drop_unsupported(seeded) -> None:
    question = "Who represented the United States at the Geneva talks?"
    response = seeded.ask(question)
    assert response.claims and all(c.verdict == "supported" for c in response.claims)
    seeded._engine = ScriptedEngine()
    kept = seeded.ask(question)
    # "counterpart" is not "represented": an inference, fairly flagged weak at worst
    first, second = (c.verdict for c in kept.claims)
    assert first in ("supported", "weak") and second == "unsupported"
    assert "Poland" in kept.answer
    seeded.settings = seeded.settings.model_copy(update={"drop_unsupported": True})
    dropped = seeded.ask(question)
    assert "Poland" not in dropped.answer and "Sherman" in dropped.answer
    assert len(dropped.claims) == 1 and dropped.claims[0].verdict != "unsupported"
    assert [c.n for c in dropped.citations] == [1] and dropped.citations[0].doc == GENEVA


# -- the labelled set's builders -----------------------------------------------------

DOC = ("Geneva talks\n\nWendy Sherman met Sergei Ryabkov in Geneva on Monday for 8 hours. "
       "The talks were held at the US mission in Geneva in 2022. Ryabkov said Russia was "
       "ready to talk about missiles in Europe. Sherman was firm that NATO's door would stay "
       "open to Ukraine and Georgia. Lavrov met Blinken in Geneva a week later, in 2021, "
       "for 90 minutes.")


def test_corruptions_change_what_the_sentence_asserts() -> None:
    rng = random.Random(1)
    kinds = labelled.name_kinds(DOC)
    assert kinds["Geneva"] == (1, "place") and kinds["Monday"] == (1, "date")
    sentence = "Ryabkov said Russia was ready to talk about missiles in Europe."
    swapped = labelled.swapped_name(sentence, sentence, kinds, rng)
    assert swapped != sentence and swapped.replace("Europe", "Geneva") == sentence.replace(
        "Europe", "Geneva")
    assert labelled.negated(sentence, rng) in (sentence.replace("was", "was not"),
                                              sentence.replace("was", "was never"))
    hours = "Wendy Sherman met Sergei Ryabkov in Geneva on Monday for 8 hours."
    assert labelled.swapped_number(hours, hours, ["8", "90", "2021"], rng) is None
    held = "The talks were held at the US mission in Geneva in 2022."
    assert labelled.swapped_number(held, held, ["2022", "90", "2021"], rng) == held.replace(
        "2022", "2021")
    assert labelled.clause("Sherman was firm that the door would stay open, and so on.") == (
        "Sherman was firm that the door would stay open.")


def test_the_labelled_set_slices_its_documents_and_keeps_bbc_text_out(tmp_path) -> None:
    source = labelled.Source("bbc", {"a.txt": DOC, "b.txt": DOC.replace("Geneva", "Vienna")})
    items = labelled.build_source(source, 3, lambda texts: np.eye(len(texts), 8))
    assert {"verbatim", "moved", "other document"} <= {i.kind for i in items}
    for item in items:
        assert 0 <= item.start < item.end <= len(source.texts[item.doc])
        if item.kind == "verbatim":
            assert source.texts[item.doc][item.start:item.end] == item.claim
    public = labelled.Source("squad", source.texts)
    rows = [*items, labelled.Item("squad", "a.txt", "x", 0, 5, "correct", "verbatim")]
    written = labelled.write_public(rows, {"bbc": source, "squad": public}, tmp_path / "l.jsonl")
    assert written == 1 and "Sherman" not in (tmp_path / "l.jsonl").read_text()


# -- stored sentence vectors, reused -------------------------------------------------


class Recording:
    """An embedder passing texts on to another and keeping each batch it was asked for."""

    def __init__(self, embedder) -> None:
        self.embedder, self.model_id, self.batches = embedder, embedder.model_id, []

    def embed(self, texts):
        self.batches.append(list(texts))
        return self.embedder.embed(texts)

    def embed_query(self, text):
        return self.embed([text])[0]


def _first_chunk(pipeline: Pipeline, doc: str):
    table = pipeline.store.table()
    return table.chunk(table.rows_of_doc[doc][0])


def test_stored_sentence_vectors_are_what_embedding_them_gives(seeded_dir, tmp_path,
                                                                 embedder) -> None:
    pipeline = _seeded(seeded_dir, tmp_path, embedder)
    chunk = _first_chunk(pipeline, GENEVA)
    spans = sentence_spans(chunk.text)
    assert len(spans) >= 2
    table = pipeline.store.table()
    held = table.sentence_vectors(GENEVA, chunk.start, chunk.end)
    assert list(held) == [chunk.text[s:e] for s, e in spans]
    for text, vector in held.items():
        assert vector.dtype == np.float32
        assert float(vector @ embedder.embed([text])[0]) > 0.999
    # a span ending inside the second sentence holds the first only
    (s0, e0), (_, e1) = spans[:2]
    assert list(table.sentence_vectors(GENEVA, chunk.start + s0, chunk.start + e1 - 1)) \
        == [chunk.text[s0:e0]]
    assert table.sentence_vectors(RUSI, chunk.start, chunk.end).keys().isdisjoint(held)
    assert table.sentence_vectors("no such document.txt", 0, 10**6) == {}


def test_check_embeds_only_what_the_store_lacks_and_finds_the_same(seeded_dir, tmp_path,
                                                                     embedder) -> None:
    """A reworded claim citing one stored sentence: only the claim is embedded, and the
    verdict and support are those of embedding everything."""
    pipeline = _seeded(seeded_dir, tmp_path, embedder)
    chunk = _first_chunk(pipeline, GENEVA)
    s, e = max(sentence_spans(chunk.text), key=lambda span: span[1] - span[0])
    sentence = chunk.text[s:e]
    citation = Citation(1, GENEVA, chunk.start + s, chunk.start + e, sentence)
    words = sentence.split()
    claim = " ".join([*words[:2], "reportedly", *words[2:]])  # no longer a run of the span
    recording = Recording(embedder)
    reused = check(f"{claim} [1]", [citation], recording, pipeline.stored)
    assert recording.batches == [[claim]]
    plain = check(f"{claim} [1]", [citation], recording)
    assert recording.batches[1] == [claim, sentence]
    assert [c.verdict for c in reused] == [c.verdict for c in plain]
    assert abs(reused[0].support - plain[0].support) < 0.01


def test_a_store_of_another_model_lends_no_vectors(seeded_dir, tmp_path, embedder) -> None:
    pipeline = _seeded(seeded_dir, tmp_path, embedder)
    chunk = _first_chunk(pipeline, GENEVA)
    citation = Citation(1, GENEVA, chunk.start, chunk.end, chunk.text)
    assert pipeline.stored(citation)
    pipeline.embedder = Recording(embedder)
    pipeline.embedder.model_id = "another/model"
    assert pipeline.stored(citation) == {}
