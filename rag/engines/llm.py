"""The generative engine: any OpenAI-compatible chat model through LangChain.

Prompts come from `prompts/` (rag/prompts.py). Answers and summaries stream token by
token (LCEL `.stream()`); follow-ups are condensed into standalone questions first;
summaries are map-reduce over all chunks of the documents asked for, with passage
numbers global so markers survive the reduce step. Failures of the model server
(missing key, unreachable, timeout, rate limit, unknown model) become one
`ModelUnavailable` sentence. Markers are not checked here: rag/citations.py does that.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage
from langchain_core.output_parsers import StrOutputParser

from rag.citations import parse_markers
from rag.config import Settings
from rag.engines.base import REFUSAL, Draft, TokenSink
from rag.errors import ModelUnavailable
from rag.prompts import render
from rag.types import Passage, Turn

BATCH_CHARS = 6000  # passages per map step, in characters
HISTORY_TURNS = 4


def build_chat_model(settings: Settings) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    if not settings.openai_base_url and not settings.openai_api_key:
        raise ModelUnavailable(
            "Set CITECHAT_OPENAI_API_KEY, or point CITECHAT_OPENAI_BASE_URL at an "
            "OpenAI-compatible server, to use the openai engine.")
    return ChatOpenAI(
        model=settings.openai_model,
        base_url=settings.openai_base_url,
        # local servers (vLLM, Ollama, llama.cpp) accept any key
        api_key=settings.openai_api_key or "not-needed",
        timeout=settings.openai_timeout,
        max_retries=1,
        temperature=settings.temperature,
        streaming=True,
    )


def where(settings: Settings) -> str:
    return f"{settings.openai_model} @ {settings.openai_base_url or 'api.openai.com'}"


@contextmanager
def _model_errors(location: str) -> Iterator[None]:
    import openai

    try:
        yield
    except openai.AuthenticationError:
        raise ModelUnavailable(f"The model server at {location} rejected the API key.") from None
    except openai.RateLimitError:
        raise ModelUnavailable(f"The model server at {location} is rate-limiting requests; "
                               "try again shortly.") from None
    except openai.APITimeoutError:
        raise ModelUnavailable(f"The model server at {location} timed out.") from None
    except openai.APIConnectionError:
        raise ModelUnavailable(f"Cannot reach the model server at {location}.") from None
    except openai.NotFoundError:
        raise ModelUnavailable(f"The model server at {location} does not know that model.") \
            from None
    except openai.APIError as exc:
        status = getattr(exc, "status_code", None) or "error"
        raise ModelUnavailable(f"The model server at {location} failed ({status}).") from None


def _numbered(passages: Sequence[Passage], first: int = 1) -> str:
    return "\n\n".join(f"[{n}] (from {p.doc})\n\"\"\"\n{p.text}\n\"\"\""
                       for n, p in enumerate(passages, start=first))


def _is_refusal(text: str) -> bool:
    said = text.strip().lower()
    return not parse_markers(text) and (
        said.startswith(REFUSAL.lower().rstrip(".")) or "documents don't say" in said
        or "documents do not say" in said or not said)


class LLMEngine:
    name = "openai"

    def __init__(self, model: BaseChatModel, location: str = "the model server",
                 batch_chars: int = BATCH_CHARS) -> None:
        self.chain = model | StrOutputParser()
        self.location = location
        self.batch_chars = batch_chars

    def _complete(self, prompt: str, on_token: TokenSink | None = None) -> str:
        pieces: list[str] = []
        with _model_errors(self.location):
            for piece in self.chain.stream([HumanMessage(content=prompt)]):
                pieces.append(piece)
                if on_token:
                    on_token(piece)
        return "".join(pieces).strip()

    def condense(self, history: Sequence[Turn], question: str) -> str:
        if not history:
            return question
        shown = "\n".join(f"User: {t.question}\nAssistant: {t.answer}"
                          for t in history[-HISTORY_TURNS:])
        rewritten = self._complete(render("condense", history=shown, question=question))
        return rewritten.splitlines()[0].strip() if rewritten else question

    def answer(self, question: str, passages: Sequence[Passage],
               on_token: TokenSink | None = None) -> Draft:
        if not passages:
            return Draft(REFUSAL, [], refused=True)
        prompt = render("answer", passages=_numbered(passages), question=question,
                        refusal=REFUSAL)
        text = self._complete(prompt, on_token)
        if _is_refusal(text):
            return Draft(REFUSAL, [], refused=True)
        return Draft(text, list(passages))

    def _batches(self, units: Sequence[Passage]) -> list[tuple[int, list[Passage]]]:
        """(number of the first unit, units) groups of about `batch_chars` characters."""
        batches: list[tuple[int, list[Passage]]] = []
        size = 0
        for n, unit in enumerate(units, start=1):
            if not batches or size + len(unit.text) > self.batch_chars:
                batches.append((n, []))
                size = 0
            batches[-1][1].append(unit)
            size += len(unit.text)
        return batches

    def summarize(self, units: Sequence[Passage], instruction: str = "",
                  on_token: TokenSink | None = None) -> Draft:
        if not units:
            return Draft(REFUSAL, [], refused=True)
        batches = self._batches(units)
        single = len(batches) == 1
        partials = [
            self._complete(render("summarize_map", passages=_numbered(batch, first),
                                  instruction=instruction), on_token if single else None)
            for first, batch in batches
        ]
        if single:
            return Draft(partials[0], list(units))
        text = self._complete(render("summarize_reduce", summaries="\n\n".join(partials),
                                     instruction=instruction), on_token)
        return Draft(text, list(units))
