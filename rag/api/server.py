"""Running a server: the bind policy, the line said at start, and uvicorn.

Without API keys a server listens on loopback only (a non-loopback host is refused with
one line saying how to add keys), so an open API is never reachable from the network by
accident. Shared by `citechat serve` and `citechat mcp --http`.
"""

from __future__ import annotations

import ipaddress
import sys

from rag.api.keys import KeyRing
from rag.config import Settings
from rag.errors import ConfigError

ADD_KEYS = "set CITECHAT_API_KEYS or run `citechat keys create`"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve anywhere
        return False


def check_bind(settings: Settings, keys: KeyRing) -> str:
    """The start-up line about keys, or ConfigError for an open non-loopback host."""
    if keys.required:
        return "API keys required: send 'Authorization: Bearer <key>'."
    if not is_loopback(settings.host):
        raise ConfigError(f"Refusing to serve on {settings.host} without API keys: "
                          f"{ADD_KEYS}, or serve on 127.0.0.1.")
    return f"No API keys: serving on this machine only ({ADD_KEYS} to serve beyond it)."


def url_of(settings: Settings) -> str:
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return f"http://{host}:{settings.port}"


def run_uvicorn(app, settings: Settings, said: str) -> None:
    import uvicorn

    print(said, file=sys.stderr, flush=True)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info",
                timeout_graceful_shutdown=5)


def serve(settings: Settings) -> None:
    """`citechat serve`: the API over the pipeline of these settings, until stopped."""
    from rag.api.app import create_app
    from rag.pipeline import Pipeline

    keys = KeyRing(settings)
    about_keys = check_bind(settings, keys)  # before anything slow is loaded
    pipeline = Pipeline.build(settings)
    app = create_app(pipeline, keys)
    pipeline.retrieve("warm up")  # the embedder and the indexes loaded before the 1st request
    url = url_of(settings)
    run_uvicorn(app, settings, f"citechat API on {url}/v1 (docs: {url}/docs; MCP: {url}/mcp), "
                               f"engine {settings.engine}. {about_keys}")
