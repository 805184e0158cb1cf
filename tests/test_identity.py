"""Who owns the chats a page shows (rag/app/identity.py)."""

from __future__ import annotations

import re

import pytest

from rag.app.identity import COOKIE, browser_id, cookie_script, new_browser_id, owner


def test_a_browser_keeps_the_id_in_its_cookie() -> None:
    made = new_browser_id()
    assert made != new_browser_id()
    assert browser_id({COOKIE: made}) == made
    assert re.search(rf"document.cookie = '{COOKIE}={made}; max-age=\d+; path=/",
                     cookie_script(made))


@pytest.mark.parametrize("value", ["", "x" * 32, "'; alert(1); '", "ABC", None])
def test_a_cookie_not_ours_is_no_id(value) -> None:
    assert browser_id({COOKIE: value} if value is not None else {}) is None


def test_no_script_is_made_from_anything_but_an_id() -> None:
    with pytest.raises(ValueError):
        cookie_script("x'; alert(1); '")


@pytest.mark.parametrize(("shared", "user", "expected"), [
    (True, {"is_logged_in": True, "sub": "42", "iss": "https://idp"}, ""),
    (False, {"is_logged_in": True, "sub": "42", "iss": "https://idp"}, "user:https://idp|42"),
    (False, {"is_logged_in": True, "email": "a@example.org"}, "user:|a@example.org"),
    (False, {"is_logged_in": False}, "browser:b1"),
    (False, None, "browser:b1"),
])
def test_owner(shared: bool, user: dict | None, expected: str) -> None:
    assert owner(shared, user, "b1") == expected
