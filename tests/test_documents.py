from __future__ import annotations

import pytest

from rag.documents import find_files, parse, safe_name
from rag.errors import UnreadableDocument, UnsupportedFormat

from conftest import pdf_with_text


def test_text_is_kept_exactly_including_non_breaking_spaces() -> None:
    data = "Caf\u00e9\u00a0society.\r\nLine two.".encode()
    assert parse("a.txt", data).text == "Caf\u00e9\u00a0society.\r\nLine two."


def test_utf16_with_bom_is_read() -> None:
    assert parse("a.md", "\ufeffHello there".encode("utf-16")).text.endswith("Hello there")


def test_html_keeps_text_and_drops_scripts() -> None:
    html = b"<html><head><title>t</title><script>alert(1)</script></head>" \
           b"<body><h1>Heading</h1><p>Body <b>text</b>.</p></body></html>"
    text = parse("page.html", html).text
    assert "alert" not in text and "Heading" in text and "Body" in text


def test_pdf_text_is_extracted() -> None:
    pdf = pdf_with_text("Peacekeepers in Ukraine")
    assert "Peacekeepers in Ukraine" in parse("r.pdf", pdf).text


@pytest.mark.parametrize(
    ("name", "data", "error", "words"),
    [
        ("a.exe", b"MZ", UnsupportedFormat, "unsupported file type (.exe)"),
        ("noext", b"text", UnsupportedFormat, "no extension"),
        ("a.txt", b"", UnreadableDocument, "empty"),
        ("a.txt", b"  \n\t ", UnreadableDocument, "empty"),
        ("a.txt", b"\x00\x01\x02binary", UnreadableDocument, "binary"),
        ("a.txt", b"caf\xe9 latin-1", UnreadableDocument, "UTF-8"),
        ("a.pdf", b"%PDF-1.4 garbage", UnreadableDocument, "PDF"),
        ("a.html", b"<script>only()</script>", UnreadableDocument, "no text"),
    ],
)
def test_bad_files_get_one_clear_reason(name: str, data: bytes, error: type, words: str) -> None:
    with pytest.raises(error) as caught:
        parse(name, data)
    assert words in str(caught.value) and "\n" not in str(caught.value)


def test_size_limit() -> None:
    with pytest.raises(UnreadableDocument, match="too large"):
        parse("a.txt", b"x" * 2000, max_bytes=1000)


def test_folder_names_are_relative_and_hidden_files_skipped(tmp_path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.md").write_text("b")
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / ".hidden.txt").write_text("h")
    names = [c.name for c in find_files([tmp_path])]
    assert names == ["a.txt", "sub/b.md"]


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("../../etc/passwd.txt", "passwd.txt"), ("..\\evil.md", "evil.md"),
     ("a b.pdf", "a b.pdf"), ("x\x00y.txt", "xy.txt"), (".hidden.md", "hidden.md"),
     ("", "upload"), ("rm -rf $(x).txt", "rm -rf _x_.txt")],
)
def test_safe_name(raw: str, clean: str) -> None:
    assert safe_name(raw) == clean


@pytest.mark.parametrize(("name", "data", "title"), [
    ("a.md", b"Intro words here\n\n# The Real Heading\n\nBody.", "The Real Heading"),
    ("a.txt", b"Printable version\n\nHarbour Board Approves Dredging Plan\n\nBody text.",
     "Harbour Board Approves Dredging Plan"),
    ("a.html", b"<html><head><title>Page title</title></head><body><h1>H</h1>x y z</body>",
     "Page title"),
    ("a.html", b"<body><h1>Only a heading</h1><p>Some body text here.</p></body>",
     "Only a heading"),
])
def test_titles(name: str, data: bytes, title: str) -> None:
    assert parse(name, data).title == title


def test_the_seeds_show_their_headlines() -> None:
    from conftest import GENEVA, RUSI, SEEDS

    titles = {name: parse(name, (SEEDS / name).read_bytes()).title for name in (RUSI, GENEVA)}
    assert titles == {RUSI: "Russian–Western Dialogue: All Thoughts, No Action",
                      GENEVA: "Russia and West Continue to Talk, But Not Necessarily in the "
                              "Same Language"}
