"""Checked citations: does each cited span actually support the sentence citing it?

Claims are the sentences of the answer's *text*, not of its formatting (rag/claim_text.py
reads the Markdown away). A sentence with no marker, in a line whose next sentence is
cited (an extract of several sentences cited once), is checked against that citation and
takes it when supported.

A claim whose words are a verbatim run of its cited spans is supported outright. Any
other gets a support score in [0, 1] from (a) the share of its content terms the spans
contain, (b) the embedding similarity of claim and spans, and (c) a heavy penalty for each
name, number or negation it asserts that the spans lack (the usual signature of a swapped
citation or an invented detail). A factual sentence with no marker is "uncited".

The vectors of cited sentences the store already holds (each chunk's sentences, embedded
at ingest) are reused when the caller passes `stored`; only the rest is embedded.

It cannot tell a faithful paraphrase in quite different words from an unsupported claim
in the same words; such paraphrases come out "weak", not "supported".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from rag.claim_text import claim_sentences
from rag.embedding import Embedder
from rag.engines.base import REFUSAL
from rag.lexical import fold, mentions, tokenize
from rag.names import asserted as names
from rag.sentences import sentence_spans
from rag.types import Citation, Claim, Verdict

__all__ = ["Claim", "Measured", "Stored", "check", "claim_sentences", "critical_missing", "measure",
           "support", "verdict"]

SUPPORTED, WEAK = 0.6, 0.45  # verdict thresholds, calibrated in benchmarks/claims.py
LEXICAL_WEIGHT = 0.5
MISSING_PENALTY = 0.5  # per name, number or negation the spans lack

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NEGATION_IN_CONTEXT = re.compile(
    r"\b[\w’']+\s+(?:not|never)\b|\b(?:no|never|none|nor|cannot|without)\s+[\w’']+|"
    r"\b\w+n[’']t\b", re.IGNORECASE)
_CONTRACTION = re.compile(r"\b(?:(ca)n['’]t|(wo)n['’]t|(sha)n['’]t|(\w+)n['’]t|(can)not)\b",
                          re.IGNORECASE)
_META = re.compile(r"^(?:the documents? (?:do(?:n[’']t| not)|does(?:n[’']t| not)) say|"
                   r"summari[sz]e|in summary|here (?:is|are)|sources?:)", re.IGNORECASE)
_WORDS = re.compile(r"\w+")
# a cited span -> the vectors the store holds of the sentences inside it, by their text
Stored = Callable[[Citation], Mapping[str, np.ndarray]]

# -- scoring -----------------------------------------------------------------------------


def _uncontracted(text: str) -> str:
    """"isn't" as "is not", "can't" and "cannot" as "can not", "won't" as "will not"."""
    def expand(m: re.Match) -> str:
        stem = next(g for g in m.groups() if g)
        return {"ca": "can", "wo": "will", "sha": "shall"}.get(stem.lower(), stem) + " not"
    return _CONTRACTION.sub(expand, text)


def critical_missing(sentence: str, evidence: str) -> list[str]:
    """Numbers, names and negations of the sentence that the evidence lacks."""
    folded = fold(evidence)
    missing = [n for n in _NUMBER.findall(sentence) if n not in folded]
    missing += [name for name in names(sentence) if not mentions(folded, name)]
    # a negation counts as present only with the word it negates ("would not")
    folded = fold(_uncontracted(evidence))
    for match in _NEGATION_IN_CONTEXT.finditer(_uncontracted(sentence)):
        if fold(match.group(0)) not in folded:
            missing.append(match.group(0))
    return missing


def lexical_coverage(sentence: str, evidence: str) -> float:
    terms = set(tokenize([sentence])[0])
    if not terms:
        return 1.0
    return len(terms & set(tokenize([evidence])[0])) / len(terms)


def is_verbatim(sentence: str, evidence: str) -> bool:
    """Whether the sentence's words are a run of the evidence's words (case, accents of
    compatibility forms, punctuation and spacing aside)."""
    words = _WORDS.findall(fold(sentence))
    return bool(words) and f" {' '.join(words)} " in f" {' '.join(_WORDS.findall(fold(evidence)))} "


@dataclass(frozen=True)
class Measured:
    """What a claim's support is computed from."""

    verbatim: bool  # the claim's words are a run of the evidence's
    coverage: float  # share of its content terms in the evidence
    similarity: float  # embedding cosine of claim and evidence (0 when verbatim)
    missing: int  # names, numbers and negations it asserts that the evidence lacks


