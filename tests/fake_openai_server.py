"""A small, real OpenAI-compatible HTTP server on 127.0.0.1 for tests.

Serves POST /v1/chat/completions (a JSON `chat.completion`, or server-sent
`chat.completion.chunk` events word by word ending with `[DONE]` when `stream` is true),
POST /v1/embeddings (bag-of-words vectors: texts sharing words come out close; floats or
base64 as asked) and GET /v1/models; any other path is a 404. Chat replies come from a
queue (`enqueue`), else from a `responder` that sees the request's messages, else the
refusal sentence. `fail_with` scripts an HTTP error status, `delay` a slow reply,
`stall` a pause in the middle of a streamed one and `pace` a pause after every streamed
word (a slow model). Every request body is kept in `requests`,
every Authorization header in `authorizations`.

It answers only on loopback, checks no API key, and knows nothing of tools, images or
token counts.

    with FakeOpenAIServer() as server:
        server.enqueue("Sherman led the talks [1].")
        settings = load_settings(engine="openai", openai_base_url=server.base_url)
        draft = LLMEngine(build_chat_model(settings)).answer("Who led?", passages)
        assert "Sherman" in server.prompts[0]
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np

from rag.questions import without_source_descriptor

Responder = Callable[[list[dict[str, Any]]], str]
REFUSAL = "The documents don't say."
BAG_DIMENSIONS = 64


def bag_of_words(texts: Sequence[str]) -> np.ndarray:
    """Lower-cased words hashed into 64 buckets, one unit row per text (a zero row for a
    text without words): texts sharing words come out close."""
    rows = np.zeros((len(texts), BAG_DIMENSIONS), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in re.findall(r"\w+", text.lower()):
            rows[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % BAG_DIMENSIONS] += 1.0
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)


class FakeOpenAIServer:
    def __init__(self, responder: Responder | None = None, *, fail_with: int | None = None,
                 delay: float = 0.0, stall: float = 0.0, pace: float = 0.0) -> None:
        self.responder = responder
        self.fail_with = fail_with  # HTTP status every request gets, e.g. 401, 429, 500
        self.delay = delay  # seconds before any reply
        self.stall = stall  # seconds between the first streamed word and the rest
        self.pace = pace  # seconds after each streamed word
        self.replies: deque[str] = deque()
        self.requests: list[dict[str, Any]] = []  # JSON bodies received, in order
        self.authorizations: list[str] = []  # the Authorization header of each request
        self._server = _QuietServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    @property
    def prompts(self) -> list[str]:
        """The last message of each chat request: the rendered prompt, for our engine."""
        return [body["messages"][-1]["content"] for body in self.requests if "messages" in body]

    def enqueue(self, *texts: str) -> None:
        """Script the next replies, one per request, ahead of the responder."""
        self.replies.extend(texts)

    def __enter__(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reply_for(self, messages: list[dict[str, Any]]) -> str:
        if self.replies:
            return self.replies.popleft()
        if self.responder:
            return self.responder(messages)
        return REFUSAL

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                fake.authorizations.append(self.headers.get("Authorization", ""))
                if self.path.rstrip("/") != "/v1/models":
                    return _send_json(self, 404, _error("Not found."))
                if fake.fail_with:
                    return _send_json(self, fake.fail_with, _error("Scripted failure."))
                _send_json(self, 200, {"object": "list",
                                       "data": [{"id": "fake", "object": "model"}]})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                fake.authorizations.append(self.headers.get("Authorization", ""))
                if self.path.rstrip("/") not in ("/v1/chat/completions", "/v1/embeddings"):
                    return _send_json(self, 404, _error("Not found."))
                fake.requests.append(body)
                time.sleep(fake.delay)
                if fake.fail_with:
                    return _send_json(self, fake.fail_with, _error("Scripted failure."))
                if self.path.rstrip("/") == "/v1/embeddings":
                    return _send_json(self, 200, _embeddings(body))
                text = fake.reply_for(body.get("messages", []))
                model = body.get("model", "fake")
                if body.get("stream"):
                    _send_events(self, model, text, fake.stall, fake.pace)
                else:
                    _send_json(self, 200, _completion(model, text))

        return Handler


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        # A client that timed out hangs up mid-reply; that is the scenario, not a failure.
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _send_json(handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def _send_events(handler: BaseHTTPRequestHandler, model: str, text: str, stall: float,
                 pace: float = 0.0) -> None:
    """Server-sent events, one word (with its following space) per chunk. No Content-Length:
    the HTTP/1.0 connection closing ends the body."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/event-stream")
    handler.end_headers()
    pieces = re.findall(r"\S+\s*|\s+", text)
    for i, piece in enumerate([*pieces, None]):
        handler.wfile.write(f"data: {json.dumps(_chunk(model, piece))}\n\n".encode())
        handler.wfile.flush()
        time.sleep(stall if i == 0 else 0.0)
        time.sleep(pace)
    handler.wfile.write(b"data: [DONE]\n\n")
    handler.wfile.flush()


