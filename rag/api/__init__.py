"""citechat as a service: an OpenAI-compatible chat API whose replies keep their
citations, REST for the collection, API keys (`create_app`, rag/api/app.py); the MCP
server is rag/mcp_server.py. FastAPI is imported on first use of `create_app`, so the
`citechat` command, which registers `serve` from here, stays quick to start."""

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from rag.api.app import create_app

        return create_app
    raise AttributeError(name)
