"""The generative engine: any OpenAI-compatible chat model through LangChain.

Prompts come from `prompts/` (rag/prompts.py). Answers and summaries stream token by
token (LCEL `.stream()`); follow-ups are condensed into standalone questions first;
summaries are map-reduce over all chunks of the documents asked for, with passage
numbers global so markers survive the reduce step, at the length and focus asked for
(a batch with nothing on the focus is left out of the reduce). Failures of the model server
(missing key, unreachable, timeout, rate limit, unknown model) become one
`ModelUnavailable` sentence naming the server (rag/engines/model_errors.py).

Markers are not checked here (rag/citations.py does that), and nothing is retried beyond
the client's single retry: a user waiting on a chat is better told at once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser

from rag.citations import parse_markers, strip_markers
from rag.config import Settings
from rag.engines.base import REFUSAL, Draft, TokenSink
from rag.engines.model_errors import model_errors
from rag.errors import ModelUnavailable
from rag.prompts import render
from rag.questions import without_source_descriptor
from rag.render import page_label
from rag.selection import Selector, as_passages
from rag.types import Passage, Turn

if TYPE_CHECKING:
    from langchain_openai import ChatOpenAI

    from rag.summaries import SummaryRequest

OPENAI_URL = "https://api.openai.com/v1"
BATCH_CHARS = 6000  # passage text per map step; partial summaries per reduce step get twice
HISTORY_TURNS = 4  # turns shown to the condense prompt
EXTRACTS = 5  # extracts numbered in the answer prompt, when a selector picks them
# An answer without markers that says this is a refusal, however the model words it.
_SAYS_NOTHING = re.compile(r"\b(?:documents|passages)\s+(?:don't|do not)\s+"
                           r"(?:say|mention|contain|answer)", re.IGNORECASE)


def build_chat_model(settings: Settings) -> ChatOpenAI:
    """The chat model the settings name. Builds a client; sends nothing."""
    from langchain_openai import ChatOpenAI  # heavy import, only for the openai engine

    if not settings.openai_base_url and not settings.openai_api_key:
        raise ModelUnavailable(
            "Set CITECHAT_OPENAI_API_KEY, or point CITECHAT_OPENAI_BASE_URL at an "
            "OpenAI-compatible server, to use the openai engine.")
    return ChatOpenAI(
        model=settings.openai_model,
        # explicit, so OPENAI_BASE_URL in the environment cannot redirect us (config.py rules)
        base_url=settings.openai_base_url or OPENAI_URL,
        # local servers (vLLM, Ollama, llama.cpp) accept any key, but the client wants one
        api_key=settings.openai_api_key or "not-needed",
        timeout=settings.openai_timeout,
        max_retries=1,
        temperature=settings.temperature,
        streaming=True,
    )


def where(settings: Settings) -> str:
    """The server's address as error messages name it."""
    return settings.openai_base_url or OPENAI_URL


def _numbered(passages: Sequence[Passage], first: int = 1) -> str:
    """Passages as quoted blocks numbered from `first`: the numbers the markers use,
    each with its document's title and pages."""
    return "\n\n".join(f"[{n}] (from {_source(p)})\n\"\"\"\n{p.text}\n\"\"\""
                       for n, p in enumerate(passages, start=first))


def _source(passage: Passage) -> str:
    title = " ".join(passage.title.split())
    named = f"{passage.doc}, “{title}”" if title else passage.doc
    page = page_label(passage.pages)
    return f"{named}, {page}" if page else named


def _is_refusal(text: str) -> bool:
    said = " ".join(text.replace("\u2019", "'").split())  # models like typographic quotes
    if not said or said.lower().startswith(REFUSAL.lower()):
        return True
    return not parse_markers(said) and bool(_SAYS_NOTHING.search(said))


def _groups(sizes: Sequence[int], budget: int, at_least: int = 1) -> list[range]:
    """Consecutive index ranges whose sizes sum to at most `budget`, except that each range
    but the last holds at least `at_least` items (so an oversized item still gets placed)."""
    groups: list[range] = []
    start, size = 0, 0
    for i, item in enumerate(sizes):
        if i - start >= at_least and size + item > budget:
            groups.append(range(start, i))
            start, size = i, 0
        size += item
    groups.append(range(start, len(sizes)))
    return groups


