"""Word files (.docx) with python-docx: paragraphs, headings and tables, in document order.

Each paragraph is one line; a heading is a paragraph of its own between blank lines; a
table is one line per row, cells separated by " | " (a merged cell once), nested tables
after their row. The text is built here, so offsets point into it. The title is the
file's Title property, else its first Title or Heading paragraph, else its first line.
Refused with a reason: macro-enabled files (.docm, or a vbaProject part), encrypted
files (an OLE container holding EncryptionInfo), Word 97-2003 files renamed .docx,
corrupt archives and archives that unpack to more than UNPACKED_LIMIT bytes. Headers,
footers, footnotes, comments and text boxes are left out, as are pictures.
"""

from __future__ import annotations

import io
import zipfile

from rag.chunking import first_line_title
from rag.errors import UnreadableDocument
from rag.readers.text import TITLE_CHARS
from rag.render import short
from rag.types import Extracted

UNPACKED_LIMIT = 200_000_000
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")


def _check_container(data: bytes) -> zipfile.ZipFile:
    if data.startswith(_OLE_MAGIC):
        if _ENCRYPTION_INFO in data:
            raise UnreadableDocument("encrypted Word file (it needs a password)")
        raise UnreadableDocument("a Word 97-2003 file (.doc), not .docx: save it as .docx")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise UnreadableDocument("corrupt Word file (not a .docx archive)") from None
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise UnreadableDocument("contains macros (vbaProject.bin); citechat does not read "
                                 "macro-enabled Word files")
    if sum(info.file_size for info in archive.infolist()) > UNPACKED_LIMIT:
        raise UnreadableDocument(f"unpacks to over {UNPACKED_LIMIT // 1_000_000} MB")
    if "word/document.xml" not in names:
        raise UnreadableDocument("corrupt Word file (no word/document.xml)")
    return archive


def _table_lines(table) -> list[str]:
    lines: list[str] = []
    for row in table.rows:
        cells, seen, nested = [], set(), []
        for cell in row.cells:
            if id(cell._tc) in seen:  # a merged cell is listed once per grid column
                continue
            seen.add(id(cell._tc))
            cells.append(" ".join(p.text.strip() for p in cell.paragraphs if p.text.strip()))
            nested += [line for inner in cell.tables for line in _table_lines(inner)]
        if any(cells):
            lines.append(" | ".join(" ".join(c.split()) for c in cells))
        lines += nested
    return lines


def _is_heading(paragraph) -> bool:
    name = (paragraph.style.name if paragraph.style is not None else "") or ""
    return name.startswith(("Heading", "Title"))


def _blocks(document) -> list[tuple[str, bool]]:
    """(text, is a heading) of the body's paragraphs and table rows, in order."""
    from docx.table import Table

    blocks: list[tuple[str, bool]] = []
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            blocks += [(line, False) for line in _table_lines(item)]
        elif text := item.text.replace("\r", "\n").strip():
            blocks.append((text, _is_heading(item)))
    return blocks


def read_docx(data: bytes) -> Extracted:
    import docx
    from lxml.etree import LxmlError

    _check_container(data)
    try:
        document = docx.Document(io.BytesIO(data))
        blocks = _blocks(document)
        property_title = (document.core_properties.title or "").strip()
    except (KeyError, ValueError, LxmlError, zipfile.BadZipFile) as exc:
        raise UnreadableDocument(f"corrupt Word file ({type(exc).__name__})") from None
    parts: list[str] = []
    for i, (text, heading) in enumerate(blocks):
        if i:
            parts.append("\n\n" if heading or blocks[i - 1][1] else "\n")
        parts.append(text)
    text = "".join(parts)
    heading_title = next((t for t, heading in blocks if heading), "")
    title = property_title or heading_title or first_line_title(text, TITLE_CHARS)
    return Extracted(text, short(title, TITLE_CHARS))
