"""Who owns the chats a page shows: a signed-in user, else this browser, else everyone.

With Streamlit's login configured (`st.login`, OIDC in .streamlit/secrets.toml) the
signed-in user owns their chats. Without it each browser gets a random id, kept in a
cookie (`COOKIE`) for a year, which Streamlit hands back in `st.context.cookies` on every
later visit. With `shared_chats` set, everyone shares one list (owner ""). This module
decides and validates; the page reads the cookie and sets it. A cookie is not a login:
anyone who copies it sees that browser's chats.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping

COOKIE = "citechat_browser"
SHARED = ""  # the owner of every chat in shared mode (and of chats saved before owners)
COOKIE_DAYS = 365
_BROWSER_ID = re.compile(r"[0-9a-f]{32}")


def new_browser_id() -> str:
    return secrets.token_hex(16)


def browser_id(cookies: Mapping[str, str]) -> str | None:
    """This browser's id from its cookies; None when absent or not one of ours."""
    value = cookies.get(COOKIE)
    return value if isinstance(value, str) and _BROWSER_ID.fullmatch(value) else None


def owner(shared: bool, user: Mapping[str, object] | None, browser: str) -> str:
    """The owner of the chats shown: "" when shared, "user:<issuer>|<subject>" for a
    signed-in user (`user` is st.user's fields), else "browser:<id>"."""
    if shared:
        return SHARED
    if user and user.get("is_logged_in"):
        who = user.get("sub") or user.get("email")
        if who:
            return f"user:{user.get('iss', '')}|{who}"
    return f"browser:{browser}"


def cookie_script(browser: str) -> str:
    """A script that keeps `browser` (checked: it goes into code) in this browser's cookie."""
    if not _BROWSER_ID.fullmatch(browser):
        raise ValueError("not a browser id")
    age = COOKIE_DAYS * 24 * 3600
    return (f"<script>document.cookie = '{COOKIE}={browser}; max-age={age}; path=/; "
            "SameSite=Strict';</script>")
