"""Checked citations: does each cited span actually support the sentence citing it?

Claims are the sentences of the answer's *text*, not of its formatting: each line is read
as Markdown first, so headings (`### Title`, a `**Title**` line, a line with no marker and
no closing punctuation), rules, list bullets and numbers, block quotes, document labels
(`**doc.txt**:`), bold/italic/code markers and quotation marks around a whole claim are
left out, and a marker followed by a capitalised word ends a claim even where the engine
put no full stop ("Title [1] Next sentence [2]"). A sentence with no marker, in a line
whose next sentence is cited (an extract of several sentences cited once), is checked
against that citation and takes it when supported.

A claim whose words are a verbatim run of its cited spans is supported outright. Any
other gets a support score in [0, 1] from (a) the share of its content terms the spans
contain, (b) the embedding similarity of claim and spans, and (c) a heavy penalty for each
name, number or negation it asserts that the spans lack (the usual signature of a swapped
citation or an invented detail). A factual sentence with no marker is "uncited".

It cannot tell a faithful paraphrase in quite different words from an unsupported claim
in the same words; such paraphrases come out "weak", not "supported". It reads Markdown
line by line, not as a full parser: tables, HTML and footnote-style markers are text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.citations import MARKER, citing_sentences, parse_markers
from rag.embedding import Embedder
from rag.engines.base import REFUSAL
from rag.lexical import fold, mentions, tokenize
from rag.sentences import sentence_spans
from rag.types import Citation, Claim, Verdict

__all__ = ["Claim", "Measured", "check", "claim_sentences", "critical_missing", "measure",
           "support", "verdict"]

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
# the capitalised words opening a sentence, and the common words that open one
_OPENING_RUN = re.compile(r"^[\W_]*((?:[A-Z][\w’'-]*\s+)*[A-Z][\w’'-]*)")
_OPENERS = frozenset("the a an in on at for from by with after before during since as this "
                     "that these those his her its their our when while it he she they we i "
                     "there but and or so if although though however many some most".split())
_CONTRACTION = re.compile(r"\b(?:(ca)n['’]t|(wo)n['’]t|(sha)n['’]t|(\w+)n['’]t|(can)not)\b",
                          re.IGNORECASE)
_META = re.compile(r"^(?:the documents? (?:do(?:n[’']t| not)|does(?:n[’']t| not)) say|"
                   r"summari[sz]e|in summary|here (?:is|are)|sources?:)", re.IGNORECASE)
_WORDS = re.compile(r"\w+")

# -- Markdown, line by line --------------------------------------------------------------
_HEADING = re.compile(r"^ {0,3}#{1,6}(?:\s|$)")
_RULE = re.compile(r"^\s*(?:([-*_=])(?:\s*\1){2,}|\|?(?:\s*:?-+:?\s*\|)+\s*:?-*:?)\s*$")
_BOLD_LINE = re.compile(r"^(\*\*|__)(?!\s).*?(?<!\s)\1\s*:?$")  # **Title**, **Title:**
# block quotes, a bullet or number, then a label: **doc.txt**:, **Title:** or doc.txt:
_PREFIX = re.compile(r"^(?:\s*>)*\s*(?:[-*+•‣◦▪]\s+|\(?\d{1,3}[.)]\s+)?(?:(\*\*|__)[^*\n]{1,200}?\1"
                     r"\s*:\s+|(\*\*|__)[^*\n]{1,200}?:\2\s+|[\w.-]{1,150}\.[A-Za-z]{2,4}:\s+)?")
_EMPHASIS = re.compile(r"\*\*|__|`+|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)")
_LINK = re.compile(r"\[([^\]\n]*[^\]\d\s,\-–—][^\]\n]*)\]\([^)\s]*\)")  # [text](url) -> text
# a marker run followed by a capitalised word starts a new sentence
_MARKER_THEN_CAPITAL = re.compile(
    rf"((?:{MARKER.pattern}[^\S\n]*)+)(?=(?:\*\*|__)\w|[*_]?[\"'“‘(]?[A-Z])")
_ENDED = re.compile(rf"(?:[.!?…:;][\"'”’)\]*_]*|{MARKER.pattern})\s*$")  # closes a sentence
_CONTINUES = re.compile(r"\s*[a-z]")
_QUOTES = {'"': '"', "“": "”", "‘": "’", "«": "»", "'": "'"}


def _is_heading(line: str) -> bool:
    text = line.strip()
    if _HEADING.match(line) or _RULE.match(line):
        return True
    if MARKER.search(text):
        return False
    # a bold line, or a line no punctuation closes ("Key points", a title): a label
    return bool(_BOLD_LINE.match(text)) or not _ENDED.search(text)


def _unquoted(sentence: str) -> str:
    """The sentence without quotation marks wrapping all of it (“…”, "…" or “….”)."""
    body = sentence.rstrip(".,;:!? ")
    close = _QUOTES.get(body[:1])
    if close and len(body) > 2 and body.endswith(close) and close not in body[1:-1]:
        return body[1:-1].strip() + sentence[len(body):].rstrip()
    return sentence


def _line_parts(line: str) -> list[str]:
    """The line's text without its formatting, split where a marker ends a claim."""
    line = _LINK.sub(r"\1", line)
    # not for markers opening the line ("[1] Paris is big."): those cite what follows
    line = _MARKER_THEN_CAPITAL.sub(
        lambda m: m.group(1).rstrip() + "\n" if line[:m.start()].strip() else m.group(0), line)
    return [_EMPHASIS.sub("", _PREFIX.sub("", part, count=1)) for part in line.split("\n")]


