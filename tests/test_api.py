"""The API through real clients: the `openai` client and httpx against `citechat serve`
started on 127.0.0.1 over a copy of the seeded store (one server for the module), with
the local fake model server behind `citechat:openai`.

Answers streamed and not, a follow-up, a scoped question, a refusal, the citations read
from the response; search, summaries, document text; hostile requests each get a clear
4xx in OpenAI's error shape; and, with hypothesis, every span the API returns slices the
source text the API serves. The server's log must hold no traceback.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import openai
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api_server import running_api
from conftest import GENEVA, RUSI, SEEDS, pdf_with_text
from fake_openai_server import FakeOpenAIServer, overlap_responder

GENEVA_QUESTION = "Who represented the United States at the Geneva talks?"
LIMIT_MB = 0.5  # the server's CITECHAT_MAX_FILE_MB


@dataclass
class Api:
    url: str
    log: Path
    client: openai.OpenAI
    http: httpx.Client

    def text(self, doc: str) -> str:
        reply = self.http.get(f"/v1/documents/{doc}")
        assert reply.status_code == 200, reply.text
        return reply.json()["text"]

    def check_spans(self, spans: list[dict]) -> None:
        """Every span slices its document's source text, as the API serves it."""
        texts: dict[str, str] = {}
        for span in spans:
            text = texts.setdefault(span["doc"], self.text(span["doc"]))
            assert text[span["start"]:span["end"]] == span["text"], span


@pytest.fixture(scope="module")
def model_server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(overlap_responder) as server:
        yield server


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, seeded_dir: Path,
        model_server: FakeOpenAIServer) -> Iterator[Api]:
    folder = tmp_path_factory.mktemp("api")
    shutil.copytree(seeded_dir, folder / "data")
    log = folder / "serve.log"
    env = {"CITECHAT_OPENAI_BASE_URL": model_server.base_url,
           "CITECHAT_MAX_FILE_MB": str(LIMIT_MB)}
    with running_api(folder / "data", log, env) as url, \
            httpx.Client(base_url=url, timeout=60) as http:
        yield Api(url, log, openai.OpenAI(base_url=f"{url}/v1", api_key="unused",
                                          max_retries=0), http)
    assert "Traceback" not in log.read_text(), log.read_text()


def ask(api: Api, question: str, **extra) -> openai.types.chat.ChatCompletion:
    return api.client.chat.completions.create(
        model=extra.pop("model", "citechat"),
        messages=extra.pop("messages", [{"role": "user", "content": question}]), **extra)


def cited(completion) -> dict:
    """The `citechat` field the openai client keeps as an extra."""
    return completion.model_extra["citechat"]


def test_models(api: Api) -> None:
    names = [m.id for m in api.client.models.list()]
    assert names == ["citechat", "citechat:extractive", "citechat:openai"]
    assert api.client.models.retrieve("citechat:extractive").id == "citechat:extractive"
    with pytest.raises(openai.NotFoundError):
        api.client.models.retrieve("gpt-4o")
    schema = api.http.get("/openapi.json").json()  # what /docs shows
    assert {"/v1/chat/completions", "/v1/documents", "/v1/search"} <= schema["paths"].keys()
    assert "citechat" in schema["components"]["schemas"]["ChatCompletion"]["properties"]


def test_answer_carries_its_citations(api: Api) -> None:
    completion = ask(api, GENEVA_QUESTION)
    content = completion.choices[0].message.content
    extra = cited(completion)
    assert "Sherman" in content and not extra["refused"]
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", content)}
    assert markers == {c["n"] for c in extra["citations"]} and markers
    assert any(c["doc"] == GENEVA and "Sherman" in c["text"] for c in extra["citations"])
    assert all(c["title"] for c in extra["citations"])
    assert {c["verdict"] for c in extra["claims"]} <= {"supported", "weak"}
    api.check_spans(extra["citations"] + extra["passages"])


@pytest.mark.parametrize("model", ["citechat", "citechat:openai"])
def test_stream_is_the_answer_and_ends_with_the_citations(api: Api, model: str) -> None:
    quiet = ask(api, GENEVA_QUESTION, model=model)
    chunks = list(ask(api, GENEVA_QUESTION, model=model, stream=True))
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert streamed == quiet.choices[0].message.content
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all("citechat" not in c.model_extra for c in chunks[:-1])
    assert cited(chunks[-1])["citations"] == cited(quiet)["citations"]
    assert cited(chunks[-1])["engine"] == (model.partition(":")[2] or "extractive")


