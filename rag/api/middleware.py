"""ASGI middlewares that answer before FastAPI reads a request's body: the API-key check
(so nobody without a key gets a byte parsed) and the body size limit (so an oversized
upload is refused before it is spooled anywhere). Both answer with the API's JSON errors.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from starlette.datastructures import Headers

from rag import errors
from rag.api.failures import as_response
from rag.api.keys import KeyRing

JSON_LIMIT = 8_000_000  # bytes of a JSON request body (a long chat history fits)
FORM_ROOM = 64_000  # bytes of multipart framing allowed beyond the file size limit


class RequireKey:
    """Every HTTP request, except to `open_paths`, carries one of `keys` (when there are
    any): else 401."""

    def __init__(self, app: Any, keys: KeyRing, open_paths: Collection[str] = ()) -> None:
        self.app, self.keys, self.open_paths = app, keys, frozenset(open_paths)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] not in self.open_paths:
            try:
                self.keys.check(Headers(scope=scope).get("authorization"))
            except errors.Unauthorized as exc:
                return await as_response(None, exc)(scope, receive, send)
        await self.app(scope, receive, send)


class BodyLimit:
    """ASGI middleware: a request body over its limit gets 413 (a JSON error) before any
    of it is parsed or stored; a body without a length is counted as it arrives."""

    def __init__(self, app: Any, upload_limit: int) -> None:
        self.app, self.upload_limit = app, upload_limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        upload = scope["method"] == "POST" and scope["path"].rstrip("/") == "/v1/documents"
        limit = self.upload_limit + FORM_ROOM if upload else JSON_LIMIT
        too_large = errors.TooLarge(
            f"The upload is too large: the limit is {self.upload_limit / 1e6:g} MB." if upload
            else f"The request body is too large: the limit is {limit / 1e6:g} MB.")
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return await as_response(None, too_large)(scope, receive, send)
        received = 0

        async def counted():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise too_large
            return message

        await self.app(scope, counted, send)
