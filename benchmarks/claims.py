"""A labelled set of cited claims built from public text: what the claim checker is measured on.

Sources: the 12 SQuAD 2.0 articles and the HotpotQA paragraphs vendored in benchmarks/data
(written as files by benchmarks/corpora.py, so the text is exactly what citechat ingests),
and the 100 BBC articles read from the shared folder when it is there (research use only:
never written into the repository). From prose sentences (eight words or more, not a
headline or page furniture) of each document, sampled evenly:

- correct: the sentence citing its own span ("verbatim") or the chunk around it ("wider
  span"), cut to one clause ("clause"), or lightly reworded — common words swapped for
  synonyms, filler words dropped, contractions changed — citing its span ("reworded") or
  the chunk around it ("reworded, wider span");
- corrupted: the citation moved to the other sentence of the same document sharing most
  words with it, unless it holds 80% of them (a restatement, no corruption) ("moved"), a
  name or a number swapped for one of the same kind from the same document that the span
  does not hold ("name swapped", "number swapped"), a negation added ("negated"), or a
  sentence of another document of the same source citing the sentence of this document
  closest to it in meaning ("other document").

"Same kind" without a tagger: a name of the same number of words and the same rough
class (a month or weekday; a place, i.e. a name the document uses after "in", "at",
"from"…; any other name), never a word the document also writes in lower case; a number
of the same shape (a year for a year, the same count of digits otherwise).
Deterministic: one seed, documents in name order.
This module only builds; benchmarks/claims_eval.py scores.
"""

from __future__ import annotations

import json
import random
import re
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks.corpora import BBC, write_hotpot, write_squad
from rag.chunking import chunk_document, is_furniture
from rag.documents import parse
from rag.sentences import sentence_spans

ROOT = Path(__file__).resolve().parents[1]
LABELLED = ROOT / "docs" / "claims-labelled.jsonl"
PUBLIC = ("squad", "hotpotqa")  # the sources whose text may be committed
CHUNK_SIZE = 400  # the default Settings.chunk_size
# sentences sampled per document, full run / quick run
PER_DOC = {"squad": (20, 8), "hotpotqa": (1, 1), "bbc": (4, 2)}
# every n-th document, full run / quick run
STRIDE = {"squad": (1, 1), "hotpotqa": (2, 6), "bbc": (1, 2)}
MIN_WORDS = 8


@dataclass(frozen=True)
class Item:
    source: str
    doc: str
    claim: str
    start: int  # the cited span, offsets into the document's text
    end: int
    label: str  # correct | corrupted
    kind: str


@dataclass(frozen=True)
class Source:
    name: str
    texts: dict[str, str]  # document name -> its exact text


def public_sources(folder: Path) -> list[Source]:
    """SQuAD and HotpotQA as citechat reads them: the files corpora.py writes, parsed."""
    found = []
    for name, write in (("squad", write_squad), ("hotpotqa", write_hotpot)):
        write(folder / name)
        found.append(Source(name, _parsed(sorted((folder / name).iterdir()))))
    return found


def bbc_source() -> Source | None:
    articles = BBC / "articles"
    if not articles.is_dir():
        return None
    return Source("bbc", _parsed(sorted(articles.glob("*.txt"))))


def _parsed(paths: list[Path]) -> dict[str, str]:
    return {p.name: parse(p.name, p.read_bytes()).text for p in paths}


def prose_sentences(text: str) -> list[tuple[int, int]]:
    spans = []
    for s, e in sentence_spans(text):
        line_start = text.rfind("\n", 0, s) + 1
        line_end = text.find("\n", e)
        line = text[line_start : line_end if line_end >= 0 else len(text)]
        if len(text[s:e].split()) >= MIN_WORDS and not is_furniture(line):
            spans.append((s, e))
    return spans


# -- correct claims ------------------------------------------------------------------

_SYNONYMS = {
    "said": "stated", "says": "states", "suggested": "proposed", "also": "too", "because":
    "since", "however": "yet", "important": "significant", "large": "big", "big": "large",
    "small": "little", "began": "started", "begin": "start", "started": "began", "start":
    "begin", "help": "assist", "helped": "assisted", "make": "create", "made": "created",
    "many": "numerous", "often": "frequently", "about": "around", "buy": "purchase",
    "bought": "purchased", "show": "display", "shows": "displays", "showed": "displayed",
    "major": "key", "main": "principal", "near": "close to", "end": "finish", "ended":
    "finished", "famous": "well-known", "known": "recognised", "received": "got", "used":
    "employed", "use": "employ", "first": "earliest", "largest": "biggest", "built":
    "constructed", "people": "persons", "country": "nation", "area": "region", "company":
    "firm", "companies": "firms", "rise": "increase", "rose": "increased", "fell":
    "dropped", "chief": "head", "told": "informed", "wanted": "wished", "want": "wish",
    "very": "highly", "quickly": "rapidly", "around": "about", "several": "a number of",
    "including": "among them", "however,": "yet,", "whilst": "while", "while": "whilst",
}
_DROPPABLE = {"very", "really", "indeed", "also", "just", "even", "clearly", "somewhat",
              "particularly", "already", "still", "currently", "actually", "only"}