def _error(message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "test", "code": None}}


def _completion(model: str, text: str) -> dict[str, Any]:
    return {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


def _embeddings(body: dict[str, Any]) -> dict[str, Any]:
    texts = body.get("input", [])
    texts = [texts] if isinstance(texts, str) else texts
    as_base64 = body.get("encoding_format") == "base64"
    data = [{"object": "embedding", "index": i,
             "embedding": base64.b64encode(row.astype("<f4").tobytes()).decode() if as_base64
             else row.tolist()}
            for i, row in enumerate(bag_of_words(texts))]
    return {"object": "list", "data": data, "model": body.get("model", "fake"),
            "usage": {"prompt_tokens": 1, "total_tokens": 1}}


def _chunk(model: str, piece: str | None) -> dict[str, Any]:
    """A content delta, or (for None) the closing chunk with `finish_reason`."""
    delta = {"content": piece} if piece is not None else {}
    return {"id": "chatcmpl-fake", "object": "chat.completion.chunk",
            "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "delta": delta,
                         "finish_reason": None if piece is not None else "stop"}]}


def overlap_responder(messages: list[dict[str, Any]]) -> str:
    """A scripted "model" for end-to-end evals: answers with the first sentence of the
    passage sharing most words with the question, cited; refuses when most names and
    numbers of the question are in no passage, or no passage shares a word with it.
    Summary prompts are answered the same way, their focus standing for the question.
    Condense prompts get the follow-up joined to the previous question."""
    prompt = messages[-1]["content"]
    if "Standalone question:" in prompt:
        follow_up = re.search(r"Follow-up question: (.*)\n", prompt).group(1)
        previous = re.findall(r"User: (.*)", prompt)[-1]
        return f"{follow_up} ({previous})"
    passages = re.findall(r"\[(\d+)\] \(from [^)]*\)\n\"\"\"\n(.*?)\n\"\"\"", prompt, re.S)
    asked = re.search(r"Question: (.*)\n", prompt) or re.search(r"about this: (.*?)\. If", prompt)
    # a summary prompt asks about its focus; without one, about its first passage
    question = asked.group(1) if asked else (passages[0][1] if passages else "")
    words = {w for w in re.findall(r"\w{4,}", question.lower())}
    # "in the RUSI commentary" says where to look, not what to find, as a model reads it
    named = re.findall(r"(?<!^)\b(?:[A-Z]\w+|\d+)", without_source_descriptor(question))
    everything = " ".join(text for _, text in passages)
    if named and sum(name not in everything for name in named) > len(named) / 2:
        return REFUSAL
    best = max(passages, key=lambda p: len(words & set(re.findall(r"\w{4,}", p[1].lower()))),
               default=None)
    if best is None or not words & set(re.findall(r"\w{4,}", best[1].lower())):
        return REFUSAL
    sentence = re.split(r"(?<=[.!?])\s", best[1].strip())[0]
    return f"{sentence} [{best[0]}]"
