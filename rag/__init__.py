"""citechat: answers and summaries over documents, every claim cited to an exact span.

Re-exports the public API. The pipeline (and with it Chroma and onnxruntime) and the
LangChain retriever are imported on first use, so `import rag` stays cheap.
"""

from typing import Any

from rag.config import Settings, load_settings
from rag.errors import CitechatError
from rag.types import Chunk, Citation, Document, Passage, Response, Turn

__all__ = [
    "Chunk",
    "Citation",
    "CitechatError",
    "CitechatRetriever",
    "Document",
    "FileResult",
    "IngestReport",
    "Passage",
    "Pipeline",
    "Response",
    "Settings",
    "Turn",
    "citechat_chain",
    "load_settings",
]


def __getattr__(name: str) -> Any:
    if name in ("Pipeline", "IngestReport", "FileResult"):
        from rag import pipeline

        return getattr(pipeline, name)
    if name in ("CitechatRetriever", "citechat_chain"):
        from rag import langchain

        return getattr(langchain, name)
    raise AttributeError(name)
