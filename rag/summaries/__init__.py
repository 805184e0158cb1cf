"""Cited summaries of whole documents, at the length and focus the user asks for.

candidates.py: the sentences a summary may quote; ranking.py: centrality, position,
focus and redundancy; length.py: short / medium / long or a count, per document;
compose.py: the summary text with its markers. The generative engine's map-reduce
summary (engines/llm.py) shares the request (request.py: length, focus, bullets).
"""

from rag.summaries.compose import extractive_summary
from rag.summaries.length import Length, parse_length, shares, single_count
from rag.summaries.request import SummaryRequest

__all__ = ["Length", "SummaryRequest", "extractive_summary", "parse_length", "shares",
           "single_count"]