def test_follow_up_reads_the_history(api: Api) -> None:
    first = ask(api, "Who is Sergei Ryabkov?")
    messages = [{"role": "system", "content": "You are a helpful assistant."},
                {"role": "user", "content": "Who is Sergei Ryabkov?"},
                {"role": "assistant", "content": first.choices[0].message.content},
                {"role": "user", "content": "What does he want NATO to do at its next summit?"}]
    follow_up = ask(api, "", messages=messages)
    assert "Madrid" in follow_up.choices[0].message.content
    assert "Ryabkov" in cited(follow_up)["standalone_question"]


def test_scope_limits_the_documents(api: Api) -> None:
    elsewhere = ask(api, GENEVA_QUESTION, extra_body={"documents": [RUSI]})
    assert {c["doc"] for c in cited(elsewhere)["citations"]} <= {RUSI}
    assert {p["doc"] for p in cited(elsewhere)["passages"]} == {RUSI}
    scoped = ask(api, GENEVA_QUESTION, metadata={"documents": GENEVA})
    assert {p["doc"] for p in cited(scoped)["passages"]} == {GENEVA}
    assert "Sherman" in scoped.choices[0].message.content


def test_refusal(api: Api) -> None:
    completion = ask(api, "Who won the 2018 FIFA World Cup?")
    assert cited(completion)["refused"] and cited(completion)["citations"] == []
    assert completion.choices[0].message.content == "The documents don't say."


def test_search_and_summary(api: Api) -> None:
    found = api.http.post("/v1/search", json={"query": GENEVA_QUESTION, "k": 3}).json()
    assert len(found["data"]) == 3 and "Sherman" in found["data"][0]["text"]
    summary = api.http.post("/v1/summaries", json={"documents": [RUSI]}).json()
    citations = summary["citechat"]["citations"]
    assert len(citations) >= 3 and {c["doc"] for c in citations} == {RUSI}
    assert set(map(int, re.findall(r"\[(\d+)\]", summary["summary"]))) == \
        {c["n"] for c in citations}
    api.check_spans(found["data"] + citations)
    listed = api.http.get("/v1/documents").json()["data"]
    assert sorted(d["name"] for d in listed) == sorted(p.name for p in SEEDS.iterdir())


def test_summary_length_and_focus(api: Api) -> None:
    four = api.http.post("/v1/summaries", json={"documents": [RUSI], "length": 4}).json()
    assert len(four["citechat"]["citations"]) == 4
    focused = api.http.post("/v1/summaries", json={
        "documents": [RUSI], "focus": "the UN peacekeeping idea"}).json()
    assert "peacekeeping" in focused["summary"].lower()
    off_topic = api.http.post("/v1/summaries", json={
        "documents": [RUSI], "focus": "the price of Brazilian coffee beans"}).json()
    assert off_topic["citechat"]["refused"] and off_topic["summary"] == "The documents don't say."
    api.check_spans(four["citechat"]["citations"] + focused["citechat"]["citations"])
    # a summary asked for in the chat is the one /v1/summaries makes
    typed = ask(api, "Can you summarize it in 3 sentences?", extra_body={"documents": [RUSI]})
    three = api.http.post("/v1/summaries", json={"documents": [RUSI], "length": 3}).json()
    assert typed.choices[0].message.content == three["summary"]
    assert cited(typed)["citations"] == three["citechat"]["citations"]
    assert len(three["citechat"]["citations"]) == 3


def test_model_server_errors_are_503(api: Api, model_server: FakeOpenAIServer) -> None:
    model_server.fail_with = 500
    try:
        with pytest.raises(openai.InternalServerError) as failed:
            ask(api, GENEVA_QUESTION, model="citechat:openai")
    finally:
        model_server.fail_with = None
    assert failed.value.status_code == 503
    assert failed.value.body["code"] == "model_unavailable"
    assert "model server" in failed.value.body["message"]


