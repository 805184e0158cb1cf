"""Loading files into Documents: the exact text citations will point into.

Reads .txt, .md, .html/.htm and .pdf. The text a reader returns *is* the document's
source text from then on (for HTML and PDF, the extracted text), so every offset stored
later refers to it. It does not chunk, embed or store anything, and it does not clean the
text: boilerplate stays, so offsets stay exact.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rag.errors import CitechatError, UnreadableDocument, UnsupportedFormat
from rag.types import Document

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf")


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data:
        raise UnreadableDocument("binary data, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableDocument(f"not valid UTF-8 text (byte {exc.start})") from None


def _read_text(data: bytes) -> str:
    text = _decode(data)
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f\v" for ch in text[:10_000]):
        raise UnreadableDocument("binary data, not text")
    return text


def _read_html(data: bytes) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode(data), "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "head"]):
        tag.decompose()
    lines = (line.strip() for line in soup.get_text("\n").splitlines())
    return "\n".join(line for line in lines if line)


def _read_pdf(data: bytes) -> str:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise UnreadableDocument("encrypted PDF")
        pages = [page.extract_text() or "" for page in reader.pages]
    except CitechatError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise UnreadableDocument(f"corrupt PDF ({type(exc).__name__})") from None
    return "\n\n".join(page.strip() for page in pages if page.strip())


READERS: dict[str, Callable[[bytes], str]] = {
    ".txt": _read_text,
    ".md": _read_text,
    ".html": _read_html,
    ".htm": _read_html,
    ".pdf": _read_pdf,
}


def parse(name: str, data: bytes, max_bytes: int | None = None) -> Document:
    """A Document named `name` from raw bytes, or a CitechatError saying why not."""
    suffix = Path(name).suffix.lower()
    if suffix not in READERS:
        shown = suffix or "no extension"
        raise UnsupportedFormat(f"unsupported file type ({shown}); citechat reads "
                                + ", ".join(SUPPORTED_SUFFIXES))
    if max_bytes is not None and len(data) > max_bytes:
        raise UnreadableDocument(
            f"too large ({len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB)"
        )
    if not data.strip():
        raise UnreadableDocument("empty file")
    text = READERS[suffix](data)
    if not text.strip():
        raise UnreadableDocument("no text could be extracted")
    return Document(name=name, text=text, content_hash=content_hash(text))


@dataclass(frozen=True)
class Candidate:
    """A file found for ingest, and the name its document will have."""

    path: Path
    name: str


def find_files(paths: list[Path]) -> Iterator[Candidate]:
    """Files under `paths`; a folder's files are named relative to that folder.

    Hidden files and folders are skipped; unsupported files are yielded too, so that the
    ingest report can say why each was left out.
    """
    for root in paths:
        if not root.exists():
            raise CitechatError(f"No such file or folder: {root}")
        if root.is_file():
            yield Candidate(root, root.name)
            continue
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(root)
            if any(part.startswith(".") for part in relative.parts) or not path.is_file():
                continue
            yield Candidate(path, relative.as_posix())


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
