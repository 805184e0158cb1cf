"""The FastAPI app: `create_app(pipeline)` wires the routers, the API-key check, the body
limit and the error handlers (rag/api/failures.py) around one shared pipeline, and the
MCP server's streamable-HTTP endpoint at /mcp (rag/mcp_server.py), over the same
pipeline and behind the same keys, so one process serves both.

Handlers are plain `def`s on purpose: FastAPI runs them in its thread pool, so a question
being answered (CPU in onnxruntime) or an upload waiting for the store's file lock never
blocks the event loop that accepts the other requests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from rag.api import failures, routes_chat, routes_documents, routes_search
from rag.api.deps import Services, bearer
from rag.api.keys import KeyRing
from rag.api.middleware import BodyLimit, RequireKey
from rag.pipeline import Pipeline

OPEN_PATHS = ("/health", "/docs", "/docs/oauth2-redirect", "/openapi.json", "/redoc")


def create_app(pipeline: Pipeline, keys: KeyRing | None = None) -> FastAPI:
    """The API over `pipeline`, requiring one of `keys` on every route but the health
    check and the OpenAPI pages, when there are any (default: the keys of the pipeline's
    settings and data directory)."""
    from rag.mcp_server import create_mcp

    keys = keys or KeyRing(pipeline.settings)
    mcp = create_mcp(pipeline, pipeline.settings.host, pipeline.settings.port)
    mcp_routes = mcp.streamable_http_app().routes  # POST/GET/DELETE /mcp

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with mcp.session_manager.run():
            yield

    app = FastAPI(title="citechat", version="1", lifespan=lifespan,
                  summary="Answers and summaries over your documents, every claim cited "
                          "to an exact span. OpenAI-compatible chat, REST for documents; "
                          "MCP (streamable HTTP) at /mcp.")
    app.state.services = Services(pipeline)
    failures.install(app)
    app.add_middleware(BodyLimit, upload_limit=pipeline.max_bytes)
    app.add_middleware(RequireKey, keys=keys, open_paths=OPEN_PATHS)  # outermost: first
    documented = [Depends(bearer)]  # the key on the OpenAPI page; RequireKey checks it
    for router in (routes_chat.router, routes_documents.router, routes_search.router):
        app.include_router(router, dependencies=documented)
    app.router.routes.extend(route for route in mcp_routes if route.path == "/mcp")

    @app.get("/health", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
