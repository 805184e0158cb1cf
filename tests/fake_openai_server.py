"""A small, real OpenAI-compatible HTTP server on 127.0.0.1 for tests.

Serves POST /v1/chat/completions (JSON, or server-sent events when `stream` is true) and
GET /v1/models. Replies come from a queue (`enqueue`) or a `responder` that sees the
request's messages; `fail_with` scripts an HTTP error and `delay` a slow reply. Every
request body is kept in `requests`. It answers only on loopback.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Responder = Callable[[list[dict[str, Any]]], str]


class FakeOpenAIServer:
    def __init__(self, responder: Responder | None = None) -> None:
        self.responder = responder
        self.replies: deque[str] = deque()
        self.requests: list[dict[str, Any]] = []
        self.fail_with: int | None = None
        self.delay = 0.0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def enqueue(self, *texts: str) -> None:
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
        return "The documents don't say."

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

            def _json(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._json(200, {"object": "list", "data": [{"id": "fake", "object": "model"}]})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                fake.requests.append(body)
                if fake.delay:
                    time.sleep(fake.delay)
                if fake.fail_with:
                    self._json(fake.fail_with, {"error": {"message": "scripted failure",
                                                          "type": "test", "code": None}})
                    return
                text = fake.reply_for(body.get("messages", []))
                if body.get("stream"):
                    self._stream(body.get("model", "fake"), text)
                else:
                    self._json(200, _completion(body.get("model", "fake"), text))

            def _stream(self, model: str, text: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                words = text.split(" ")
                pieces = [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]
                for piece in [*pieces, None]:
                    chunk = _chunk(model, piece)
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

        return Handler


def _completion(model: str, text: str) -> dict[str, Any]:
    return {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


def _chunk(model: str, piece: str | None) -> dict[str, Any]:
    delta = {"content": piece} if piece is not None else {}
    return {"id": "chatcmpl-fake", "object": "chat.completion.chunk",
            "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "delta": delta,
                         "finish_reason": None if piece is not None else "stop"}]}


def overlap_responder(messages: list[dict[str, Any]]) -> str:
    """A scripted "model" for end-to-end evals: answers with the first sentence of the
    passage sharing most words with the question, cited; refuses when most names and
    numbers of the question are in no passage, or no passage shares a word with it.
    Condense prompts get the follow-up joined to the previous question."""
    import re

    prompt = messages[-1]["content"]
    if "Standalone question:" in prompt:
        follow_up = re.search(r"Follow-up question: (.*)\n", prompt).group(1)
        previous = re.findall(r"User: (.*)", prompt)[-1]
        return f"{follow_up} ({previous})"
    question = re.search(r"Question: (.*)\n", prompt).group(1)
    passages = re.findall(r"\[(\d+)\] \(from [^)]*\)\n\"\"\"\n(.*?)\n\"\"\"", prompt, re.S)
    words = {w for w in re.findall(r"\w{4,}", question.lower())}
    named = re.findall(r"(?<!^)\b(?:[A-Z]\w+|\d+)", question)
    everything = " ".join(text for _, text in passages)
    if named and sum(name not in everything for name in named) > len(named) / 2:
        return "The documents don't say."
    best = max(passages, key=lambda p: len(words & set(re.findall(r"\w{4,}", p[1].lower()))),
               default=None)
    if best is None or not words & set(re.findall(r"\w{4,}", best[1].lower())):
        return "The documents don't say."
    sentence = re.split(r"(?<=[.!?])\s", best[1].strip())[0]
    return f"{sentence} [{best[0]}]"
