"""The one place errors become HTTP responses: JSON in OpenAI's shape,
`{"error": {"message", "type", "code", "param"}}`, with one readable sentence.

citechat's own errors (rag/errors.py) by their type (`STATUS`), a body that is not JSON or
does not fit the schema as 400, an unknown route as 404, anything unforeseen as 500
without its traceback (that goes to the server's log). `install(app)` registers the
handlers; the middlewares (rag/api/middleware.py) answer with `as_response` too.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from rag import errors
from rag.api.protocol import ErrorBody, ErrorResponse

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


def as_response(request: Request | None, exc: Exception) -> JSONResponse:
    """A CitechatError as its status and JSON error."""
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
        return as_response(request, exc.__cause__)
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


def install(app: FastAPI) -> None:
    app.add_exception_handler(errors.CitechatError, as_response)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
