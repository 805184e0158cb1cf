"""Loading files into Documents: the exact text citations will point into.

Reads .txt, .md, .html/.htm and .pdf. The text a reader returns *is* the document's
source text from then on (for HTML and PDF, the extracted text), so every offset stored
later refers to it. It does not chunk, embed or store anything, and it does not clean the
text: boilerplate stays, so offsets stay exact.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from rag.chunking import title_of
from rag.errors import CitechatError, UnreadableDocument, UnsupportedFormat
from rag.types import Document, Extracted

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf")


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


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


def _decode(data: bytes) -> str:
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


def _read_text(data: bytes) -> Extracted:
    text = _decode(data)
    if control := _CONTROL.search(text):
        raise UnreadableDocument(
            f"binary data, not text (control character U+{ord(control.group()):04X} "
            f"at character {control.start()})")
    return Extracted(text)


def _read_html(data: bytes) -> Extracted:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode(data), "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "head"]):
        tag.decompose()
    lines = (line.strip() for line in soup.get_text("\n").splitlines())
    return Extracted("\n".join(line for line in lines if line))


def _read_pdf(data: bytes) -> Extracted:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    # pypdf logs each repair it attempts on a broken file; the ingest report says it once
    log = logging.getLogger("pypdf")
    level = log.level
    log.setLevel(logging.CRITICAL + 1)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise UnreadableDocument("encrypted PDF")
        pages = [page.extract_text() or "" for page in reader.pages]
    except CitechatError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise UnreadableDocument(f"corrupt PDF ({type(exc).__name__})") from None
    finally:
        log.setLevel(level)
    return _joined_pages([page.strip() for page in pages])


def _joined_pages(pages: list[str]) -> Extracted:
    """The pages' texts joined by blank lines, with each page's character range (an
    empty page is an empty range where it falls)."""
    text, ranges = "", []
    for page in pages:
        if text and page:
            text += "\n\n"
        ranges.append((len(text), len(text) + len(page)))
        text += page
    return Extracted(text, pages=tuple(ranges))


READERS: dict[str, Callable[[bytes], Extracted]] = {
    ".txt": _read_text,
    ".md": _read_text,
    ".html": _read_html,
    ".htm": _read_html,
    ".pdf": _read_pdf,
}


def _reader(name: str) -> Callable[[bytes], Extracted]:
    suffix = Path(name).suffix.lower()
    if suffix not in READERS:
        shown = suffix or "no extension"
        raise UnsupportedFormat(f"unsupported file type ({shown}); citechat reads "
                                + ", ".join(SUPPORTED_SUFFIXES))
    return READERS[suffix]


def _too_large(size: int, max_bytes: int) -> UnreadableDocument:
    return UnreadableDocument(f"too large ({size:,} bytes; the limit is {max_bytes / 1e6:g} MB)")


def parse(name: str, data: bytes, max_bytes: int | None = None) -> Document:
    """A Document named `name` from raw bytes, or a CitechatError saying why not."""
    reader = _reader(name)
    if max_bytes is not None and len(data) > max_bytes:
        raise _too_large(len(data), max_bytes)
    if not data.strip():
        raise UnreadableDocument("empty file")
    try:
        extracted = reader(data)
    except CitechatError:
        raise
    except Exception as exc:  # parsers of hostile files fail in ways nobody lists
        raise UnreadableDocument(f"cannot be read ({type(exc).__name__})") from None
    text = extracted.text
    if not text.strip():
        raise UnreadableDocument("no text could be extracted")
    document = Document(name=name, text=text, content_hash=content_hash(text),
                        pages=extracted.pages, furniture=extracted.furniture)
    return replace(document, title=extracted.title or title_of(document))


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


def load(candidate: Candidate, max_bytes: int | None = None) -> Document:
    """The candidate's Document, or a CitechatError saying why not. A file over
    `max_bytes` is refused without being read whole."""
    if candidate.problem:
        raise UnreadableDocument(candidate.problem)
    _reader(candidate.name)
    with candidate.path.open("rb") as file:
        data = file.read() if max_bytes is None else file.read(max_bytes + 1)
        if max_bytes is not None and len(data) > max_bytes:
            raise _too_large(os.fstat(file.fileno()).st_size, max_bytes)
    return parse(candidate.name, data, max_bytes)


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
