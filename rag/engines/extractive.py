"""The offline answer engine: answers with the source's own sentences, each cited.

No language model. The passages' sentences are scored against the question and the best
grows into a short extract (rag/selection.py): one to three contiguous sentences, with
the sentence naming its subject when the answer says "he" or "the company", and the
rest of a list. A question about several documents gets an extract from each, one
comparing named things an extract naming each, one asking for a list its best few
items, and a two-hop question the sentence of the second hop when the passages hold it.
Every sentence is cited on its own. It refuses on the signals of rag/refusal.py (a name
the documents lack, a negation or number the best extract lacks, low evidence).
Summaries pick central sentences of each whole document (rag/summaries/).

It cannot paraphrase or combine facts into a new sentence; it answers yes or no only to
"Are X and Y both…?", when the two extracts' words settle it. A follow-up is carried by
joining the previous question to it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from rag.answerability import Answerability
from rag.embedding import Embedder
from rag.engines.base import REFUSAL, Draft, TokenSink
from rag.lexical import tokenize
from rag.questions import without_source_descriptor
from rag.refusal import DEFAULT_THRESHOLD
from rag.selection import Extract, Selection, Selector
from rag.types import Passage, Turn

__all__ = ["DEFAULT_THRESHOLD", "FOLLOW_UP_JOIN", "ExtractiveEngine", "draft_from"]

if TYPE_CHECKING:
    from rag.summaries import SummaryRequest

FOLLOW_UP_JOIN = " — following up on: "

# Words that point back to an earlier turn. "its" is left out: it usually refers within
# its own question ("NATO ... at its next summit").
_PRONOUNS = re.compile(
    r"\b(he|she|it|they|them|him|his|her|hers|their|theirs|this|that|these|those)\b",
    re.IGNORECASE)

VERDICTS = {"Yes": "Yes, both:", "No": "No, not both:"}
_BULLET = re.compile(r"^\s*[-–—•*·▪]\s+")  # a list item's own bullet, in a list of ours

# Whether a phrase's terms occur anywhere in the collection (the BM25 vocabulary).
KnownTerms = Callable[[str], bool]


def split_follow_up(question: str) -> tuple[str, str]:
    """(the question to answer, the earlier question it follows up on or ""), with
    where-to-look phrases ("in the Moscow Times article") left out of the first."""
    main, _, context = question.partition(FOLLOW_UP_JOIN)
    return without_source_descriptor(main) or main, context


def draft_from(selection: Selection) -> Draft:
    """The extracts as an answer: each sentence with its own marker; several extracts
    as a list, one line each."""
    if selection.refusal or not selection.extracts:
        return Draft(REFUSAL, [], refused=True)
    sources: list[Passage] = []
    lines = []
    for extract in selection.extracts:
        cited = []
        for s in extract.sentences:
            sources.append(Passage(s.doc, s.start, s.end, 1.0, s.text))
            shown = _BULLET.sub("", s.text) if len(selection.extracts) > 1 else s.text
            cited.append(f"{shown} [{len(sources)}]")
        lines.append(" ".join(cited))
    text = lines[0] if len(lines) == 1 else "\n".join(f"- {line}" for line in lines)
    if selection.verdict:  # "Yes, both:" / "No, not both:" before the sentences saying so
        text = f"{VERDICTS[selection.verdict]}\n{text}"
    return Draft(text, sources)


class ExtractiveEngine:
    name = "extractive"

    def __init__(self, embedder: Embedder, threshold: float = DEFAULT_THRESHOLD,
                 known: KnownTerms | None = None,
                 answerability: Answerability | None = None) -> None:
        self.embedder = embedder
        self.selector = Selector(embedder, known, threshold, answerability)

    # -- follow-ups ------------------------------------------------------------------

    def condense(self, history: Sequence[Turn], question: str) -> str:
        """The question, with the previous one attached when this one leans on it."""
        if not history:
            return question
        content = [t for t in tokenize([question])[0] if t]
        if not _PRONOUNS.search(question) and len(content) >= 4:
            return question
        previous = history[-1].question.split(FOLLOW_UP_JOIN)[0]
        return f"{question}{FOLLOW_UP_JOIN}{previous}"

    # -- answers ---------------------------------------------------------------------

    def select(self, question: str, passages: Sequence[Passage]) -> Selection:
        main, context = split_follow_up(question)
        return self.selector.select(main, passages, context, question.split(FOLLOW_UP_JOIN)[0])

    def extracts(self, question: str, passages: Sequence[Passage], n: int) -> list[Extract]:
        main, context = split_follow_up(question)
        return self.selector.ranked_extracts(main, passages, n, context)

    def confidence(self, question: str, passages: Sequence[Passage]) -> float:
        """The best sentence's score; 0 when a signal other than the score refuses."""
        selection = self.select(question, passages)
        if selection.signals is None:
            return 0.0
        if selection.refusal and selection.refusal != "low evidence":
            return 0.0
        return selection.signals.best

    def answer(self, question: str, passages: Sequence[Passage],
               on_token: TokenSink | None = None) -> Draft:
        draft = draft_from(self.select(question, passages))
        if on_token and not draft.refused:
            on_token(draft.text)
        return draft

    # -- summaries -------------------------------------------------------------------

    def summarize(self, units: Sequence[Passage], instruction: str = "",
                  on_token: TokenSink | None = None,
                  request: SummaryRequest | None = None) -> Draft:
        from rag.summaries import SummaryRequest, extractive_summary

        request = request or SummaryRequest(focus=instruction)
        sources, text = extractive_summary(
            units, self.selector.scorer.vectors, self.embedder.embed_query, request.length,
            request.focus, request.bullets)
        if not sources:
            return Draft(REFUSAL, [], refused=True)
        if on_token:
            on_token(text)
        return Draft(text, sources)