_CONTRACTIONS = {"does not": "doesn't", "do not": "don't", "did not": "didn't", "is not":
                 "isn't", "was not": "wasn't", "it is": "it's", "cannot": "can't"}
_CLAUSE = re.compile(r"[,;:]\s+|\s+[-–—]\s+|\s+(?:and|but|while|whereas|which|although)\s+")


def reworded(sentence: str, rng: random.Random) -> str:
    """The sentence with some common words swapped or dropped; itself when none apply."""
    for long, short in _CONTRACTIONS.items():
        if long in sentence and rng.random() < 0.7:
            sentence = sentence.replace(long, short, 1)
    words = []
    for word in sentence.split():
        bare = word.lower().strip(",.;:")
        if bare in _DROPPABLE and rng.random() < 0.8:
            continue
        if bare in _SYNONYMS and rng.random() < 0.7:
            new = _SYNONYMS[bare]
            word = word.lower().replace(bare, new) if word.islower() or not words else word
        words.append(word)
    return " ".join(words)


def clause(sentence: str) -> str | None:
    """The sentence's first clause when it has five words or more and is not all of it."""
    head = _CLAUSE.split(sentence, maxsplit=1)[0].rstrip(".")
    if len(head.split()) < 5 or head == sentence.rstrip("."):
        return None
    return head + "."


def _chunk_around(chunks: list[tuple[int, int]], s: int, e: int) -> tuple[int, int]:
    """The chunks covering the sentence, as one span."""
    covering = [(a, b) for a, b in chunks if a < e and s < b]
    return (min(a for a, _ in covering), max(b for _, b in covering)) if covering else (s, e)


# -- corrupted claims ----------------------------------------------------------------

_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+(?:[^\S\n]+[A-Z][a-z]+)*")  # inside a sentence
_NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*(?![\w])")
_AUX = re.compile(r"\b(is|are|was|were|has|have|had|can|could|will|would|should|may|might|"
                  r"must|does|did|do)\b(?!\s+(?:not|never)\b|n['’]t)")


def _number_kind(number: str) -> str:
    if re.fullmatch(r"1\d{3}|20\d{2}", number):
        return "year"
    return re.sub(r"\d", "9", number)  # the shape: 9, 99, 9.9, 9,999


def swapped_number(sentence: str, span: str, doc_numbers: list[str],
                   rng: random.Random) -> str | None:
    found = _NUMBER.findall(sentence)
    rng.shuffle(found)
    for old in found:
        same = sorted({n for n in doc_numbers if _number_kind(n) == _number_kind(old)
                       and n != old and n not in span})
        if same:
            return re.sub(rf"(?<![\w.,]){re.escape(old)}(?!\w)", rng.choice(same), sentence,
                          count=1)
    return None


_CALENDAR = frozenset("january february march april may june july august september october "
                      "november december monday tuesday wednesday thursday friday saturday "
                      "sunday".split())
_PLACE_BEFORE = r"\b(?:in|at|from|near|across|to|into|of)\s+(?:the\s+)?"


def name_kinds(text: str) -> dict[str, tuple[int, str]]:
    """The document's names (runs of capitalised words not opening a sentence) -> their
    kind: word count, and a month or weekday, a place (found after "in", "at", "from"…)
    or any other name."""
    kinds = {}
    found = {n for s, e in sentence_spans(text) for n in _NAME.findall(text[s:e])}
    lower = set(re.findall(r"\b[a-z]+\b", text))
    for name in sorted(n for n in found if n.lower() not in lower):  # "You" is no name
        if name.lower() in _CALENDAR:
            kind = "date"
        elif re.search(_PLACE_BEFORE + re.escape(name) + r"\b", text):
            kind = "place"
        else:
            kind = "other"
        kinds[name] = (len(name.split()), kind)
    return kinds


def swapped_name(sentence: str, span: str, kinds: dict[str, tuple[int, str]],
                 rng: random.Random) -> str | None:
    """The sentence with one of its names replaced by another name of the same kind from
    the document that the span does not mention."""
    found = [n for n in dict.fromkeys(_NAME.findall(sentence)) if n in kinds]
    rng.shuffle(found)
    for old in found:
        same = [n for n in kinds if n != old and kinds[n] == kinds[old]
                and n.lower() not in span.lower() and old.lower() not in n.lower()]
        if same:
            new = rng.choice(same)
            at = re.search(rf"\b{re.escape(old)}\b", sentence)
            return sentence[:at.start()] + new + sentence[at.end():] if at else None
    return None


