"""What a question asks for: which documents (scope), and what kind of answer.

Pure functions over the question's text, shared by retrieval (which spreads a question
about several documents over all of them, and favours passages holding the kind of
answer asked for) and the extractive engine (which scores sentences the same way).
Rules of thumb for English questions; no parser, no model.
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import pairwise
from typing import Literal

from rag.names import LOWER, UPPER, entities

AnswerType = Literal["name", "date", "number"]
MARKED_TEXTS = 20_000  # texts whose names, and whether they hold a date or a number, are kept

# "in each of the two articles", "across all documents": which documents, not what
_SCOPE = re.compile(
    r"\b(?:in|across|from|of)\s+(?:each|both|all|every)\s+(?:of\s+)?(?:the\s+)?(?:\w+\s+)?"
    r"(?:articles?|documents?|docs|texts|sources|pieces|reports|files|papers)\b",
    re.IGNORECASE)
_CROSS_DOCUMENT = re.compile(
    r"\b(?:each|both|all|every|across|compare|two|three)\b[^?]*\b(?:articles?|documents?|docs|"
    r"texts|sources|pieces|reports|files|papers)\b", re.IGNORECASE)
# "in the Moscow Times article", "according to the RUSI commentary": where to look, not
# what to find; left out when scoring sentences, or they reward the masthead.
_SOURCE_DESCRIPTOR = re.compile(
    r"\b(?:(?:in|from|named in|mentioned in|of)\s+(?:the|this|that)\s+(?:[\w’'.-]+\s+){0,4}?"
    r"(?:article|commentary|piece|report|paper|document|text|story|op-ed|essay|post)s?\b"
    r"|according to (?:the )?(?:[\w’'.-]+\s*){1,4}(?=[?.!]?\s*$))", re.IGNORECASE)

# What kind of thing the question asks for, and how a text that holds one looks.
_ASKS_FOR_NAME = re.compile(
    r"\s*(who|whom|whose|(which|what) (\w+ ){0,2}(officials|people|persons|leaders|"
    r"ministers|politicians|diplomats|authors|officers))\b")
_ASKS_FOR_DATE = re.compile(
    r"\s*(when|(?:(?:on|in|by|since|until) )?(?:what|which) "
    r"(?:year|date|day|month|decade|century))\b")
# "how many…", and "what is the budget / population / cost of…"
_ASKS_FOR_NUMBER = re.compile(
    r"\s*(how many|how much|what percentage|how long|how old|how far|how big|how large|"
    r"(?:what|which)(?:'s|’s| is| was| are| were)? (?:the )?(?:\w+ )?(?:budget|cost|price|"
    r"population|salary|percentage|amount|number|total|value|fee|fine|height|length|"
    r"distance|area|size|speed|temperature|capacity|score|age|weight|rate)s?\b)")
_NAME = re.compile(rf"(?<![.!?]\s)(?<!^)\b{UPPER}{LOWER}+(?:\s+{UPPER}{LOWER}+)+\b(?![’']s)")
# "the leaders of Donetsk": people named by their group
_GROUP_OF_NAMED = re.compile(
    r"\b(?:leaders?|officials?|governments?|ministers?|members?|representatives?|delegations?|"
    r"people|citizens|forces|presidents?|heads?) of (?:the )?[A-Z]\w+")
# a year (1206, "in 911", 300 BC), a decade or century, a month or weekday
_YEAR_OR_DATE = re.compile(
    r"\b(?:1\d\d\d|20\d\d|\d{1,4}s|\d{1,2}(?:st|nd|rd|th)[- ]century|January|February|March|"
    r"April|May|June|July|August|September|October|November|December|Monday|Tuesday|"
    r"Wednesday|Thursday|Friday|Saturday|Sunday)\b"
    r"|\b(?:in|since|until|by|from|of|AD) \d{3}\b(?![.,]?\d)|\b\d{1,4} (?:BC|AD|BCE|CE)\b")
_DIGIT = re.compile(r"\d")
_NUMBER_WORD = re.compile(r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|hundred|"
                          r"thousand|million|billion|dozen)\b", re.IGNORECASE)


def is_cross_document(question: str) -> bool:
    """Whether the question asks about several documents ("in each of the articles")."""
    return bool(_CROSS_DOCUMENT.search(question))


def without_scope(question: str) -> str:
    return _SCOPE.sub("", question)


def without_source_descriptor(question: str) -> str:
    """The question without where-to-look phrases ("in the X article", "in each of the
    two articles"): they say which documents, not what to find."""
    stripped = _SOURCE_DESCRIPTOR.sub("", without_scope(question))
    return re.sub(r"^\W+|\s+(?=[?,.!])|,(?=\s*[?.!]?$)", "", stripped).strip()


def answer_type(question: str) -> AnswerType | None:
    """"name", "date" or "number" when the question asks for one, else None."""
    q = without_scope(question).lower()
    if _ASKS_FOR_NAME.match(q):
        return "name"
    if _ASKS_FOR_DATE.match(q):
        return "date"
    if _ASKS_FOR_NUMBER.match(q):
        return "number"
    return None


def holds_answer_type(question: str, text: str, kind: AnswerType | None = None) -> bool:
    """Whether `text` holds the kind of answer the question wants (a name for "who", a
    date for "when", a number for "how many") that the question itself lacks. Pass
    `kind` when it is already known, to check many texts against one question."""
    kind = kind or answer_type(question)
    if kind == "name":
        asked = question.lower()
        return any(name not in asked for name in _names_in(text))
    if kind == "date":
        return _holds_date(text)
    if kind == "number":
        return _holds_number(text)
    return False


# The same chunks and sentences are checked for question after question: what each
# holds is kept (one kind at a time: a question asks for one)
@lru_cache(maxsize=MARKED_TEXTS)
def _names_in(text: str) -> frozenset[str]:
    """The names a text holds, lower-cased."""
    return frozenset(m.group(0).lower() for pattern in (_NAME, _GROUP_OF_NAMED)
                     for m in pattern.finditer(text))


@lru_cache(maxsize=MARKED_TEXTS)
def _holds_date(text: str) -> bool:
    return bool(_YEAR_OR_DATE.search(text))


@lru_cache(maxsize=MARKED_TEXTS)
def _holds_number(text: str) -> bool:
    return bool(_DIGIT.search(text) or _NUMBER_WORD.search(text))


# "What punishments…", "Which changes…", "List the…": the answer is several things
_ASKS_FOR_LIST = re.compile(
    r"^\s*(?:list|enumerate)\b|^\s*(?:what|which)\s+(?:(?:are|were)\s+(?:the\s+)?)?"
    r"(?:(?:main|key|other|different|two|three|several)\s+)?(?:kinds|types|sorts)?\s*(?:of\s+)?"
    r"(?P<noun>[a-z]+s)\b", re.IGNORECASE)
_NOT_PLURAL_NOUNS = frozenset(
    "does has was is means makes causes happens seems goes gets says takes gives shows "
    "lies uses this its his hers ours yours thus".split())
# "X or Y", "X and Y", "X vs Y" between two names: the things compared
_JOINED = re.compile(r"^,?\s+(?:or|and|vs\.?|versus)\s+(?:the\s+)?$", re.IGNORECASE)


# "Name three rivers…" asks for several; "Name the mother of…" for one
_NAME_SEVERAL = re.compile(r"^\s*name\s+(?:[\w-]+\s+){0,2}?(?P<noun>[a-z]+s)\b", re.IGNORECASE)


def is_list_question(question: str) -> bool:
    """Whether the question asks for several things ("What punishments face…")."""
    match = _ASKS_FOR_LIST.match(question) or _NAME_SEVERAL.match(question)
    if not match:
        return False
    noun = (match.group("noun") or "").lower()
    return not noun or (noun not in _NOT_PLURAL_NOUNS and not noun.endswith(("ss", "us")))


def compared_things(question: str) -> list[str]:
    """The names a question compares or joins ("Which band formed first, The Exies or
    Circus Diablo?" -> ["The Exies", "Circus Diablo"]); [] when it joins fewer than two."""
    names = [n for n in entities(question) if n in question]
    joined: list[str] = []
    for a, b in pairwise(names):
        start = question.find(a) + len(a)
        between = question[start:question.find(b, start)]
        if _JOINED.match(between):
            joined += [n for n in (a, b) if n not in joined]
    return joined


# "Are X and Y both film directors?": a yes or no the compared things' sentences can give;
# "the same state" asks to compare values, which their words cannot
_ASKS_IF_BOTH = re.compile(r"^\s*(?:are|is|were|was|do|does|did|have|has)\b(?=.*\bboth\b)"
                           r"(?!.*\b(?:same|different|either|neither)\b)", re.IGNORECASE)


def asks_if_both(question: str) -> bool:
    """Whether the question asks yes or no of two things at once ("Are X and Y both…?")."""
    return bool(_ASKS_IF_BOTH.match(question))


# "How many jobs…": the answer counts them ("1,000 jobs", "20% of Victorians")
_HOW_MANY = re.compile(r"^\s*how many (?:of the |more |other )?(?P<noun>[a-z]{3,})", re.IGNORECASE)
_TWO_TO_TWELVE = "two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
_COUNT = (rf"\b(?:\d[\d,.]*|one|{_TWO_TO_TWELVE}|"
          r"twenty|thirty|forty|fifty|hundred|thousand|million|billion|dozen|several|many|few)"
          r"\b%?(?:[\s-]+[\w-]+){0,3}?[\s-]+")

# "twice", "a two-time Pro Bowl selection": how many times, in a word
_TIMES = rf"\b(?:once|twice|thrice|(?:\d+|{_TWO_TO_TWELVE})-times?)\b"


# "What did Vladimir Putin say about…?": what a named person said, so a sentence naming
# them (or the one after it: "He said…") speaks or quotes
_ASKS_WHAT_SAID = re.compile(
    rf"^\s*[Ww]hat (?:did|does|do|has|have|had|will|would) (?P<who>(?:{UPPER}[\w.’'-]*\s+)+)"
    r"(?:say|tell|think|claim|argue|believe|reckon|warn|suggest|propose|predict|write|"
    r"announce)\b")
_SPEECH = re.compile(
    r"\b(?:said|says|say|told|tells|added|adds|argued|argues|claimed|claims|warned|warns|"
    r"wrote|writes|stated|states|believes|believed|thinks|thought|suggested|suggests|"
    r"proposed|proposes|predicted|predicts|announced|asked|insisted|explained|urged|"
    r"reckons|reckoned|according to)\b|[\"“”]")


def _speaks(question: str, text: str) -> bool | None:
    """For "What did X say…", whether a sentence of `text` (one a line) naming X, or the
    next line, speaks or quotes; None when the question asks no such thing."""
    asked = _ASKS_WHAT_SAID.match(question)
    if not asked:
        return None
    surname = re.sub(r"[’']s$", "", asked.group("who").split()[-1])
    lines = text.split("\n")
    return any(surname in line and any(_SPEECH.search(x) for x in lines[i:i + 2])
               for i, line in enumerate(lines))


def missing_answer(question: str, text: str) -> str | None:
    """The kind of answer the question asks for that `text` lacks: "date" for "when…",
    "count" for "how many jobs…" (no number just before the word for what is counted),
    "name" for "who…", "speaker" for "What did Putin say…" (no sentence naming him
    speaks); None when it holds one or the question asks for no such kind."""
    kind = answer_type(question)
    if kind in ("date", "name") and not holds_answer_type(question, text, kind):
        return kind
    if _speaks(question, text) is False:
        return "speaker"
    counted = _HOW_MANY.match(question)
    if counted:
        noun = counted.group("noun").lower()
        stem = noun[:max(4, len(noun) - 2)]
        if not re.search(_COUNT + re.escape(stem), text, re.IGNORECASE) and not (
                noun == "times" and re.search(_TIMES, text, re.IGNORECASE)):
            return "count"
    return None


# "Why is the walker glad…?", "How did England lose?": a reason or a manner, not a quantity
_WHY_OR_HOW = re.compile(r"^\s*(?:why|how(?! (?:many|much|long|old|far|big|large|often|soon)\b))\b",
                         re.IGNORECASE)


def asks_why_or_how(question: str) -> bool:
    return bool(_WHY_OR_HOW.match(question))


# "…, what happened once he was freed?", "What did McLetchie want to know…?": an event or
# an intention told in prose, like a reason or a manner
_WHAT_HAPPENED = re.compile(
    r"(?:^|,)\s*what (?:happened|(?:did|does|do|will) (?:\S+\s+){1,3}?(?:want|do|mean))\b",
    re.IGNORECASE)


def asks_for_account(question: str) -> bool:
    """Whether the question asks for an account (why, how, what happened, what someone
    wanted or did) rather than a fact one phrase can give."""
    return asks_why_or_how(question) or bool(_WHAT_HAPPENED.search(question))
