"""Answer engines: turn a question and passages into a draft answer with `[n]` markers.

Every engine implements `Engine` (see base.py); `build_engine` picks one by setting.
"""

from __future__ import annotations

from rag.config import Settings
from rag.embedding import Embedder
from rag.engines.base import Engine


def build_engine(settings: Settings, embedder: Embedder) -> Engine:
    if settings.engine == "openai":
        from rag.engines.llm import LLMEngine, build_chat_model

        return LLMEngine(build_chat_model(settings))
    from rag.engines.extractive import DEFAULT_THRESHOLD, ExtractiveEngine

    threshold = settings.refusal_threshold
    return ExtractiveEngine(embedder, DEFAULT_THRESHOLD if threshold is None else threshold)
