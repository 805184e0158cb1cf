"""Answer engines: turn a question and passages into a draft answer with `[n]` markers.

Every engine implements `Engine` (see base.py); `build_engine` picks one by setting.
"""

from __future__ import annotations

from collections.abc import Callable

from rag.config import Settings
from rag.embedding import Embedder
from rag.engines.base import Engine


def build_engine(settings: Settings, embedder: Embedder,
                 known: Callable[[str], bool] | None = None) -> Engine:
    """The engine the settings name; `known` tells the extractive engine which terms
    the collection contains."""
    from rag.answerability import load
    from rag.refusal import DEFAULT_THRESHOLD

    threshold = settings.refusal_threshold
    threshold = DEFAULT_THRESHOLD if threshold is None else threshold
    model = load() if settings.refusal_model else None
    if settings.engine == "openai":
        from rag.engines.llm import LLMEngine, build_chat_model, where
        from rag.selection import Selector

        return LLMEngine(build_chat_model(settings), where(settings),
                         selector=Selector(embedder, known, threshold, model))
    from rag.engines.extractive import ExtractiveEngine

    return ExtractiveEngine(embedder, threshold, known=known, answerability=model)
