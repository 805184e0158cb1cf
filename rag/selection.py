"""From passages to the extracts an answer quotes, or to a refusal.

Candidates are the passages' sentences (rag/extracts.py), scored by the fixed blend
(rag/scoring.py). The best sentence grows into a short extract (the sentence naming its
subject, a list's continuation, neighbours scoring nearly as well). Then, by the kind of
question (rag/questions.py):
- about several documents: the best extract of each document that scores near the best;
- comparing named things ("X or Y", "both X and Y"): the best extract naming each, and
  for "Are X and Y both…?" a yes or no when the extracts' words settle it (when the best
  sentence names them all, nothing is compared and the question is read as any other);
- asking for a list ("What punishments…"): the best few sentences scoring near the best;
- otherwise the best extract (for "why" and "how", it and each runner-up with the rest
  of its paragraph after it, which gives the reason or manner); when its document or
  the question names the subject of another retrieved document (its title or file
  name, capitalised), the second hop: the best sentence of up to two such documents,
  favouring the question's terms the extract lacks, instead of runner-ups; else the
  best one or two sentences elsewhere that score ≥ 0.8 × the best (runner-ups: the
  blend ranks the answer second or third often, docs/answers.md), and when a runner-up
  names another document's subject, that document's best sentence instead of the
  second runner-up.
The refusal rule (rag/refusal.py) reads the candidates and the best extract first.

Both engines use it: the extractive engine quotes the extracts; the generative engine gets
the best few as its numbered passages. It does not write text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from rag.answerability import Answerability, features
from rag.embedding import Embedder
from rag.extracts import MAX_SENTENCES, Sentence, candidate_sentences
from rag.lexical import fold, mentions, tokenize, without_accents
from rag.questions import (
    answer_type,
    asks_for_account,
    asks_if_both,
    asks_why_or_how,
    compared_things,
    holds_answer_type,
    is_cross_document,
    is_list_question,
)
from rag.ranked import Extract, Growth, Ranked
from rag.refusal import (
    DEFAULT_THRESHOLD,
    Signals,
    question_numbers,
    read_signals,
    refusal_reason,
)
from rag.scoring import DENSE_WEIGHT, SentenceScorer, term_overlaps
from rag.types import Passage

NEAR_RATIO = 0.6  # another document's (or thing's) best extract, this close to the best
LIST_RATIO = 0.8
MAX_EXTRACTS = 4
HOPS = 2  # bridged documents quoted at most (HotpotQA: two found one answer more than one)
# the refusal signals were calibrated on the sentences of the five best passages: a name
# the question asks about that only a passage further down holds is not evidence
SIGNAL_RANKS = 5
TYPED_RATIO = 0.7  # for "who/when/how many", a sentence holding one this close is preferred


@dataclass(frozen=True)
class Selection:
    extracts: tuple[Extract, ...]
    refusal: str | None  # why the documents don't say, or None
    signals: Signals | None = None
    features: dict[str, float] | None = None  # what the answerability model reads
    verdict: str | None = None  # "Yes" or "No" to "Are X and Y both…?", when the words say
    judged: bool = False  # of the kind the answerability model judges (_model_judges)


class Selector:
    def __init__(self, embedder: Embedder, known: Callable[[str], bool] | None = None,
                 threshold: float = DEFAULT_THRESHOLD,
                 answerability: Answerability | None = None,
                 growth: Growth | None = None) -> None:
        self.scorer = SentenceScorer(embedder)
        self.growth = growth or Growth()
        self.known = known
        self.threshold = threshold
        # refuses beside the fixed rule where it doubts (the engines pass the committed one)
        self.answerability = answerability

    def select(self, question: str, passages: Sequence[Passage], context: str = "",
               asked: str = "") -> Selection:
        """The extracts answering `question` from `passages`, or why there are none.
        `asked`: the question as the user put it ("…in each of the two articles"), when
        `question` is it without its where-to-look phrases."""
        considered = self.consider(question, passages, context, asked)
        if considered.signals is None:
            return considered
        doubt_threshold = self.answerability.threshold if self.answerability else None
        reason = refusal_reason(considered.signals, self.threshold, doubt_threshold)
        return Selection((), reason, considered.signals, considered.features) if reason \
            else considered

    def consider(self, question: str, passages: Sequence[Passage], context: str = "",
                 asked: str = "") -> Selection:
        """The extracts that would answer, and the refusal signals, before the rule reads
        them (the refusal is left None unless there is nothing to quote)."""
        sentences = candidate_sentences(passages)
        if not sentences:
            return Selection((), "no passages")
        scores = self.scorer.score(question, sentences, context)
        ranked = Ranked(sentences, scores, self.growth)
        first = _answering(question, ranked)
        best = ranked.extract(first, onward=asks_why_or_how(question))
        texts = [s.text for s in sentences]
        window = ranked.window_text(first)
        near = [i for i, s in enumerate(sentences) if s.rank < SIGNAL_RANKS] or range(len(texts))
        # a document's title and file name say what it is about ("Costin aims for
        # comeback", "Lover Come Back (film).txt"), though its sentences say "he"; any
        # retrieved document's (HotpotQA: 4 of 14 false refusals named a title ranked
        # below the five best passages)
        titles = list(dict.fromkeys(t for s in sentences for t in _title_and_stem(s)))
        extracts = tuple(_by_kind(question, asked or question, ranked, best))
        signals = read_signals(question, [texts[i] for i in near] + titles,
                               [scores.terms[i] for i in near] + self.scorer.terms(titles),
                               window, self._evidence(question, context, sentences, ranked,
                                                      first), self.known,
                               _lines(extracts))
        dense = self.scorer.vectors(texts) @ self.scorer.embedder.embed_query(question)
        found = features(question, texts, scores, dense, first, window, signals)
        judged = _model_judges(question, context, extracts)
        if self.answerability is not None and judged:
            signals = replace(signals, doubt=self.answerability.unanswerable(found))
        return Selection(extracts, None, signals, found, _both_verdict(question, ranked, extracts),
                         judged)

    def _evidence(self, question: str, context: str, sentences: Sequence[Sentence],
                  ranked: Ranked, first: int) -> float:
        """The answering sentence's score; for a follow-up ("What do they get in
        exchange?"), scored against the follow-up joined to the question it leans on,
        which is what it asks: its own words alone always look unanswered."""
        alone = float(ranked.score[first])
        if not context:
            return alone
        joined = self.scorer.score(f"{question} {context}", sentences)
        return max(alone, float(joined.score[first]))

    def ranked_extracts(self, question: str, passages: Sequence[Passage], n: int,
                        context: str = "") -> list[Extract]:
        """The `n` best distinct extracts, best first (the generative engine's passages)."""
        sentences = candidate_sentences(passages)
        if not sentences:
            return []
        ranked = Ranked(sentences, self.scorer.score(question, sentences, context),
                         self.growth)
        found: list[Extract] = []
        for i in ranked.order:
            if len(found) >= n:
                break
            if not any(sentences[i] in e.sentences for e in found):
                found.append(ranked.extract(i))
        return found


def _model_judges(question: str, context: str, extracts: Sequence[Extract]) -> bool:
    """Whether the answerability model judges the question. It learnt standalone
    questions one sentence answers, so the fixed rule alone judges the rest: a follow-up
    ("Which country welcomed it?") looks unanswerable on its own words; an account ("why…",
    "what happened…") is told in prose sharing few of them; and a question answered over a
    second hop or comparing two things spreads its evidence over several sentences, each
    scoring low (HotpotQA: 13 more of 100 refused, the answer in the reply 0.58 -> 0.51)."""
    return not (context or asks_for_account(question) or len(compared_things(question)) >= 2
                or any(e.bridged for e in extracts))


def _lines(extracts: Sequence[Extract]) -> str:
    """What the reply quotes, a sentence a line and a blank line between extracts (what
    follows a sentence in its extract is read with it)."""
    return "\n\n".join("\n".join(s.text for s in e.sentences) for e in extracts)


def _answering(question: str, ranked: Ranked) -> int:
    """The best sentence; a sentence holding the question's numbers ("freed in 1992")
    when the best lacks them and it scores near; for a "who/when/how many" question, the
    best one holding a name/date/number when it scores near the best and the best holds
    none."""
    first = ranked.order[0]
    numbers = question_numbers(question)
    if numbers and not all(n in ranked.window_text(first) for n in numbers):
        holding = ranked.best_where(lambda s: all(n in s.text for n in numbers),
                                    NEAR_RATIO * float(ranked.score[first]))
        first = first if holding is None else holding
    kind = answer_type(question)
    if not kind or holds_answer_type(question, ranked.sentences[first].text, kind):
        return first
    typed = ranked.best_where(lambda s: holds_answer_type(question, s.text, kind),
                              TYPED_RATIO * float(ranked.score[ranked.order[0]]))
    return first if typed is None else typed


def _by_kind(question: str, asked: str, ranked: Ranked, best: Extract) -> list[Extract]:
    top = float(ranked.score[ranked.order[0]])
    things = compared_things(question)
    if len(things) >= 2:
        found = [ranked.best_where(lambda s, t=t: mentions(fold(s.text), t), NEAR_RATIO * top)
                 for t in things]
        compared = _distinct([best, *(ranked.extract(i, grow=False)
                                      for i in found if i is not None)])
        if len(compared) > 1:  # else one sentence names them all: the question goes on
            return compared
    if is_cross_document(asked):
        docs = dict.fromkeys(ranked.sentences[i].doc for i in ranked.order)
        found = [ranked.best_where(lambda s, d=d: s.doc == d, NEAR_RATIO * top) for d in docs]
        return _distinct([best] + [ranked.extract(i) for i in found if i is not None])
    if is_list_question(question):  # items often follow each other: the paragraph's next
        items = [ranked.extract(i, grow=False) for i in ranked.order
                 if ranked.score[i] >= LIST_RATIO * top]
        return _distinct([ranked.extract(ranked.order[0], ratio=0.0), *items])
    hop = _second_hop(question, ranked, best)
    if hop:  # the two hops answer together; a runner-up would only dilute them
        return _distinct([best, *hop])
    if len(best.sentences) > MAX_SENTENCES:  # a list: long enough, and the answer
        return [best]
    runner_ups = _runner_up(ranked, best, onward=asks_why_or_how(question))
    for runner_up in runner_ups:
        hop = _second_hop(question, ranked, runner_up)
        if hop:
            return _distinct([best, runner_up, hop[0]])
    return _distinct([best, *runner_ups])


def _both_verdict(question: str, ranked: Ranked, extracts: Sequence[Extract]) -> str | None:
    """"Yes" when each compared thing's extract holds every other term of the question
    ("Are X and Y both film directors?"), "No" when a term one holds the other lacks
    ("American" said of X, "Hungarian" of Y), else None: the words don't settle it."""
    things = compared_things(question)
    if len(things) < 2 or not asks_if_both(question):
        return None
    wanted = ranked.question_terms - frozenset().union(*tokenize([*things, "both"]))
    if not wanted:
        return None
    held = []
    for thing in things:
        extract = next((e for e in extracts if mentions(fold(e.text), thing)), None)
        if extract is None:
            return None
        held.append(ranked.terms_of(extract))
    if all(wanted <= h for h in held):
        return "Yes"
    return "No" if any(any(t in h for h in held) and not all(t in h for h in held)
                       for t in wanted) else None


def _runner_up(ranked: Ranked, best: Extract, onward: bool = False) -> list[Extract]:
    """The best sentence outside the best extract and not next to it, when it scores
    `growth.runner_up` × as well as the best: the answer, when the blend ranked it
    second."""
    ratio = ranked.growth.runner_up
    if ratio is None:
        return []
    quoted = {(s.doc, s.start) for s in best.sentences}
    found: list[Extract] = []
    floor = ratio * float(ranked.score[ranked.order[0]])
    while len(found) < ranked.growth.runner_ups:
        i = ranked.best_where(lambda s: (s.doc, s.start) not in quoted, floor)
        if i is None:
            break
        found.append(ranked.extract(i, grow=False, onward=onward))
        quoted.add((ranked.sentences[i].doc, ranked.sentences[i].start))
    return found


def _second_hop(question: str, ranked: Ranked, best: Extract) -> list[Extract]:
    """The best sentence of each of up to HOPS other documents whose subject (title or
    file name) the best extract's document or the question names, as a name: the bridge
    of a two-hop question ("the film shot in Leland" names "Maximum Overdrive", whose own
    article says who directed it; "the show "Scaredy Squirrel" was written by who?" asked
    beside its story editor's article). The bridge's document is the evidence however it
    scores; its sentences are ranked with the question's terms the extract lacks
    counting as the blend's lexical part."""
    # the best document's retrieved sentences, not only the extract: "The film is based
    # on the true story of James Stockdale" two sentences after the one that answers
    naming = (question, " ".join(s.text for s in ranked.sentences if s.doc == best.doc))
    own = _plain(best.doc.rsplit(".", 1)[0])  # a title can be a whole first sentence
    docs = {s.doc: s for s in ranked.sentences if s.doc != best.doc}
    # "Direct action" is not a hop from "Act of War: Direct Action": it is part of its name
    bridges = {d for d, s in docs.items() if any(
        len(subject) > 3 and not _says(own, subject) and any(_names(t, subject) for t in naming)
        for subject in _subjects(s))}
    if not bridges:
        return []
    # what the extract lacks that some candidate holds, each weighted by its rarity
    rest = (ranked.question_terms - ranked.terms_of(best)) & frozenset().union(*ranked.terms)
    supplies = term_overlaps(set(rest), ranked.terms)

    def hop_score(i: int) -> float:
        return float(ranked.score[i]) + (1 - DENSE_WEIGHT) * float(supplies[i])

    bridged = [i for i, s in enumerate(ranked.sentences) if s.doc in bridges and not s.furniture]
    found: list[Extract] = []
    while bridged and len(found) < HOPS:
        i = max(bridged, key=hop_score)
        found.append(replace(ranked.extract(i, grow=False), bridged=True))
        bridged = [j for j in bridged if ranked.sentences[j].doc != ranked.sentences[i].doc]
    return found


def _subjects(s: Sentence) -> set[str]:
    """What a sentence's document is about, as plain words: its title and file name,
    without a trailing "(film)" or "(novel)" ("Young_ New South Wales.txt" is "young new
    south wales")."""
    return {_plain(re.sub(r"\s*\([^)]*\)$", "", name)) for name in _title_and_stem(s)}


def _title_and_stem(s: Sentence) -> list[str]:
    """A sentence's document's title and file name without its extension, when known."""
    return [name for name in (s.title, s.doc.rsplit(".", 1)[0]) if name]


def _names(text: str, subject: str) -> bool:
    """Whether `text` names `subject` (plain words) as a name, capitalised: "Young, New
    South Wales" names "young new south wales"; "the report says" does not name
    "Report.pdf"."""
    words = r"[\W_]+".join(re.escape(w) for w in subject.split())
    return any(m.group(0)[0].isupper() for m in re.finditer(
        rf"(?<![^\W_]){words}(?![^\W_])", without_accents(text), re.IGNORECASE))


def _plain(text: str) -> str:
    """Folded words only: file names write "_" for what titles write " ", "," or "'"."""
    return " ".join(re.findall(r"[^\W_]+", fold(text)))


def _says(plain_text: str, phrase: str) -> bool:
    return f" {phrase} " in f" {plain_text} "


def as_passages(extract: Extract, passages: Sequence[Passage]) -> list[Passage]:
    """The extract as one passage sliced from a retrieved passage holding all of it, or
    (when it straddles two) as one passage per sentence."""
    start, end = extract.sentences[0].start, extract.sentences[-1].end
    for p in passages:
        if p.doc == extract.doc and p.start <= start and end <= p.end:
            return [Passage(p.doc, start, end, p.score, p.text[start - p.start:end - p.start])]
    return [Passage(s.doc, s.start, s.end, 1.0, s.text) for s in extract.sentences]


def _distinct(extracts: list[Extract]) -> list[Extract]:
    """The extracts without any sharing a sentence with an earlier one, at most four."""
    kept: list[Extract] = []
    for extract in extracts:
        if not any(set(extract.sentences) & set(k.sentences) for k in kept):
            kept.append(extract)
    return kept[:MAX_EXTRACTS]