CHAT = "/v1/chat/completions"
USER = {"role": "user", "content": GENEVA_QUESTION}
BAD = "invalid_request"
HOSTILE = [  # (method, path, JSON body or raw bytes, status, error code)
    ("POST", CHAT, b"{not json", 400, BAD),
    ("POST", CHAT, b"\xff\xfe\x00", 400, BAD),
    ("POST", CHAT, {"messages": []}, 400, BAD),
    ("POST", CHAT, {"messages": "hello"}, 400, BAD),
    ("POST", CHAT, {"messages": [{"role": "wizard", "content": "hi"}]}, 400, BAD),
    ("POST", CHAT, {"messages": [USER, {"role": "assistant", "content": "x"}]}, 400, BAD),
    ("POST", CHAT, {"messages": [{"role": "user", "content": "   "}]}, 400, BAD),
    ("POST", CHAT, {"messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "http://x/y.png"}}]}]}, 400, BAD),
    ("POST", CHAT, {"messages": [USER], "n": 2}, 400, BAD),
    ("POST", CHAT, {"messages": [USER], "model": "gpt-4o"}, 404, "model_not_found"),
    ("POST", CHAT, {"messages": [USER], "documents": ["../../etc/passwd"]}, 404,
     "document_not_found"),
    ("POST", "/v1/search", {"query": ""}, 400, BAD),
    ("POST", "/v1/search", {"query": "x", "k": 10**12}, 400, BAD),
    ("POST", "/v1/summaries", {"documents": ["nope.txt"]}, 404, "document_not_found"),
    ("POST", "/v1/summaries", {"length": "enormous"}, 400, BAD),
    ("POST", "/v1/summaries", {"length": 10**6}, 400, BAD),
    ("GET", "/v1/documents/nope.txt", None, 404, "document_not_found"),
    ("DELETE", "/v1/documents/nope.txt", None, 404, "document_not_found"),
    ("POST", "/v1/documents", b"just bytes", 400, BAD),
    ("GET", "/v1/nowhere", None, 404, "not_found"),
    ("PUT", "/v1/models", None, 405, "method_not_allowed"),
    ("POST", CHAT, b"[" * 9_000_000, 413, "too_large"),
]


@pytest.mark.parametrize(("method", "path", "body", "status", "code"), HOSTILE)
def test_hostile_requests_get_clear_errors(api: Api, method: str, path: str, body,
                                           status: int, code: str) -> None:
    content = body if isinstance(body, bytes) else json.dumps(body) if body else None
    reply = api.http.request(method, path, content=content,
                             headers={"Content-Type": "application/json"})
    assert reply.status_code == status, reply.text
    error = reply.json()["error"]
    assert error["code"] == code and error["type"].endswith("_error")
    assert error["message"] and "\n" not in error["message"] and "Traceback" not in reply.text


def test_an_upload_without_a_length_is_counted_as_it_arrives(api: Api) -> None:
    def body() -> Iterator[bytes]:  # no Content-Length: sent chunked
        yield b"--b\r\nContent-Disposition: form-data; name=file; filename=big.txt\r\n\r\n"
        for _ in range(20):
            yield b"x" * 100_000
        yield b"\r\n--b--\r\n"

    reply = api.http.post("/v1/documents", content=body(),
                          headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert reply.status_code == 413 and reply.json()["error"]["code"] == "too_large"


@pytest.mark.parametrize(("name", "data", "status", "reason"), [
    ("tool.exe", b"MZ\x90\x00", 415, "unsupported file type"),
    ("old.doc", b"\xd0\xcf\x11\xe0", 415, "Word 97-2003"),
    ("empty.txt", b"  \n", 422, "empty file"),
    ("broken.pdf", b"%PDF-1.4 garbage", 422, "corrupt PDF"),
    ("huge.txt", b"words " * 100_000, 413, "too large"),
])
def test_bad_uploads_get_the_reason(api: Api, name: str, data: bytes, status: int,
                                    reason: str) -> None:
    reply = api.http.post("/v1/documents", files={"file": (name, data)})
    assert reply.status_code == status, reply.text
    assert re.search(reason, reply.json()["error"]["message"])
    assert name not in {d["name"] for d in api.http.get("/v1/documents").json()["data"]}


def test_a_pdf_upload_has_pages(api: Api) -> None:
    reply = api.http.post("/v1/documents", files=[
        ("file", ("tern.pdf", pdf_with_text("The arctic tern flies from pole to pole."))),
        ("file", ("bad.exe", b"MZ"))])
    assert reply.status_code == 201
    assert [r["status"] for r in reply.json()["data"]] == ["added", "failed"]
    found = api.http.post("/v1/search", json={"query": "arctic tern",
                                              "documents": ["tern.pdf"]}).json()["data"]
    assert found[0]["pages"] == [1, 1]
    api.check_spans(found)
    assert api.http.delete("/v1/documents/tern.pdf").json()["deleted"] is True


WORDS = sorted({w for p in SEEDS.iterdir() for w in re.findall(r"[A-Za-z]{4,}", p.read_text())})


@settings(max_examples=15, deadline=None)
@given(words=st.lists(st.sampled_from(WORDS), min_size=1, max_size=6))
def test_every_span_slices_its_document(api: Api, words: list[str]) -> None:
    query = " ".join(words)
    found = api.http.post("/v1/search", json={"query": query}).json()["data"]
    completion = ask(api, query + "?")
    api.check_spans(found + cited(completion)["citations"] + cited(completion)["passages"])
