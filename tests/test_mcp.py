"""`citechat mcp` through the MCP SDK's own clients: a stdio session (the way Claude
Desktop and other MCP clients run it) and a streamable-HTTP session with an API key,
each over a copy of the seeded store.

Lists the tools and the document resources, calls `ask`, `search`, `summarize`,
`list_documents` and `get_passage`, and checks every span returned slices the document's
text as its resource serves it; an unknown document is a tool error, not a crash.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

from api_server import clean_env, running_api
from app_server import ROOT
from conftest import GENEVA, RUSI

TOOLS = {"search", "ask", "summarize", "list_documents", "get_passage"}
QUESTION = "Who represented the United States at the Geneva talks?"
KEY = "mcp-test-key"


async def structured(session: ClientSession, tool: str, **arguments: Any) -> dict:
    result = await session.call_tool(tool, arguments)
    assert not result.isError, result.content
    return result.structuredContent


async def check_spans(session: ClientSession, spans: list[dict]) -> None:
    """Each span slices its document's text as the document's resource serves it."""
    texts: dict[str, str] = {}
    for span in spans:
        if span["doc"] not in texts:
            read = await session.read_resource(f"citechat://documents/{span['doc']}")
            texts[span["doc"]] = read.contents[0].text
        assert texts[span["doc"]][span["start"]:span["end"]] == span["text"], span


async def stdio_scenario(data: Path, log: Path) -> dict:
    server = StdioServerParameters(command=sys.executable, args=["-m", "rag", "mcp"],
                                   env=clean_env(data), cwd=ROOT)
    with log.open("w") as errors:
        async with stdio_client(server, errlog=errors) as (read, write), \
                ClientSession(read, write) as session:
            await session.initialize()
            tools = {tool.name: tool for tool in (await session.list_tools()).tools}
            resources = (await session.list_resources()).resources
            answer = await structured(session, "ask", question=QUESTION)
            found = await structured(session, "search", query=QUESTION, k=3)
            summary = await structured(session, "summarize", documents=[RUSI], length=3)
            listed = await structured(session, "list_documents")
            cited = answer["citations"][0]
            passage = await structured(session, "get_passage", doc=cited["doc"],
                                       start=cited["start"], end=cited["end"])
            await check_spans(session, answer["citations"] + answer["passages"]
                              + found["passages"] + summary["citations"] + [passage])
            unknown = await session.call_tool("ask", {"question": QUESTION,
                                                      "documents": ["nope.txt"]})
            outside = await session.call_tool("get_passage",
                                              {"doc": GENEVA, "start": 5, "end": 10**9})
    return {"tools": tools, "resources": resources, "answer": answer, "found": found,
            "summary": summary, "listed": listed, "passage": passage, "cited": cited,
            "unknown": unknown, "outside": outside}


def test_stdio_session(tmp_path: Path, seeded_dir: Path) -> None:
    shutil.copytree(seeded_dir, tmp_path / "data")
    run = asyncio.run(asyncio.wait_for(
        stdio_scenario(tmp_path / "data", tmp_path / "mcp.log"), 180))
    assert set(run["tools"]) == TOOLS
    assert all(tool.outputSchema and tool.description for tool in run["tools"].values())
    assert {r.name for r in run["resources"]} == {GENEVA, RUSI}
    answer = run["answer"]
    assert not answer["refused"] and "Sherman" in answer["answer"]
    assert all({"doc", "start", "end", "pages", "text", "title"} <= c.keys()
               for c in answer["citations"])
    assert len(run["found"]["passages"]) == 3
    assert {c["doc"] for c in run["summary"]["citations"]} == {RUSI}
    assert len(run["summary"]["citations"]) == 3
    assert {d["name"] for d in run["listed"]["documents"]} == {GENEVA, RUSI}
    assert run["passage"]["text"] == run["cited"]["text"]
    for failed in (run["unknown"], run["outside"]):
        assert failed.isError and len(failed.content[0].text.splitlines()) == 1
    assert "No document named 'nope.txt'" in run["unknown"].content[0].text
    assert "Traceback" not in (tmp_path / "mcp.log").read_text()


async def http_scenario(url: str, key: str = KEY) -> tuple[set[str], dict]:
    """An MCP session over streamable HTTP at `url`/mcp: its tools, and a search whose
    spans are checked against the documents' resources."""
    keyed = httpx.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=60)
    async with keyed, streamable_http_client(f"{url}/mcp", http_client=keyed) as (read, write, _), \
            ClientSession(read, write) as session:
        await session.initialize()
        tools = {tool.name for tool in (await session.list_tools()).tools}
        found = await structured(session, "search", query=QUESTION)
        await check_spans(session, found["passages"])
    return tools, found


@pytest.mark.slow
def test_streamable_http_session_needs_a_key(tmp_path: Path, seeded_dir: Path) -> None:
    shutil.copytree(seeded_dir, tmp_path / "data")
    log = tmp_path / "mcp-http.log"
    with running_api(tmp_path / "data", log, {"CITECHAT_API_KEYS": KEY},
                     command=("mcp", "--http")) as url:
        refused = httpx.post(f"{url}/mcp", json={"jsonrpc": "2.0", "id": 1,
                                                 "method": "tools/list"})
        tools, found = asyncio.run(asyncio.wait_for(http_scenario(url), 120))
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_api_key"
    assert tools == TOOLS and "Sherman" in found["passages"][0]["text"]
    assert "Traceback" not in log.read_text()