def support(m: Measured, lexical_weight: float = LEXICAL_WEIGHT,
            penalty: float = MISSING_PENALTY) -> float:
    """Support in [0, 1]. Elementwise too, for a Measured of arrays (as benchmarks use)."""
    score = lexical_weight * np.asarray(m.coverage) \
        + (1 - lexical_weight) * np.maximum(m.similarity, 0.0) - penalty * np.asarray(m.missing)
    found = np.where(m.verbatim, 1.0, np.clip(score, 0.0, 1.0))
    return float(found) if found.ndim == 0 else found


def verdict(support: float) -> Verdict:
    return "supported" if support >= SUPPORTED else "weak" if support >= WEAK else "unsupported"


def is_factual(sentence: str) -> bool:
    stripped = sentence.strip()
    return (len(stripped.split()) >= 4 and not _META.match(stripped)
            and not stripped.endswith(":"))


def _units(evidence: str) -> list[str]:
    """The evidence, and each of its sentences when it has several."""
    spans = sentence_spans(evidence)
    return [evidence] + ([evidence[s:e] for s, e in spans] if len(spans) > 1 else [])


def measure(pairs: Sequence[tuple[str, str]], embedder: Embedder | None,
            known: Callable[[Sequence[int]], Mapping[str, np.ndarray]] | None = None
            ) -> list[Measured]:
    """Each (claim, evidence) pair measured. Similarity is the claim's to the evidence or
    to its closest sentence, whichever is higher (a claim drawn from one sentence of a
    cited chunk); the embeddings of pairs not verbatim in one batch, each distinct text
    once (similarity 0 without an embedder). `known(indices)` gives vectors already at
    hand for the texts of those pairs, by text: those are not embedded again."""
    verbatim = [is_verbatim(s, e) for s, e in pairs]
    wanted = [i for i, (_, e) in enumerate(pairs) if e and not verbatim[i]]
    similarity = [0.0] * len(pairs)
    if wanted and embedder is not None:
        units = {pairs[i][1]: _units(pairs[i][1]) for i in wanted}
        texts = list(dict.fromkeys([pairs[i][0] for i in wanted]
                                   + [u for found in units.values() for u in found]))
        vectors = dict(known(wanted)) if known else {}
        missing = [t for t in texts if t not in vectors]
        vectors.update(zip(missing, embedder.embed(missing), strict=True) if missing else ())
        for i in wanted:
            claim, evidence = pairs[i]
            similarity[i] = max(float(vectors[claim] @ vectors[u]) for u in units[evidence])
    return [Measured(True, 1.0, 0.0, 0) if verbatim[i] else
            Measured(False, lexical_coverage(s, e), similarity[i],
                     len(critical_missing(s, e)))
            for i, (s, e) in enumerate(pairs)]


def check(answer: str, citations: Sequence[Citation], embedder: Embedder | None,
          stored: Stored | None = None) -> list[Claim]:
    """One Claim per sentence of the answer (headings, meta sentences and refusals left
    out). An uncited sentence is tried against the citations of the next cited sentence
    of its line. `stored` gives the vectors the store holds of cited sentences."""
    if answer.strip() == REFUSAL:
        return []
    by_number = {c.n: c for c in citations}
    items = []  # (sentence, its citation numbers, whether they were borrowed)
    for line in claim_sentences(answer):
        following: list[int] = []
        for sentence, numbers in reversed(line):
            known = [n for n in numbers if n in by_number]
            following = known or following
            items.append((sentence, known or following, not known))
    items.reverse()
    pairs = [(s, " ".join(by_number[n].text for n in ns)) for s, ns, _ in items]

    def held(wanted: Sequence[int]) -> dict[str, np.ndarray]:
        cited = dict.fromkeys(n for i in wanted for n in items[i][1])
        return {text: vector for n in cited for text, vector in stored(by_number[n]).items()}

    claims = []
    for (sentence, numbers, borrowed), (_, evidence), measured in zip(
            items, pairs, measure(pairs, embedder, held if stored else None), strict=True):
        score = support(measured) if evidence else 0.0
        if borrowed and score < SUPPORTED:
            if is_factual(sentence):
                claims.append(Claim(sentence, (), 0.0, "uncited"))
            continue
        claims.append(Claim(sentence, tuple(numbers), round(score, 3), verdict(score)))
    return claims