def _logical_lines(answer: str) -> list[str]:
    """The answer's lines, a line wrapped mid-sentence (the next line goes on in lower
    case) joined to the next, as Markdown would show it."""
    lines: list[str] = []
    for line in answer.splitlines():
        if lines and lines[-1].strip() and _CONTINUES.match(line) \
                and not _ENDED.search(lines[-1]):
            lines[-1] = f"{lines[-1].rstrip()} {line.strip()}"
        else:
            lines.append(line)
    return lines


def claim_sentences(answer: str) -> list[list[tuple[str, list[int]]]]:
    """The answer's claims, line by line: each line's sentences with their formatting
    left out and the marker numbers each carries. Heading lines give none; a line of
    markers and punctuation only ("[1]", "… [2]") belongs to the last sentence before it."""
    lines: list[list[tuple[str, list[int]]]] = []
    for line in _logical_lines(answer):
        if not line.strip():
            continue
        if not _WORDS.search(MARKER.sub("", line)) and lines and lines[-1]:
            sentence, numbers = lines[-1][-1]
            lines[-1][-1] = (sentence, list(dict.fromkeys(numbers + parse_markers(line))))
            continue
        if _is_heading(line):
            continue
        sentences = []
        for part in _line_parts(line):
            sentences += [(_unquoted(" ".join(s.split())), ns)
                          for s, ns in citing_sentences(part)]
        lines.append([(s, ns) for s, ns in sentences if _WORDS.search(s)])
    return lines


# -- scoring -----------------------------------------------------------------------------


def _uncontracted(text: str) -> str:
    """"isn't" as "is not", "can't" and "cannot" as "can not", "won't" as "will not"."""
    def expand(m: re.Match) -> str:
        stem = next(g for g in m.groups() if g)
        return {"ca": "can", "wo": "will", "sha": "shall"}.get(stem.lower(), stem) + " not"
    return _CONTRACTION.sub(expand, text)


def names(sentence: str) -> list[str]:
    """The names a sentence asserts: runs of capitalised words inside it, and the run
    opening it once its common opening words are dropped, when two words or more remain
    ("Wendy Sherman said…", not "Yesterday…")."""
    found = _NAME.findall(sentence)
    opening = _OPENING_RUN.match(sentence)
    if opening:
        words = opening.group(1).split()
        while words and words[0].lower() in _OPENERS:
            words.pop(0)
        if len(words) >= 2:
            found.insert(0, " ".join(words))
    found = list(dict.fromkeys(re.sub(r"[’']s\b", "", name) for name in found))
    return [n for n in found if not any(n != other and n in other for other in found)]


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


def measure(pairs: Sequence[tuple[str, str]], embedder: Embedder | None) -> list[Measured]:
    """Each (claim, evidence) pair measured. Similarity is the claim's to the evidence or
    to its closest sentence, whichever is higher (a claim drawn from one sentence of a
    cited chunk); the embeddings of pairs not verbatim in one batch, each distinct text
    once (similarity 0 without an embedder)."""
    verbatim = [is_verbatim(s, e) for s, e in pairs]
    wanted = [i for i, (_, e) in enumerate(pairs) if e and not verbatim[i]]
    similarity = [0.0] * len(pairs)
    if wanted and embedder is not None:
        units = {pairs[i][1]: _units(pairs[i][1]) for i in wanted}
        texts = list(dict.fromkeys([pairs[i][0] for i in wanted]
                                   + [u for found in units.values() for u in found]))
        vectors = dict(zip(texts, embedder.embed(texts), strict=True))
        for i in wanted:
            claim, evidence = pairs[i]
            similarity[i] = max(float(vectors[claim] @ vectors[u]) for u in units[evidence])
    return [Measured(True, 1.0, 0.0, 0) if verbatim[i] else
            Measured(False, lexical_coverage(s, e), similarity[i],
                     len(critical_missing(s, e)))
            for i, (s, e) in enumerate(pairs)]


def check(answer: str, citations: Sequence[Citation], embedder: Embedder | None) -> list[Claim]:
    """One Claim per sentence of the answer (headings, meta sentences and refusals left
    out). An uncited sentence is tried against the citations of the next cited sentence
    of its line."""
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
    claims = []
    for (sentence, numbers, borrowed), (_, evidence), measured in zip(
            items, pairs, measure(pairs, embedder), strict=True):
        score = support(measured) if evidence else 0.0
        if borrowed and score < SUPPORTED:
            if is_factual(sentence):
                claims.append(Claim(sentence, (), 0.0, "uncited"))
            continue
        claims.append(Claim(sentence, tuple(numbers), round(score, 3), verdict(score)))
    return claims
