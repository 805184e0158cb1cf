"""Checked citations: does each cited span actually support the sentence citing it?

For every sentence of an answer that carries `[n]` markers, a support score in [0, 1]
combines (a) how many of the sentence's content terms the cited spans contain, (b) the
embedding similarity of sentence and spans, and (c) a heavy penalty for each name,
number or negation the sentence asserts that the spans do not contain (the usual
signature of a swapped citation or a hallucinated detail). A factual sentence with no
marker is "uncited". Offline and cheap: one embedding batch per answer.

It cannot tell a faithful paraphrase using quite different words from an unsupported
claim with the same words; such cases come out "weak", not "supported".
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from rag.citations import citing_sentences
from rag.embedding import Embedder
from rag.engines.base import REFUSAL
from rag.lexical import fold, mentions, tokenize
from rag.types import Citation, Claim, Verdict

__all__ = ["Claim", "check", "critical_missing", "support_score", "verdict"]

SUPPORTED, WEAK = 0.6, 0.45  # verdict thresholds, calibrated in benchmarks/claims.py
LEXICAL_WEIGHT = 0.5
MISSING_PENALTY = 0.5  # per name, number or negation the spans lack

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# runs of capitalised words ("Wendy Sherman", "United States"), not opening a sentence
_NAME = re.compile(r"(?<!^)(?<![.!?:]\s)\b[A-Z][\w’'-]*[a-z][\w’'-]*"
                   r"(?:\s+[A-Z][\w’'-]*[a-z][\w’'-]*)*")
_NEGATION_IN_CONTEXT = re.compile(
    r"\b[\w’']+\s+(?:not|never)\b|\b(?:no|never|none|nor|cannot|without)\s+[\w’']+|"
    r"\b\w+n[’']t\b", re.IGNORECASE)
_META = re.compile(r"^(?:the documents? (?:do(?:n[’']t| not)|does(?:n[’']t| not)) say|"
                   r"summari[sz]e|in summary|here is|sources?:)", re.IGNORECASE)


def critical_missing(sentence: str, evidence: str) -> list[str]:
    """Numbers, names and negations of the sentence that the evidence lacks."""
    folded = fold(evidence)
    missing = [n for n in _NUMBER.findall(sentence) if n not in folded]
    names = dict.fromkeys(re.sub(r"[’']s\b", "", m) for m in _NAME.findall(sentence))
    missing += [name for name in names if not mentions(folded, name)]
    # a negation counts as present only with the word it negates ("would not")
    for match in _NEGATION_IN_CONTEXT.finditer(sentence):
        if fold(match.group(0)) not in folded:
            missing.append(match.group(0))
    return missing


def lexical_coverage(sentence: str, evidence: str) -> float:
    terms = set(tokenize([sentence])[0])
    if not terms:
        return 1.0
    return len(terms & set(tokenize([evidence])[0])) / len(terms)


def support_score(sentence: str, evidence: str, similarity: float) -> float:
    score = LEXICAL_WEIGHT * lexical_coverage(sentence, evidence) \
        + (1 - LEXICAL_WEIGHT) * max(similarity, 0.0)
    score -= MISSING_PENALTY * len(critical_missing(sentence, evidence))
    return float(np.clip(score, 0.0, 1.0))


def verdict(support: float) -> Verdict:
    return "supported" if support >= SUPPORTED else "weak" if support >= WEAK else "unsupported"


def is_factual(sentence: str) -> bool:
    return len(sentence.split()) >= 4 and not _META.match(sentence.strip())


def check(answer: str, citations: Sequence[Citation], embedder: Embedder | None) -> list[Claim]:
    """One Claim per sentence of the answer (meta sentences and refusals left out)."""
    if answer.strip() == REFUSAL:
        return []
    by_number = {c.n: c for c in citations}
    sentences = citing_sentences(answer)
    pairs = [(s, " ".join(by_number[n].text for n in ns if n in by_number))
             for s, ns in sentences]
    cited = [i for i, (_, evidence) in enumerate(pairs) if evidence]
    similarity = np.zeros(len(pairs))
    if cited and embedder is not None:
        # each distinct text once: an extractive answer's sentence is its cited span
        texts = list(dict.fromkeys(text for i in cited for text in pairs[i]))
        vectors = dict(zip(texts, embedder.embed(texts), strict=True))
        for i in cited:
            similarity[i] = float(vectors[pairs[i][0]] @ vectors[pairs[i][1]])
    claims = []
    for i, ((sentence, numbers), (_, evidence)) in enumerate(zip(sentences, pairs, strict=True)):
        if not evidence:
            if is_factual(sentence):
                claims.append(Claim(sentence, (), 0.0, "uncited"))
            continue
        support = support_score(sentence, evidence, float(similarity[i]))
        claims.append(Claim(sentence, tuple(numbers), round(support, 3), verdict(support)))
    return claims