class LLMEngine:
    """An `Engine` over a LangChain chat model (ChatOpenAI, or a fake in tests)."""

    name = "openai"

    def __init__(self, model: BaseChatModel, location: str | None = None,
                 batch_chars: int = BATCH_CHARS, selector: Selector | None = None) -> None:
        # The prompt step is rag.prompts.render (strict about variables), so the chain
        # starts at the model: a rendered prompt string goes in as one user message.
        self.chain = model | StrOutputParser()
        self.location = location or getattr(model, "openai_api_base", None) or "the model server"
        self.model_name = str(getattr(model, "model_name", "") or "")
        timeout = getattr(model, "request_timeout", None)
        self.timeout = float(timeout) if isinstance(timeout, int | float) else None
        self.batch_chars = batch_chars
        # picks the extracts the model is shown and refuses as the offline engine does
        self.selector = selector

    def _complete(self, prompt: str, on_token: TokenSink | None = None) -> str:
        pieces: list[str] = []
        with model_errors(self.location, self.model_name, self.timeout):
            for piece in self.chain.stream(prompt):
                pieces.append(piece)
                if on_token:
                    on_token(piece)
        return "".join(pieces).strip()

    def condense(self, history: Sequence[Turn], question: str) -> str:
        if not history:
            return question
        shown = "\n".join(f"User: {t.question}\nAssistant: {strip_markers(t.answer)}"
                          for t in history[-HISTORY_TURNS:])
        rewritten = self._complete(render("condense", history=shown, question=question))
        first_line = rewritten.splitlines()[0].strip().strip('"') if rewritten else ""
        return first_line or question

    def answer(self, question: str, passages: Sequence[Passage],
               on_token: TokenSink | None = None) -> Draft:
        if not passages:
            return Draft(REFUSAL, [], refused=True)
        if self.selector is not None:
            passages = self._extracts(question, passages)
            if not passages:
                return Draft(REFUSAL, [], refused=True)
        prompt = render("answer", passages=_numbered(passages), question=question,
                        refusal=REFUSAL)
        text = self._complete(prompt, on_token)
        if _is_refusal(text):
            return Draft(REFUSAL, [], refused=True)
        return Draft(text, list(passages))

    def _extracts(self, question: str, passages: Sequence[Passage]) -> list[Passage]:
        """The best extracts as passages; none when the refusal rule finds a name, number
        or negation the documents lack. Low evidence is left to the model, which reads
        better than the blend scores."""
        asked = without_source_descriptor(question) or question
        reason = self.selector.select(asked, passages, asked=question).refusal
        if reason and reason != "low evidence":
            return []
        extracts = self.selector.ranked_extracts(asked, passages, EXTRACTS)
        return [p for extract in extracts for p in as_passages(extract, passages)]

    def summarize(self, units: Sequence[Passage], instruction: str = "",
                  on_token: TokenSink | None = None,
                  request: SummaryRequest | None = None) -> Draft:
        if not units:
            return Draft(REFUSAL, [], refused=True)
        if request is not None:  # the length and focus asked for, then the user's words
            instruction = f"{request.instruction(REFUSAL)} {instruction}".strip()
        batches = _groups([len(u.text) for u in units], self.batch_chars)
        if len(batches) == 1:
            text = self._map(units, 1, instruction, on_token)
            return Draft(REFUSAL, [], refused=True) if _is_refusal(text) \
                else Draft(text, list(units))
        # Numbering is global (batch r starts at r.start + 1) so the partial summaries'
        # markers already point into `units` and the reduce only has to keep them. A
        # batch with nothing on the focus says so, and is left out of the reduce.
        partials = [p for r in batches
                    if not _is_refusal(p := self._map(units[r.start:r.stop], r.start + 1,
                                                      instruction))]
        if not partials:
            return Draft(REFUSAL, [], refused=True)
        return Draft(self._reduce(partials, instruction, on_token), list(units))

    def _map(self, batch: Sequence[Passage], first: int, instruction: str,
             on_token: TokenSink | None = None) -> str:
        prompt = render("summarize_map", passages=_numbered(batch, first),
                        instruction=instruction)
        return self._complete(prompt, on_token)

    def _reduce(self, partials: list[str], instruction: str,
                on_token: TokenSink | None) -> str:
        """Merge partial summaries, in rounds while they exceed one prompt's budget; only
        the last merge streams."""
        while True:
            # two or more per group, so every round shrinks the list and the loop ends
            groups = _groups([len(p) for p in partials], 2 * self.batch_chars, at_least=2)
            merged = [self._complete(render("summarize_reduce", instruction=instruction,
                                            summaries="\n\n".join(partials[r.start:r.stop])),
                                     on_token if len(groups) == 1 else None)
                      for r in groups]
            if len(groups) == 1:
                return merged[0]
            partials = merged