def negated(sentence: str, rng: random.Random) -> str | None:
    if re.search(r"\b(?:not|never|no)\b|n['’]t\b", sentence):
        return None
    word = rng.choice(["not", "never"])
    changed = _AUX.sub(lambda m: f"{m.group(0)} {word}", sentence, 1)
    return changed if changed != sentence else None


# -- the set -------------------------------------------------------------------------


def _document_items(source: str, doc: str, text: str, picked: list[tuple[int, int]],
                    rng: random.Random) -> list[Item]:
    """The correct and corrupted claims (other documents aside) of one document."""
    spans = prose_sentences(text)
    chunks = [(c.start, c.end) for c in chunk_document(_document(doc, text), CHUNK_SIZE)]
    numbers = _NUMBER.findall(text)
    names = name_kinds(text)
    items = []
    for s, e in picked:
        sentence = text[s:e]

        def add(claim: str | None, span: tuple[int, int], label: str, kind: str) -> None:
            if claim and claim.strip():
                items.append(Item(source, doc, claim, span[0], span[1], label, kind))

        add(sentence, (s, e), "correct", "verbatim")
        wider = _chunk_around(chunks, s, e)
        add(sentence if wider != (s, e) else None, wider, "correct", "wider span")
        add(clause(sentence), (s, e), "correct", "clause")
        changed = reworded(sentence, rng)
        changed = changed if changed != sentence else None
        add(changed, (s, e), "correct", "reworded")
        add(changed if wider != (s, e) else None, wider, "correct", "reworded, wider span")
        others = [sp for sp in spans if sp != (s, e) and not _restates(sentence, text[sp[0]:sp[1]])]
        add(sentence if others else None, _closest(sentence, text, others) if others else (s, e),
            "corrupted", "moved")
        add(swapped_name(sentence, sentence, names, rng), (s, e), "corrupted", "name swapped")
        add(swapped_number(sentence, sentence, numbers, rng), (s, e), "corrupted",
            "number swapped")
        add(negated(sentence, rng), (s, e), "corrupted", "negated")
    return items


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def _restates(sentence: str, other: str) -> bool:
    """Whether `other` holds 80% of the sentence's words: citing it is no corruption."""
    return len(_words(sentence) & _words(other)) >= 0.8 * len(_words(sentence))


def _closest(sentence: str, text: str, spans: list[tuple[int, int]]) -> tuple[int, int]:
    """The span whose words overlap the sentence's most (a plausible wrong citation)."""
    words = _words(sentence)
    return max(spans, key=lambda sp: len(words & _words(text[sp[0]:sp[1]])))


def _document(name: str, text: str):
    from rag.types import Document

    return Document(name, text, "")


def _other_document_items(source: Source, picked: dict[str, list[tuple[int, int]]],
                          embed, rng: random.Random, pool_size: int = 200) -> list[Item]:
    """For each picked sentence, the sentence of another document (among a random pool)
    closest to it in meaning, citing it."""
    flat = [(doc, s, e) for doc, spans in picked.items() for s, e in spans]
    vectors = embed([source.texts[d][s:e] for d, s, e in flat])
    items = []
    for i, (doc, s, e) in enumerate(flat):
        pool = [j for j in rng.sample(range(len(flat)), min(pool_size, len(flat)))
                if flat[j][0] != doc]
        if not pool:
            continue
        j = max(pool, key=lambda j: float(vectors[j] @ vectors[i]))
        other, a, b = flat[j]
        items.append(Item(source.name, doc, source.texts[other][a:b], s, e, "corrupted",
                          "other document"))
    return items


def build_source(source: Source, per_doc: int, embed, seed: int = 7,
                 stride: int = 1) -> list[Item]:
    rng = random.Random(f"{seed}-{source.name}")
    picked = {}
    for doc, text in list(source.texts.items())[::stride]:
        spans = prose_sentences(text)
        if spans:
            picked[doc] = sorted(rng.sample(spans, min(per_doc, len(spans))))
    items = []
    for doc, spans in picked.items():
        items += _document_items(source.name, doc, source.texts[doc], spans, rng)
    return items + _other_document_items(source, picked, embed, rng)


def build(embed, quick: bool = False, seed: int = 7) -> tuple[list[Item], dict[str, Source]]:
    """The labelled items of every source present, and the sources (for their texts)."""
    with tempfile.TemporaryDirectory() as folder:
        sources = public_sources(Path(folder))
    bbc = bbc_source()
    sources += [bbc] if bbc else []
    items = []
    for source in sources:
        items += build_source(source, PER_DOC[source.name][quick], embed, seed,
                              STRIDE[source.name][quick])
    return items, {s.name: s for s in sources}


def write_public(items: list[Item], sources: dict[str, Source], path: Path = LABELLED) -> int:
    """The public sources' items as JSON lines (with the cited span's text); never BBC's."""
    rows = [{**asdict(i), "span": sources[i.source].texts[i.doc][i.start:i.end]}
            for i in items if i.source in PUBLIC]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")
    return len(rows)
