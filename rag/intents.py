"""Typed requests for a summary: is the message one, of which documents, how long, on what.

"Summarize the Moscow Times article", "give me a short summary of both documents",
"Summarize what the RUSI piece says about the UN peacekeeping idea", "the main points of
the report, in five points": `summary_intent` reads the request, `resolve` matches what it
names to documents (by file name, title, or a name the text mentions most — the way a
reader names a piece by its outlet), so the chat can answer it exactly as the Summarize
button does. Pure functions over text; English rules of thumb, no parser, no model. Not
handled: follow-ups that point back ("shorter, please"), ordinals ("the second document").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.lexical import fold, mentions
from rag.summaries.length import Length

_POLITE = (r"(?:(?:please|kindly|now|ok(?:ay)?|so|hi|hey|and|then)[,!]?\s+|(?:can|could|would|"
           r"will) you(?: please)?\s+|i(?:'d| would) like(?: you to)?\s+|i (?:want|need)"
           r"(?: you to)?\s+|let'?s\s+)*")
_SUMMARY_NOUN = (r"(?:summary|summaries|overview|synopsis|gist|digest|rundown|recap|tl;?dr|"
                 r"(?:key|main|important) (?:points|ideas|takeaways|facts)|highlights|"
                 r"takeaways)")
_REQUEST = re.compile(
    rf"^{_POLITE}(?:(?:summari[sz]e|sum up|recap)\b"
    rf"|(?:give|write|make|provide|show|get|prepare|produce|draft|create|send)"
    rf"(?: me| us)?\s+(?:(?:a|an|the|some|my)\s+)?(?:[\w-]+\s+){{0,3}}?{_SUMMARY_NOUN}\b"
    rf"|(?:(?:a|an|the)\s+)?(?:[\w-]+\s+){{0,3}}?{_SUMMARY_NOUN}\b(?=\s+(?:of|for|on)\b|\W*$)"
    rf"|what (?:are|were) the {_SUMMARY_NOUN}\b)", re.IGNORECASE)
_ABOUT_DOC = re.compile(
    r"^what(?:'s| is| are)\s+(?P<target>.+?\b(?:article|document|piece|report|text|paper|"
    r"story|commentary|essay|file)s?)\s+(?:all\s+)?about\s*\??$", re.IGNORECASE)

_NUMBERS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty".split())}
_COUNT = re.compile(r"\b(?:in|into|with|as|using|to)?\s*(?:just\s+|only\s+|exactly\s+)?"
                    rf"(?P<n>\d+|{'|'.join(_NUMBERS)}|a)[- ](?:short\s+)?(?P<unit>sentences?|"
                    r"points?|bullets?|bullet[- ]points?|lines?|items?)\b", re.IGNORECASE)
_SHORT = re.compile(r"\b(?:short|shorter|brief|briefly|quick|concise|tl;?dr|one[- ]paragraph|"
                    r"a paragraph|in a nutshell|few sentences|gist)\b", re.IGNORECASE)
_LONG = re.compile(r"\b(?:long|longer|detailed|thorough|full|comprehensive|in[- ]depth|"
                   r"extended|complete)\b", re.IGNORECASE)
_MEDIUM = re.compile(r"\bmedium(?:[- ]length)?\b", re.IGNORECASE)
_BULLETS = re.compile(r"\b(?:points?|bullets?|bullet[- ]points?|list|takeaways|highlights)\b",
                      re.IGNORECASE)
_FOCUS = re.compile(r"\b(?:(?:says?|said|writes?|wrote|tells? us|reports?|argues?|has to say|"
                    r"have to say|mentions?)\s+(?:about|on|regarding)|regarding|concerning|"
                    r"with regard to|(?<!article )(?<!piece )(?<!document )(?<!report )"
                    r"(?:about|on the (?:topic|subject|question|issue) of))\s+(?P<focus>.+)$",
                    re.IGNORECASE)
_DOC_NOUN = (r"(?:articles?|documents?|docs?|pieces?|reports?|texts?|papers?|stor(?:y|ies)|"
             r"commentar(?:y|ies)|op-eds?|essays?|posts?|files?|sources?|analys[ie]s)")
_EVERY = re.compile(rf"^(?:(?:all|both|each|every)(?: of)?(?: (?:the|my|these|those))?"
                    rf"(?: (?:two|three|four|five))?(?: {_DOC_NOUN})?|(?:the|my|these|those)"
                    rf"(?: (?:two|three|four|five))? {_DOC_NOUN}|everything|them|"
                    rf"the (?:whole )?collection|it all|all|(?:it|this|that|the {_DOC_NOUN})|)$",
                    re.IGNORECASE)
_DOCS_ON = re.compile(rf"^(?P<docs>.*\b{_DOC_NOUN})\s+(?:about|on)\s+(?P<focus>.+)$",
                      re.IGNORECASE)
# "what the RUSI author recommends Western governments do": whose view, and which view
_WHAT_SAYS = re.compile(
    r"^(?:what|how|why|whether)\s+(?P<who>.+?)\s+(?P<view>(?:says?|said|recommends?|proposes?|"
    r"suggests?|argues?|thinks?|wants?|believes?|claims?|concludes?|writes?|describes?|"
    r"explains?)\b.*)$", re.IGNORECASE)
_AUTHOR = re.compile(r"(?:[’']s)?\s+(?:authors?|writers?|analysts?|columnists?)$", re.IGNORECASE)
_FILLER = re.compile(r"^(?:of|for|on|from)\s+|\b(?:please|for me|thanks?(?: you)?)\b|"
                     r"[\s,.!?;:]+$", re.IGNORECASE)


@dataclass(frozen=True)
class SummaryIntent:
    """A typed summary request: `names` as the user wrote them (none: every document in
    scope), the length, the focus and whether points were asked for."""

    names: tuple[str, ...] = ()
    length: Length = "auto"
    focus: str = ""
    bullets: bool = False


@dataclass(frozen=True)
class DocRef:
    """What a document can be named by: its file name, its title and its text."""

    name: str
    title: str
    text: str


def _length(text: str) -> tuple[Length, bool]:
    """(length, bullets) asked for in `text`."""
    bullets = bool(_BULLETS.search(text))
    if count := _COUNT.search(text):
        n = count.group("n").lower()
        return (1 if n == "a" else _NUMBERS.get(n) or int(n)), bullets or \
            not count.group("unit").lower().startswith("sentence")
    for pattern, name in ((_MEDIUM, "medium"), (_LONG, "long"), (_SHORT, "short")):
        if pattern.search(text):
            return name, bullets  # type: ignore[return-value]
    return "auto", bullets


def _target(rest: str) -> str:
    """What the request is of, with length words, polite filler and a focus taken out."""
    rest = _COUNT.sub(" ", rest)
    rest = re.sub(rf"{_SHORT.pattern}|{_LONG.pattern}|{_MEDIUM.pattern}|\b(?:summary|of it)\b",
                  " ", rest, flags=re.IGNORECASE)
    while (cleaned := _FILLER.sub("", " ".join(rest.split()))) != rest:
        rest = cleaned
    return re.sub(r"^(?:what|everything)\s+(?=the\b)|\s+(?:says?|said|writes?|tells? us)$",
                  "", rest, flags=re.IGNORECASE).strip()


def _names(target: str) -> tuple[str, ...]:
    """The documents a target names, as written ("the RUSI and Moscow Times pieces" ->
    "the RUSI", "Moscow Times pieces"); none when it means every document in scope."""
    if _EVERY.match(target):
        return ()
    return tuple(p for p in re.split(r"\s*(?:,|&|\band\b)\s*", target) if p)


def _bare(name: str) -> tuple[str, bool]:
    """The name without articles and document nouns, and whether it had such a noun
    ("the RUSI piece" -> RUSI, True); "the article about Ukraine" -> Ukraine, True."""
    topic = re.match(rf"^(?:(?:the|this|that|a|an)\s+)?{_DOC_NOUN}\s+(?:about|on)\s+(.+)$",
                     name, re.IGNORECASE)
    if topic:
        return topic.group(1), True
    bare = re.sub(r"^(?:the|this|that|a|an)\s+|[’']s$", "", name.strip(), flags=re.IGNORECASE)
    without = re.sub(rf"(?:[’']s)?\s+{_DOC_NOUN}$", "", bare, flags=re.IGNORECASE)
    return without.strip(), without != bare

def summary_intent(message: str) -> SummaryIntent | None:
    """The summary a message asks for, or None when it is not a request for one."""
    text = " ".join(message.split())
    about = _ABOUT_DOC.match(text)
    request = _REQUEST.match(text)
    if not (about or request):
        return None
    length, bullets = _length(text)
    if about:
        return SummaryIntent(_names(about.group("target")), "short", "", bullets)
    rest = text[request.end():]
    plural = _DOCS_ON.match(_target(rest))
    # "the documents on X", "both articles about X": every document, on X
    if plural and _EVERY.match(plural.group("docs")) and re.search(
            r"s$|\b(?:all|both|each|every)\b", plural.group("docs"), re.IGNORECASE):
        return SummaryIntent((), length, _target(plural.group("focus")), bullets)
    focus = _FOCUS.search(rest)
    if focus:
        rest = rest[: focus.start()]
    topic = _target(focus.group("focus")) if focus else ""
    view = _WHAT_SAYS.match(rest.strip())
    if view and not topic:  # "what the RUSI author recommends": RUSI's piece, on that
        who = _AUTHOR.sub(" piece", view.group("who"))
        return SummaryIntent(_names(_target(who)), length, _target(view.group("view")), bullets)
    return SummaryIntent(_names(_target(rest)), length, topic, bullets)


def _match(name: str, doc: DocRef) -> tuple[int, int, int]:
    """How strongly a document answers to a name: in its file name or title, times the
    text mentions it as a phrase, whether it mentions every word of it."""
    key = fold(name)
    named = key in fold(doc.name) or (bool(doc.title) and mentions(fold(doc.title), name))
    text = fold(doc.text)
    phrase = len(re.findall(rf"(?<!\w){re.escape(key)}(?!\w)", text))
    return int(named), phrase, int(mentions(text, name))


@dataclass(frozen=True)
class Resolved:
    """Which documents to summarize (None: every one in scope), and on what."""

    docs: list[str] | None
    focus: str


def resolve(intent: SummaryIntent, docs: Sequence[DocRef]) -> Resolved:
    """The documents the intent names, in collection order. A name given with a document
    noun ("the RUSI piece") picks the documents answering to it best; one without ("the
    peacekeeping proposal") picks a document only by its file name or title, and is
    otherwise what to summarize the documents on."""
    chosen: set[str] = set()
    loose: list[str] = []
    # "the RUSI and Moscow Times pieces": the noun at the end names both
    shared_noun = any(_bare(written)[1] for written in intent.names)
    for written in intent.names:
        name, is_document = _bare(written)
        is_document = is_document or shared_noun
        scored = [(_match(name, doc), doc.name) for doc in docs]
        best = max((score for score, _ in scored), default=(0, 0, 0))
        if best[0] or (is_document and best != (0, 0, 0)):
            chosen |= {doc for score, doc in scored if score == best}
        else:
            loose.append(written)
    focus = " and ".join(filter(None, [intent.focus, *loose]))
    return Resolved([d.name for d in docs if d.name in chosen] or None, focus)
