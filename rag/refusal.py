"""When to say "The documents don't say.": signals read off the candidates, and the rule.

The engine refuses when any of these holds (the first found is the reason given); with
rag/answerability.py's model (`CITECHAT_REFUSAL_MODEL=true`, not the default), it also
refuses ("unlikely") when the model doubts a question it judges:
- `unknown`: a name or number of the question occurs nowhere in the collection;
- `uncovered`: a name of the question is in none of the candidate sentences (of the
  five best passages) nor the titles and file names of the retrieved documents;
- `negation`: the question is negated ("never", "not", "n't") and the best extract is not;
- `number`: a number of the question is missing from the best extract;
- `no date` / `no count`: the question asks "when…" or "how many jobs…" and what the
  reply would quote holds no date, or no number just before the word for what is
  counted;
- `no speaker`: the question asks what a named person said ("What did Vladimir Putin
  say about…?") and no quoted sentence naming them, nor the one after it, speaks or
  quotes;
- `low evidence`: the best sentence scores below the threshold.
Each signal was measured on SQuAD 2.0's 12 articles (4,031 questions, half written to be
unanswerable with the same names and words); the threshold is chosen by article-level
cross-validation (docs/answers.md has the curve of refusals against false refusals).

Pure functions over text and scores. It does not read the question's meaning: an
unanswerable question that shares every name, number and negation with a sentence that
merely looks like an answer is answered.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass

from rag.lexical import fold, mentions, tokenize
from rag.names import LOWER, UPPER, entities
from rag.questions import missing_answer

# a missing name is measured but not a reason: it refused more answerable questions than
# unanswerable ones gained (docs/answers.md)
MISSING_KINDS = ("date", "count", "speaker")
DEFAULT_THRESHOLD = 0.25  # see docs/answers.md: the curve, and the cross-validated choice

# lower case: "Never" capitalised inside a question is a title ("Never Cry Wolf")
_NEGATION = re.compile(r"\b(?:not|never|cannot)\b|n[’']t\b")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*(?!\d*s\b)")  # "1990s" is a decade, not a number
# "Irish", "Pakistani", "Canadian": a people or language, named otherwise in the text
_DEMONYM = re.compile(rf"^{UPPER}{LOWER}+(?:ish|ian|ese|i|an|ch)$")

def question_numbers(question: str) -> list[str]:
    return _NUMBER.findall(question)


def _held(name: str, terms: list[str], held: Set[str], folded: str) -> bool:
    """Whether the candidates hold a name: its stemmed words, a mention ("United States"
    as "U.S."), or for one word its first four letters ("Britain" in "British")."""
    if set(terms) <= held or mentions(folded, name):
        return True
    return " " not in name and len(name) > 4 and bool(
        re.search(rf"\b{re.escape(fold(name[:4]))}", folded))


def names_missing(names: Sequence[str], held: Set[str], folded: str) -> tuple[str, ...]:
    """The names (peoples' names aside) that text with stemmed terms `held` and folded
    text `folded` does not hold."""
    name_terms = tokenize(list(names)) if names else []
    return tuple(n for n, terms in zip(names, name_terms, strict=True)
                 if not _DEMONYM.match(n) and not _held(n, terms, held, folded))


@dataclass(frozen=True)
class Signals:
    """What the refusal rule reads; `best` is the best sentence's score."""

    best: float
    unknown: tuple[str, ...] = ()  # question names the collection lacks
    uncovered: tuple[str, ...] = ()  # question names no candidate holds
    negation: bool = False  # the question is negated and the best extract is not
    numbers: tuple[str, ...] = ()  # question numbers the best extract lacks
    missing: str | None = None  # the kind of answer asked for the best extract lacks
    doubt: float | None = None  # P(the documents don't say), when a model read them


def read_signals(question: str, candidates: Sequence[str],
                 candidate_terms: Sequence[frozenset[str]], extract: str, best: float,
                 known: Callable[[str], bool] | None = None, quoted: str | None = None) -> Signals:
    """The signals for `question`, given the candidate sentences and their stemmed terms,
    the best extract's text (with its neighbours) and score, what the collection knows
    (if given), and what the reply would quote (`quoted`, for the kind of answer asked
    for; the extract when not given). A name counts as held when its stemmed words are,
    or when it is mentioned ("United States" as "U.S.")."""
    held = frozenset().union(*candidate_terms) if candidate_terms else frozenset()
    uncovered = names_missing(entities(question), held, fold(" ".join(candidates)))
    unknown = tuple(n for n in uncovered if known is not None and not known(n))
    negated = bool(_NEGATION.search(question)) and not _NEGATION.search(extract)
    numbers = tuple(n for n in question_numbers(question) if n not in extract)
    return Signals(best, unknown, uncovered, negated, numbers,
                   missing_answer(question, extract if quoted is None else quoted))


def refusal_reason(signals: Signals, threshold: float = DEFAULT_THRESHOLD,
                   doubt_threshold: float | None = None) -> str | None:
    """Why to refuse, or None to answer: the first signal that holds, else low evidence,
    else, with a model's `doubt` and its threshold, "unlikely" when the model doubts."""
    if signals.unknown:
        return f"unknown: {signals.unknown[0]}"
    found = _first_signal(signals)
    if found:
        return found
    if signals.best < threshold:
        return "low evidence"
    if signals.doubt is not None and doubt_threshold is not None \
            and signals.doubt > doubt_threshold:
        return "unlikely"
    return None


def _first_signal(signals: Signals) -> str | None:
    if signals.uncovered:
        return f"uncovered: {signals.uncovered[0]}"
    if signals.negation:
        return "negation"
    if signals.numbers:
        return f"number: {signals.numbers[0]}"
    if signals.missing in MISSING_KINDS:
        return f"no {signals.missing}"
    return None
