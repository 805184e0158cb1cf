"""OpenAI-compatible chat: `POST /v1/chat/completions` and `GET /v1/models`.

The last user message is the question, the user/assistant pairs before it the history a
follow-up is read against (system messages are ignored: citechat answers from the
documents only). `documents` (or `metadata.documents`, comma-separated) limits the scope.

A streamed reply starts once the answer is resolved. An engine's raw tokens carry its
own marker numbers, which citechat then checks, merges and renumbers, so forwarding them
would send `[n]`s that do not match the citations; the resolved answer is sent instead,
word by word, and its last chunk carries the citations. It also means a failure (an
unknown document, a model server that is down) is still a proper HTTP error status.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator, Sequence
from itertools import pairwise

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from rag.api.deps import ServicesDep
from rag.api.protocol import (
    ERRORS,
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    ChatMessage,
    ChatRequest,
    Choice,
    ChunkChoice,
    Cited,
    Delta,
    ModelCard,
    ModelList,
)
from rag.errors import BadRequest
from rag.types import Turn

router = APIRouter(prefix="/v1", tags=["chat"], responses=ERRORS)
STREAMED = {200: {"description": "A `chat.completion`, or with `stream` server-sent "
                  "`chat.completion.chunk` events ending in `data: [DONE]`",
                  "content": {"text/event-stream": {}}}}


@router.get("/models", response_model=ModelList)
def list_models(services: ServicesDep) -> ModelList:
    """The model names served: `citechat` (the configured engine) and one per engine."""
    return ModelList(data=[ModelCard(id=name) for name in services.models()])


@router.get("/models/{model}", response_model=ModelCard)
def get_model(model: str, services: ServicesDep) -> ModelCard:
    """One model name, if this server has it."""
    services.for_model(model)  # UnknownModel (404) otherwise
    return ModelCard(id=model)


@router.post("/chat/completions", response_model=ChatCompletion, responses=STREAMED)
def chat_completions(request: ChatRequest, services: ServicesDep):
    """Answer the last user message from the documents, with `[n]` markers in the content
    and the citations they point to in `citechat`."""
    pipeline = services.for_model(request.model)
    question, history = conversation(request.messages)
    response = pipeline.ask(question, history, scope(request))
    cited = Cited.model_validate(response)
    reply_id, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
    if request.stream:
        return StreamingResponse(
            _events(reply_id, created, request.model, response.answer, cited),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    return ChatCompletion(id=reply_id, created=created, model=request.model, citechat=cited,
                          choices=[Choice(message=AssistantMessage(content=response.answer))])


def text_of(message: ChatMessage) -> str:
    """A message's text: its string, or its text parts joined."""
    if message.content is None or isinstance(message.content, str):
        return message.content or ""
    other = [part.type for part in message.content if part.type != "text"]
    if other:
        raise BadRequest(f"citechat reads text only; this message has a {other[0]!r} part.")
    return "".join(part.text or "" for part in message.content)


def conversation(messages: Sequence[ChatMessage]) -> tuple[str, list[Turn]]:
    """The question (the last message, the user's) and the exchanges before it."""
    said = [(m.role, text_of(m)) for m in messages if m.role in ("user", "assistant")]
    if not said or said[-1][0] != "user":
        raise BadRequest("The last message must be the user's question.")
    history = [Turn(question, answer) for (asker, question), (replier, answer)
               in pairwise(said[:-1])
               if asker == "user" and replier == "assistant"]
    return said[-1][1], history


def scope(request: ChatRequest) -> list[str] | None:
    """The documents to answer from: `documents`, else `metadata.documents`, else all."""
    if request.documents:
        return request.documents
    named = (request.metadata or {}).get("documents", "")
    return [name.strip() for name in named.split(",") if name.strip()] or None


def _events(reply_id: str, created: int, model: str, answer: str,
            cited: Cited) -> Iterator[str]:
    def event(delta: Delta, finish: bool = False) -> str:
        chunk = ChatCompletionChunk(
            id=reply_id, created=created, model=model, citechat=cited if finish else None,
            choices=[ChunkChoice(delta=delta, finish_reason="stop" if finish else None)])
        return f"data: {chunk.model_dump_json(exclude=None if finish else {'citechat'})}\n\n"

    yield event(Delta(role="assistant", content=""))
    for piece in re.findall(r"\S+\s*|\s+", answer):
        yield event(Delta(content=piece))
    yield event(Delta(), finish=True)
    yield "data: [DONE]\n\n"
