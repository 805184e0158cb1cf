"""citechat as an MCP server (the official `mcp` SDK's FastMCP), over stdio or streamable
HTTP: `create_mcp(pipeline)`, run by `citechat mcp [--http]`.

Tools: `search`, `ask`, `summarize`, `list_documents`, `get_passage`, each a typed
function whose docstring is its description and whose structured result carries exact
spans (doc, start, end, pages, text; `source_text(doc)[start:end] == text`). Every
document is a resource, `citechat://documents/<name>`, whose content is the source text
those offsets index. The tools call the same `Pipeline` as the API and the app, each in a
worker thread, so one slow answer never stalls the other sessions of an HTTP server.

Over HTTP the same API keys as `citechat serve` apply (`Authorization: Bearer`), and
without keys it listens on loopback only. Left out: prompts, sampling, and notifying
clients when the collection changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote, unquote

import anyio
from mcp.server.fastmcp import FastMCP
from mcp.server.fastmcp.exceptions import ToolError
from mcp.types import Resource
from pydantic import BaseModel, Field

from rag.api.protocol import Cited, DocumentOut, PassageOut
from rag.config import Settings
from rag.errors import CitechatError, DocumentNotFound
from rag.pipeline import Pipeline
from rag.types import Turn, pages_of

DOCUMENTS = "citechat://documents/"
INSTRUCTIONS = ("citechat answers from a collection of documents and cites the exact "
                "passage behind every claim. Use `ask` for answers with citations, "
                "`search` for the passages themselves, `summarize` for documents, and "
                "quote the citations' text when you rely on them.")
Result = TypeVar("Result")


class Answer(Cited):
    answer: str = Field(description="With [n] markers into `citations`")


class Passages(BaseModel):
    query: str
    passages: list[PassageOut]


class Documents(BaseModel):
    documents: list[DocumentOut]


class Span(BaseModel):
    doc: str
    title: str
    start: int
    end: int
    pages: tuple[int, int] | None
    text: str


class Exchange(BaseModel):
    question: str
    answer: str


class CitechatMCP(FastMCP):
    """FastMCP whose resources are the collection's documents at the time of asking."""

    def __init__(self, pipeline: Pipeline, **options: Any) -> None:
        super().__init__("citechat", instructions=INSTRUCTIONS, **options)
        self.pipeline = pipeline

    async def list_resources(self) -> list[Resource]:
        infos = await anyio.to_thread.run_sync(self.pipeline.documents)
        return [Resource(uri=DOCUMENTS + quote(info.name, safe=""), name=info.name,
                         title=info.title or None, mimeType="text/plain",
                         description=f"{info.chars:,} characters"
                                     + (f", {info.pages} pages" if info.pages else ""))
                for info in infos] + await super().list_resources()


async def _off_loop(work: Callable[[], Result]) -> Result:
    """`work()` in a worker thread; citechat's errors as the tool's error message."""
    try:
        return await anyio.to_thread.run_sync(work)
    except CitechatError as exc:
        raise ToolError(str(exc)) from None


def create_mcp(pipeline: Pipeline, host: str = "127.0.0.1", port: int = 8400) -> CitechatMCP:
    """The MCP server over `pipeline` (`host`/`port` matter only over HTTP)."""
    # stateless: each HTTP request stands alone (no session to keep, nothing sticky)
    mcp = CitechatMCP(pipeline, host=host, port=port, stateless_http=True, log_level="WARNING")

    @mcp.tool()
    async def search(query: str, documents: list[str] | None = None,
                     k: int | None = None) -> Passages:
        """The passages of the documents that best match `query`, best first, each an
        exact span (doc, start, end, pages, text). `documents` limits the search."""
        found = await _off_loop(lambda: pipeline.retrieve(query, k=k, docs=documents))
        return Passages(query=query, passages=[PassageOut.model_validate(p) for p in found])

    @mcp.tool()
    async def ask(question: str, documents: list[str] | None = None,
                  history: list[Exchange] | None = None) -> Answer:
        """Answer `question` from the documents only. The answer has [n] markers; each
        citation is the exact span it points to; `refused` is true when the documents
        don't say. `history` (earlier questions and answers) makes it a follow-up."""
        turns = [Turn(e.question, e.answer) for e in history or []]
        response = await _off_loop(lambda: pipeline.ask(question, turns, documents))
        return Answer.model_validate(response)

    @mcp.tool()
    async def summarize(documents: list[str] | None = None, length: str | int = "auto",
                        focus: str = "", bullets: bool = False) -> Answer:
        """A cited summary of `documents` (all of the collection when none are named).
        `length`: short, medium, long, auto, or a number of sentences; `focus`: only what
        the documents say about this; `bullets`: one point per line."""
        response = await _off_loop(lambda: pipeline.summarize(
            documents, length=length, focus=focus, bullets=bullets))
        return Answer.model_validate(response)

    @mcp.tool()
    async def list_documents() -> Documents:
        """Every document of the collection: name, title, pages, chunks, characters."""
        infos = await _off_loop(pipeline.documents)
        return Documents(documents=[DocumentOut.model_validate(i) for i in infos])

    @mcp.tool()
    async def get_passage(doc: str, start: int, end: int) -> Span:
        """The text of document `doc` between character offsets `start` and `end` (as
        a citation or passage gives them), with its title and pages."""
        return await _off_loop(lambda: _span(pipeline, doc, start, end))

    @mcp.custom_route("/health", methods=["GET"])
    async def health(request: Any) -> Any:
        from starlette.responses import JSONResponse

        return JSONResponse({"status": "ok"})

    @mcp.resource(DOCUMENTS + "{name}", mime_type="text/plain")
    async def document_text(name: str) -> str:
        """A document's source text: the text every citation's offsets index."""
        return await _off_loop(lambda: pipeline.source_text(unquote(name)))

    return mcp


def _span(pipeline: Pipeline, doc: str, start: int, end: int) -> Span:
    text = pipeline.source_text(doc)
    if not 0 <= start < end <= len(text):
        raise CitechatError(f"No span {start}:{end} in {doc!r}: it has {len(text):,} "
                            "characters, and start must be below end.")
    info = pipeline.store.document(doc)
    if info is None:
        raise DocumentNotFound(f"No document named {doc!r} in the collection.")
    return Span(doc=doc, title=info.title, start=start, end=end, text=text[start:end],
                pages=pages_of(info.page_ranges, start, end))


def run(settings: Settings, http: bool = False) -> None:
    """`citechat mcp`: serve over stdio (the default) or streamable HTTP, until stopped."""
    from rag.api.keys import KeyRing
    from rag.api.middleware import RequireKey
    from rag.api.server import check_bind, run_uvicorn, url_of

    keys = KeyRing(settings)
    about_keys = check_bind(settings, keys) if http else ""
    pipeline = Pipeline.build(settings)
    pipeline.retrieve("warm up")
    mcp = create_mcp(pipeline, settings.host, settings.port)
    if not http:
        mcp.run("stdio")
        return
    app = RequireKey(mcp.streamable_http_app(), keys, open_paths=("/health",))
    run_uvicorn(app, settings, f"citechat MCP server on {url_of(settings)}/mcp "
                               f"(streamable HTTP). {about_keys}")
