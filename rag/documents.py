"""Loading files into Documents: the exact text citations will point into.

Picks the format reader by file type (rag/readers/: .txt, .md, .html/.htm, .pdf, .docx),
enforces the size limit, and turns every failure into a one-line reason. The text a
reader returns *is* the document's source text from then on (for HTML, PDF and Word,
the extracted text), so every offset stored later refers to it; its title and page
ranges travel with it. It does not chunk, embed or store anything, and it removes
nothing: boilerplate and page furniture stay (marked, not cut), so offsets stay exact.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rag.errors import CitechatError, UnreadableDocument, UnsupportedFormat
from rag.readers.docx import read_docx
from rag.readers.html import read_html
from rag.readers.pdf import read_pdf
from rag.readers.text import read_markdown, read_text
from rag.types import Document, Extracted

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf", ".docx")


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


READERS: dict[str, Callable[..., Extracted]] = {
    ".txt": read_text,
    ".md": read_markdown,
    ".html": read_html,
    ".htm": read_html,
    ".pdf": read_pdf,
    ".docx": read_docx,
}
# types refused by name, with the reason (checked before the file is read)
REFUSED = {".docm": "a macro-enabled Word file (.docm); citechat does not read macros: "
                    "save it as .docx",
           ".doc": "a Word 97-2003 file (.doc): save it as .docx"}
# kept after ingest, so that a citation can show the page it is printed on (rag/pages.py)
KEEP_ORIGINAL = frozenset({".pdf"})


@dataclass(frozen=True)
class Loaded:
    """A file read for ingest: its Document, the ranges of its page furniture, and the
    file's bytes when they are kept (PDFs: citations show their pages)."""

    document: Document
    furniture: tuple[tuple[int, int], ...] = ()
    original: bytes | None = None


def _reader(name: str) -> Callable[..., Extracted]:
    suffix = Path(name).suffix.lower()
    if suffix in REFUSED:
        raise UnsupportedFormat(REFUSED[suffix])
    if suffix not in READERS:
        shown = suffix or "no extension"
        raise UnsupportedFormat(f"unsupported file type ({shown}); citechat reads "
                                + ", ".join(SUPPORTED_SUFFIXES))
    return READERS[suffix]


def _too_large(size: int, max_bytes: int) -> UnreadableDocument:
    return UnreadableDocument(f"too large ({size:,} bytes; the limit is {max_bytes / 1e6:g} MB)")


def read(name: str, data: bytes, max_bytes: int | None = None,
         on_page: Callable[[int, int], None] | None = None) -> Loaded:
    """The file `name` read from raw bytes, or a CitechatError saying why not.
    `on_page(done, total)` follows a paged document's reading."""
    reader = _reader(name)
    if max_bytes is not None and len(data) > max_bytes:
        raise _too_large(len(data), max_bytes)
    if not data.strip():
        raise UnreadableDocument("empty file")
    try:
        extracted = reader(data, on_page) if reader is read_pdf else reader(data)
    except CitechatError:
        raise
    except Exception as exc:  # parsers of hostile files fail in ways nobody lists
        raise UnreadableDocument(f"cannot be read ({type(exc).__name__})") from None
    if not extracted.text.strip():
        raise UnreadableDocument("no text could be extracted")
    text = extracted.text
    document = Document(name=name, text=text, content_hash=content_hash(text),
                        title=extracted.title, pages=extracted.pages)
    keep = Path(name).suffix.lower() in KEEP_ORIGINAL
    return Loaded(document, extracted.furniture, data if keep else None)


def parse(name: str, data: bytes, max_bytes: int | None = None) -> Document:
    """A Document named `name` from raw bytes, or a CitechatError saying why not."""
    return read(name, data, max_bytes).document


@dataclass(frozen=True)
class Candidate:
    """A file found for ingest, the name its document will have, and why it cannot be
    ingested when that is known before reading it."""

    path: Path
    name: str
    problem: str = ""


# bidirectional embeddings, overrides and isolates: they make a name display as another
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _candidate(path: Path, name: str, root: Path | None = None) -> Candidate:
    """A Candidate whose name is safe to store and print: names with control characters
    or bytes that are not UTF-8 are shown escaped and refused."""
    shown, problem = "", ""
    for ch in name:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, as os.fsdecode keeps it
            shown += f"\\x{code - 0xDC00:02x}"
            problem = problem or "file name is not valid UTF-8; rename the file"
        elif unicodedata.category(ch) in ("Cc", "Cs") or ch in _BIDI:
            shown += f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
            problem = problem or "file name contains control characters; rename the file"
        else:
            shown += ch
    if problem or root is None:
        pass
    elif path.is_symlink() and not path.exists():
        problem = "broken symbolic link"
    elif path.is_symlink() and not path.resolve().is_relative_to(root.resolve()):
        problem = "symbolic link to a file outside the folder"
    elif not path.is_file():
        problem = "not a regular file"
    return Candidate(path, shown, problem)


def find_files(paths: list[Path]) -> Iterator[Candidate]:
    """Files under `paths`; a folder's files are named relative to that folder.

    Hidden files and folders are skipped; unsupported files, names that cannot be stored
    and links out of the folder are yielded too, so that the ingest report can say why
    each was left out.
    """
    for root in paths:
        if not root.exists():
            raise CitechatError(f"No such file or folder: {root}")
        if root.is_file():
            yield _candidate(root, root.name)
            continue
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(root)
            if any(part.startswith(".") for part in relative.parts) or path.is_dir():
                continue
            yield _candidate(path, relative.as_posix(), root)


def load(candidate: Candidate, max_bytes: int | None = None,
         on_page: Callable[[int, int], None] | None = None) -> Loaded:
    """The candidate read, or a CitechatError saying why not. A file over `max_bytes` is
    refused without being read whole."""
    if candidate.problem:
        raise UnreadableDocument(candidate.problem)
    _reader(candidate.name)
    with candidate.path.open("rb") as file:
        data = file.read() if max_bytes is None else file.read(max_bytes + 1)
        if max_bytes is not None and len(data) > max_bytes:
            raise _too_large(os.fstat(file.fileno()).st_size, max_bytes)
    return read(candidate.name, data, max_bytes, on_page)


_UNSAFE = re.compile(r"[^\w.\- ]+", re.UNICODE)


def safe_name(filename: str) -> str:
    """A document name for an uploaded file: its base name, with no path, control or
    shell-special characters; never empty, never hidden."""
    base = unicodedata.normalize("NFC", filename).replace("\\", "/").split("/")[-1]
    cleaned = _UNSAFE.sub("_", "".join(ch for ch in base if ch.isprintable())).strip(" .")
    stem, dot, suffix = cleaned.rpartition(".")
    if not stem:
        return f"upload.{suffix}" if dot else (cleaned or "upload")
    return cleaned[:200]
