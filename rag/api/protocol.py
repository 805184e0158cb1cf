"""The API's request and response models, in one place, so /docs shows exactly what is sent.

The chat models mirror OpenAI's Chat Completions schema closely enough for its clients
(and Open WebUI) to use citechat as a model; citechat's own data rides along in a
`citechat` field those clients ignore: the citations (each an exact span of a document's
source text), the checked claims, the passages read, whether it refused. The REST models
(documents, search, summaries) are citechat's own. Errors have OpenAI's shape.

Left out of the OpenAI schema: tools, images, logprobs, `n` > 1 and token usage (there
are no tokens to count with the extractive engine); the sampling fields are accepted and
ignored.
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

SERVED_MODEL = "citechat"
Item = TypeVar("Item")


class _Out(BaseModel):
    """Read from citechat's frozen dataclasses by attribute."""

    model_config = ConfigDict(from_attributes=True)


class ListOf(BaseModel, Generic[Item]):
    """OpenAI's list envelope: `{"object": "list", "data": [...]}`."""

    object: Literal["list"] = "list"
    data: list[Item]


# -- citechat's data, shared by every response ---------------------------------------------


class CitationOut(_Out):
    n: int = Field(description="The number of the `[n]` marker in the answer")
    doc: str
    title: str = ""
    start: int = Field(description="source_text(doc)[start:end] == text")
    end: int
    pages: tuple[int, int] | None = Field(None, description="(first, last), 1-based")
    text: str


class PassageOut(_Out):
    doc: str
    title: str = ""
    start: int
    end: int
    pages: tuple[int, int] | None = None
    score: float
    text: str


class ClaimOut(_Out):
    sentence: str
    citations: list[int]
    support: float
    verdict: Literal["supported", "weak", "unsupported", "uncited"]


class Cited(_Out):
    """The `citechat` field of a completion (and of a stream's last chunk)."""

    refused: bool = Field(description="True when the documents don't say")
    citations: list[CitationOut]
    claims: list[ClaimOut]
    passages: list[PassageOut] = Field(description="What the answer was drawn from")
    standalone_question: str = Field(description="A follow-up, rewritten to stand alone")
    engine: str
    timings_ms: dict[str, float] = Field(description="In the server: retrieve, generate, total")


# -- OpenAI-compatible chat ----------------------------------------------------------------


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")  # temperature, max_tokens, user, ...
    model: str = Field(SERVED_MODEL, description="`citechat`, or `citechat:<engine>`")
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    n: int = Field(1, ge=1, le=1)
    documents: list[str] | None = Field(
        None, description="Answer from these documents only (default: all)")
    metadata: dict[str, str] | None = Field(
        None, description="`documents` may also come here, comma-separated")


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"
    logprobs: None = None


class _Reply(BaseModel):
    id: str
    created: int
    model: str


class ChatCompletion(_Reply):
    object: Literal["chat.completion"] = "chat.completion"
    choices: list[Choice]
    usage: None = None
    citechat: Cited


class Delta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: Delta
    finish_reason: Literal["stop"] | None = None
    logprobs: None = None


class ChatCompletionChunk(_Reply):
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    choices: list[ChunkChoice]
    citechat: Cited | None = Field(None, description="On the last chunk only")


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "citechat"


ModelList = ListOf[ModelCard]


# -- documents, search, summaries ----------------------------------------------------------


class DocumentOut(_Out):
    name: str
    title: str
    pages: int = Field(description="Page count; 0 for formats without pages")
    chunks: int
    chars: int
    content_hash: str


DocumentList = ListOf[DocumentOut]


class DocumentText(BaseModel):
    name: str
    title: str
    text: str = Field(description="The source text every span of this document indexes")
    page_ranges: list[tuple[int, int]] = Field(description="(start, end) of each page")


class FileOut(_Out):
    name: str
    status: Literal["added", "updated", "unchanged", "failed"]
    chunks: int
    reason: str = ""


UploadResult = ListOf[FileOut]


class Deleted(BaseModel):
    name: str
    object: Literal["document"] = "document"
    deleted: Literal[True] = True


class SearchRequest(BaseModel):
    query: str = Field(min_length=1, max_length=10_000)
    documents: list[str] | None = None
    k: int | None = Field(None, ge=1, le=100, description="Passages (default: the k setting)")


class SearchResults(ListOf[PassageOut]):
    query: str


class SummaryRequest(BaseModel):
    model: str = Field(SERVED_MODEL, description="`citechat`, or `citechat:<engine>`")
    documents: list[str] | None = Field(None, description="Default: the whole collection")
    length: str | int = Field("auto", description="short, medium, long, auto, or a number "
                              "of sentences")
    focus: str = Field("", max_length=1_000, description="What the summary should be about")
    bullets: bool = Field(False, description="One point per line")


class Summary(BaseModel):
    object: Literal["summary"] = "summary"
    model: str
    summary: str = Field(description="With `[n]` markers into `citechat.citations`")
    citechat: Cited


# -- errors --------------------------------------------------------------------------------


class ErrorBody(BaseModel):
    message: str
    type: str
    code: str | None = None
    param: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse} for status in (400, 401, 404, 413, 415, 422, 503)}
