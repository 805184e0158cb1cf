"""The FastAPI app: `create_app(pipeline)` wires the routers, the API-key check and the
one place errors become HTTP responses.

Every error leaves as JSON in OpenAI's shape, `{"error": {"message", "type", "code"}}`,
with one readable sentence: citechat's own errors (rag/errors.py) by their type, a body
that is not JSON or does not fit the schema as 400, an unknown route as 404, a body over
its limit as 413, anything unforeseen as 500 without its traceback (that goes to the log).

Handlers are plain `def`s on purpose: FastAPI runs them in its thread pool, so a question
being answered (CPU in onnxruntime) or an upload waiting for the store's file lock never
blocks the event loop that accepts the other requests.
"""

from __future__ import annotations

import logging

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException

from rag import errors
from rag.api import routes_chat, routes_documents, routes_search
from rag.api.deps import Services, require_key
from rag.api.keys import KeyRing
from rag.api.protocol import ErrorBody, ErrorResponse
from rag.pipeline import Pipeline

JSON_LIMIT = 8_000_000  # bytes of a JSON request body (a long chat history fits)
FORM_ROOM = 64_000  # bytes of multipart framing allowed beyond the file size limit
log = logging.getLogger("citechat.api")

# error type -> (HTTP status, OpenAI error type, code); looked up along the type's MRO
STATUS: dict[type[errors.CitechatError], tuple[int, str, str | None]] = {
    errors.Unauthorized: (401, "authentication_error", "invalid_api_key"),
    errors.DocumentNotFound: (404, "invalid_request_error", "document_not_found"),
    errors.UnknownModel: (404, "invalid_request_error", "model_not_found"),
    errors.TooLarge: (413, "invalid_request_error", "too_large"),
    errors.UnsupportedFormat: (415, "invalid_request_error", "unsupported_format"),
    errors.UnreadableDocument: (422, "invalid_request_error", "unreadable_document"),
    errors.StoreBusy: (503, "server_error", "store_busy"),
    errors.StoreUnavailable: (503, "server_error", "store_unavailable"),
    errors.ModelUnavailable: (503, "server_error", "model_unavailable"),
    errors.EmbeddingMismatch: (500, "server_error", "embedding_mismatch"),
    errors.ConfigError: (500, "server_error", "config_error"),
    errors.CitechatError: (400, "invalid_request_error", "invalid_request"),
}
HTTP_CODES = {400: "invalid_request", 401: "invalid_api_key", 404: "not_found",
              405: "method_not_allowed", 413: "too_large"}


def error_response(status: int, message: str, kind: str, code: str | None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body = ErrorResponse(error=ErrorBody(message=message, type=kind, code=code))
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def _citechat_error(request: Request, exc: Exception) -> JSONResponse:
    status, kind, code = next(STATUS[t] for t in type(exc).__mro__ if t in STATUS)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if isinstance(exc, errors.StoreBusy):
        headers = {"Retry-After": "5"}
    return error_response(status, str(exc), kind, code, headers)


def _invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    if first.get("type") == "json_invalid":
        reason = first.get("ctx", {}).get("error", "")
        message = f"The request body is not valid JSON ({reason} at character {first['loc'][-1]})."
    else:
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
        message = f"Invalid request: {where}: {first.get('msg', 'invalid')}."
    return error_response(400, message, "invalid_request_error", "invalid_request")


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if isinstance(exc.__cause__, errors.TooLarge):  # FastAPI's wrapping of BodyLimit's error
        return _citechat_error(request, exc.__cause__)
    message = str(exc.detail)
    if isinstance(exc.__cause__, UnicodeDecodeError):
        message = "The request body is not valid JSON: it is not UTF-8 text."
    elif exc.status_code == 404:
        message = f"No such route: {request.method} {request.url.path}."
    kind = "invalid_request_error" if exc.status_code < 500 else "server_error"
    return error_response(exc.status_code, message, kind, HTTP_CODES.get(exc.status_code),
                          dict(exc.headers or {}))


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(500, f"Internal error ({type(exc).__name__}); the server's log "
                          "has the details.", "server_error", "internal_error")


class BodyLimit:
    """ASGI middleware: a request body over its limit gets 413 (a JSON error) before any
    of it is parsed or stored; a body without a length is counted as it arrives."""

    def __init__(self, app, upload_limit: int) -> None:
        self.app, self.upload_limit = app, upload_limit

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        upload = scope["method"] == "POST" and scope["path"].rstrip("/") == "/v1/documents"
        limit = self.upload_limit + FORM_ROOM if upload else JSON_LIMIT
        too_large = errors.TooLarge(
            f"The upload is too large: the limit is {self.upload_limit / 1e6:g} MB." if upload
            else f"The request body is too large: the limit is {limit / 1e6:g} MB.")
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return await _citechat_error(Request(scope), too_large)(scope, receive, send)
        received = 0

        async def counted():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise too_large
            return message

        await self.app(scope, counted, send)


def create_app(pipeline: Pipeline, keys: KeyRing | None = None) -> FastAPI:
    """The API over `pipeline`, requiring one of `keys` on every /v1 route when there are
    any (default: the keys of the pipeline's settings and data directory)."""
    app = FastAPI(title="citechat", version="1",
                  summary="Answers and summaries over your documents, every claim cited "
                          "to an exact span. OpenAI-compatible chat, REST for documents.")
    app.state.services = Services(pipeline, keys or KeyRing(pipeline.settings))
    app.add_exception_handler(errors.CitechatError, _citechat_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
    app.add_middleware(BodyLimit, upload_limit=pipeline.max_bytes)
    guarded = [Depends(require_key)]
    app.include_router(routes_chat.router, dependencies=guarded)
    app.include_router(routes_documents.router, dependencies=guarded)
    app.include_router(routes_search.router, dependencies=guarded)

    @app.get("/health", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
