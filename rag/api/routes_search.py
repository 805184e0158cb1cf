"""Retrieval and summaries over REST: `POST /v1/search` (the passages a question
retrieves, each an exact span) and `POST /v1/summaries` (a cited summary of documents)."""

from __future__ import annotations

from fastapi import APIRouter

from rag.api.deps import PipelineDep, ServicesDep
from rag.api.protocol import (
    ERRORS,
    Cited,
    PassageOut,
    SearchRequest,
    SearchResults,
    Summary,
    SummaryRequest,
)

router = APIRouter(prefix="/v1", tags=["search"], responses=ERRORS)


@router.post("/search", response_model=SearchResults)
def search(request: SearchRequest, pipeline: PipelineDep) -> SearchResults:
    """The passages retrieved for `query`, best first (hybrid BM25 and vector search)."""
    passages = pipeline.retrieve(request.query, k=request.k, docs=request.documents)
    return SearchResults(query=request.query,
                         data=[PassageOut.model_validate(p) for p in passages])


@router.post("/summaries", response_model=Summary)
def summarize(request: SummaryRequest, services: ServicesDep) -> Summary:
    """A summary of `documents` (all of them when empty) at `length`, on `focus` if given,
    with `[n]` markers, each pointing to a cited span in `citechat.citations`."""
    pipeline = services.for_model(request.model)
    response = pipeline.summarize(request.documents, length=request.length,
                                  focus=request.focus, bullets=request.bullets)
    return Summary(model=request.model, summary=response.answer,
                   citechat=Cited.model_validate(response))
