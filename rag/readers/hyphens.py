"""Undoing hyphenation at line ends, judged by the document's own vocabulary.

"signifi-" + "cantly" is joined when "significantly" is printed whole elsewhere in the
document, or when neither fragment is a word of the document; "open-" + "domain" keeps
its hyphen when "open-domain" is printed elsewhere, or when both fragments are words of
the document. No word list is consulted (none ships offline for every language, and
the document's own words cover its terms and names); benchmarks/documents.py measures
the choice. It does not split words or touch hyphens inside a line.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

UNMAPPED = "\ufffe"  # PDFium's character for a glyph it has no Unicode for
LIGATURES = ("ffi", "ff", "fi", "fl", "ffl")
_UNMAPPED_IN_WORD = re.compile(r"([^\W\d_]*)\ufffe([^\W\d_]+)")
_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
LEFT = re.compile(r"([^\W\d_]+)[-\u00ad]$")  # the fragment before a line-end hyphen
RIGHT = re.compile(r"^([^\W\d_]+)")  # the fragment that starts the next line


class Vocabulary:
    """Words and hyphenated compounds printed whole inside lines of a document."""

    def __init__(self, lines: Iterable[tuple[str, bool, bool]]) -> None:
        """`lines`: (text, ends with a line-end hyphen, follows one) for every line."""
        self.words: Counter[str] = Counter()
        self.compounds: Counter[str] = Counter()
        for text, hyphenated, continued in lines:
            tokens = text.split()
            if hyphenated:
                tokens = tokens[:-1]  # a fragment, not a word
            if continued:
                tokens = tokens[1:]
            whole = " ".join(t for t in tokens if UNMAPPED not in t)
            for word in _WORD.findall(whole):
                word = word.lower()
                if "-" in word:
                    self.compounds[word] += 1
                    self.words.update(part for part in word.split("-") if part)
                else:
                    self.words[word] += 1

    def spell(self, text: str) -> str:
        """`text` with each unmapped glyph inside a word read as the ligature that makes
        it a word of the document (else as "ffi", the ligature fonts most often leave
        unmapped once "ff" and "fi" are mapped), and any other left out."""
        def ligature(match: re.Match[str]) -> str:
            before, after = match.group(1), match.group(2)
            spelt = next((f"{before}{lig}{after}" for lig in LIGATURES
                          if self.words[f"{before}{lig}{after}".lower()]), None)
            return spelt or f"{before}ffi{after}"

        return _UNMAPPED_IN_WORD.sub(ligature, text).replace(UNMAPPED, "")

    def joins(self, left: str, right: str) -> bool:
        """Whether `left`- at a line end and `right` on the next line are one word."""
        left, right = left.lower(), right.lower()
        whole, compound = self.words[left + right], self.compounds[f"{left}-{right}"]
        if whole or compound:
            return whole >= compound
        both_words = self.words[left] > 0 and self.words[right] > 0 and len(left) > 1
        return not both_words


def glue(before: str, after: str, hyphenated: bool, vocabulary: Vocabulary) -> tuple[int, str]:
    """How two printed lines of a paragraph join: (characters to drop from the end of
    `before`, text to put between). A space, or nothing where a line-end hyphen splits a
    word, the hyphen dropped where the two fragments are one word."""
    left, right = LEFT.search(before), RIGHT.match(after)
    if not hyphenated or left is None:
        return 0, " "
    if right is not None and not right.group(1)[0].isupper() \
            and vocabulary.joins(left.group(1), right.group(1)):
        return 1, ""
    return 0, ""
