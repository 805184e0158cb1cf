"""Plain text and Markdown: the bytes decoded as they are, so offsets are the file's own.

UTF-8 (with or without a byte order mark) and UTF-16 (with a mark, or without one when
the text is mostly ASCII) are read; anything else, and text holding control characters
(binary data, terminal escapes), is refused with a reason. The title is a Markdown
document's first heading, else the first line of three or more words that is not page
furniture. Nothing is cleaned: the text is stored exactly as read.
"""

from __future__ import annotations

import re

from rag.chunking import first_line_title
from rag.errors import UnreadableDocument
from rag.render import short
from rag.types import Extracted


def _utf16_without_bom(data: bytes) -> str | None:
    """"utf-16-le" or "utf-16-be" when `data` looks like UTF-16 text written without a
    byte order mark (mostly ASCII, so every other byte is zero), else None."""
    head = data[:4096]
    pairs = len(head) // 2
    if len(data) % 2 or pairs < 2:
        return None
    low_zero, high_zero = head[0::2].count(0), head[1::2].count(0)
    if high_zero >= 0.6 * pairs and low_zero <= 0.05 * pairs:
        return "utf-16-le"
    if low_zero >= 0.6 * pairs and high_zero <= 0.05 * pairs:
        return "utf-16-be"
    return None


def decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    elif b"\x00" in data:
        encoding = _utf16_without_bom(data)
        if encoding is None:
            raise UnreadableDocument("binary data, not text")
    else:
        encoding = "utf-8-sig"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        shown = "UTF-8" if encoding == "utf-8-sig" else "UTF-16"
        raise UnreadableDocument(f"not valid {shown} text (byte {exc.start})") from None


# C0 and C1 controls other than \t \n \v \f \r: binary data, or terminal escape sequences
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_MARKDOWN_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
TITLE_CHARS = 150


def read_text(data: bytes) -> Extracted:
    text = decode(data)
    if control := _CONTROL.search(text):
        raise UnreadableDocument(
            f"binary data, not text (control character U+{ord(control.group()):04X} "
            f"at character {control.start()})")
    return Extracted(text, first_line_title(text, TITLE_CHARS))


def read_markdown(data: bytes) -> Extracted:
    read = read_text(data)
    heading = _MARKDOWN_HEADING.search(read.text[:5000])
    if heading is None:
        return read
    title = short(re.sub(r"[*_`]+", "", heading.group(1)), TITLE_CHARS)
    return Extracted(read.text, title or read.title)
