"""Names in English text: runs of capitalised words, in any alphabet ("Ötzi", "Łódź").

One notion of a name, read three ways:
- `entities(question)`: what a question asks about (names and numbers), for the refusal
  rule and the compared things; question words and a lone word opening a clause are not
  names;
- `names(text)`: what a passage names, for second hops, allowing the small words inside
  names ("Bank of England", "Ludwig van Beethoven") and quoted titles;
- `asserted(sentence)`: what a claim asserts, for the claim checker, words with a
  lowercase letter inside the sentence plus a run of two or more opening it.
`UPPER` and `LOWER` are character classes of every cased letter Python knows, since
`[A-Z]` misses "Ö" and "É".

Rules of thumb over capital letters: no parser, no named-entity model. A name written
in lower case ("iPhone" aside) or a capitalised common word mid-sentence is misread.
"""

from __future__ import annotations

import re

__all__ = ["LOWER", "UPPER", "asserted", "entities", "names"]


def _letter_class(test) -> str:
    found = "".join(chr(c) for c in range(0x250) if test(chr(c)))
    found += "".join(chr(c) for c in range(0x370, 0x530) if test(chr(c)))  # Greek, Cyrillic
    return "[" + "".join(re.escape(ch) for ch in found) + "]"


UPPER = _letter_class(lambda ch: ch.isupper() and ch.isalpha())
LOWER = _letter_class(lambda ch: ch.islower() and ch.isalpha())
_CAPITALISED = rf"{UPPER}[\w’'.&-]*"
_NUMBER = r"\d[\d,.]*\w*"
_JOINERS = r"(?:of|the|de|du|da|del|der|von|van|la|le|y|for|on)"
# a run of capitalised words or numbers; with joiners, small words inside names too
_RUN = re.compile(rf"(?:{_CAPITALISED}|{_NUMBER})(?:\s+(?:{_CAPITALISED}|{_NUMBER}))*")
_JOINED_RUN = re.compile(
    rf"[\"“]([^\"”]{{2,60}})[\"”]"
    rf"|((?:{_CAPITALISED}|\d[\d,.]*[^\W\d_]*)"
    rf"(?:\s+(?:{_JOINERS}\s+)*(?:{_CAPITALISED}|\d[\d,.]*))*)")
_ASSERTED = re.compile(rf"(?<!^)(?<![.!?:]\s)\b{UPPER}[\w’'-]*{LOWER}[\w’'-]*"
                       rf"(?:\s+{UPPER}[\w’'-]*{LOWER}[\w’'-]*)*")
_OPENING_RUN = re.compile(rf"^[\W_]*((?:{UPPER}[\w’'-]*\s+)*{UPPER}[\w’'-]*)")

# -- what a question asks about ---------------------------------------------------------

_QUESTION_WORDS = frozenset(
    "who whom whose what which when where why how is are was were do does did can could "
    "should would will in on at of for according besides between the a an and or but to "
    "from by with summarize summarise describe explain list name give tell i if both either "
    "neither each".split())
_CLAUSE_START = re.compile(r"(?:^|[:;—–]|\s-)\s*$")  # what precedes a clause's first word


def entities(question: str) -> list[str]:
    """Capitalised word runs and numbers in the question, minus question words and a lone
    capitalised word that only opens the question or a clause ("Quick question: who…",
    "Stopped: who…"): capitals there are the sentence's, not a name's."""
    found = []
    for match in _RUN.finditer(question):
        run = [re.sub(r"[’']s$", "", w.strip(".,’'")) for w in match.group(0).split()]
        words = [w for w in run if w and w.lower() not in _QUESTION_WORDS
                 and not re.fullmatch(r"\d+s", w)]
        # "Quick question: who…" opens with its capital; "Are Frozen and…" names a film
        if len(words) == 1 and words[0] == run[0] and words[0].isalpha() and \
                _CLAUSE_START.search(question[:match.start()]):
            continue
        if words:
            found.append(" ".join(words))
    return found


# -- what a passage names ---------------------------------------------------------------

_SENTENCE_END = re.compile(rf"(?<={LOWER[:-1]}\d]{{2}})\.\s+")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;]\s+|\n)[\"“(]?$")
# capitalised only because they open a sentence or a question
_NOT_NAMES = frozenset(
    "a an the this that these those it its he she they his her their we our you i in on at "
    "of for to from by with as and or but if when where while after before since during "
    "who whom whose what which why how is are was were do does did has have had can could "
    "would should will there here then also however both each all some many most one "
    "between besides among name list give".split())


def _cleaned(name: str) -> str:
    words = name.strip(" .,'’").split()
    while words and words[0].lower() in _NOT_NAMES:
        words = words[1:]
    return " ".join(words)


def names(text: str) -> list[str]:
    """Names in `text`, in order of first appearance, without a leading "The". A single
    word opening a sentence counts only where it is capitalised mid-sentence too."""
    found = []
    for match in _JOINED_RUN.finditer(text):
        offset = match.start()
        for part in _SENTENCE_END.split(match.group(1) or match.group(2)):
            name = _cleaned(part)
            opens = _SENTENCE_START.search(text[:offset]) is not None
            offset += len(part) + 1
            if len(name) < 3 or (" " not in name and opens and not _mid_sentence(text, name)):
                continue
            found.append(name)
    return list(dict.fromkeys(found))


def _mid_sentence(text: str, word: str) -> bool:
    return re.search(rf"[\w,]\s+{re.escape(word)}\b", text) is not None


# -- what a claim asserts ---------------------------------------------------------------

# the common words that open a sentence
_OPENERS = frozenset("the a an in on at for from by with after before during since as this "
                     "that these those his her its their our when while it he she they we i "
                     "there but and or so if although though however many some most".split())


def asserted(sentence: str) -> list[str]:
    """The names a sentence asserts: runs of capitalised words inside it, and the run
    opening it once its common opening words are dropped, when two words or more remain
    ("Wendy Sherman said…", not "Yesterday…"); a name inside a longer one is left out."""
    found = _ASSERTED.findall(sentence)
    opening = _OPENING_RUN.match(sentence)
    if opening:
        words = opening.group(1).split()
        while words and words[0].lower() in _OPENERS:
            words.pop(0)
        if len(words) >= 2:
            found.insert(0, " ".join(words))
    found = list(dict.fromkeys(re.sub(r"[’']s\b", "", name) for name in found))
    return [n for n in found if not any(n != other and n in other for other in found)]

