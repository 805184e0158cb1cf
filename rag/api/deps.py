"""What every request shares: the pipeline, and the engines a model name selects
(`citechat` is the configured engine, `citechat:<engine>` another one). Handed to
handlers through FastAPI's `Depends`.

One pipeline per process: a `citechat:<engine>` request gets a pipeline of that engine
over the same embedder and store, built on first use and kept, never a second store.
"""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPBearer

from rag.api.protocol import SERVED_MODEL
from rag.errors import UnknownModel
from rag.pipeline import Pipeline

ENGINES = ("extractive", "openai")


class Services:
    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self._pipelines = {pipeline.settings.engine: pipeline}  # engine -> its pipeline
        self._building = threading.Lock()
        pipeline.engine  # noqa: B018 - built now, not by two requests racing for it

    def models(self) -> list[str]:
        """The model names served: the default, then each engine that is configured."""
        settings = self.pipeline.settings
        configured = [e for e in ENGINES
                      if e != "openai" or settings.openai_base_url or settings.openai_api_key]
        return [SERVED_MODEL, *(f"{SERVED_MODEL}:{e}" for e in configured)]

    def for_model(self, model: str) -> Pipeline:
        """The pipeline answering as `model`, or UnknownModel."""
        if model == SERVED_MODEL:
            return self.pipeline
        if model not in self.models():
            raise UnknownModel(f"The model {model!r} does not exist here; this server has "
                               + ", ".join(self.models()) + ".")
        engine = model.partition(":")[2]
        with self._building:
            if engine not in self._pipelines:
                base = self.pipeline
                settings = base.settings.model_copy(update={"engine": engine})
                chosen = Pipeline(settings, base.embedder, base.store)
                chosen.engine  # noqa: B018 - built once, under the lock
                self._pipelines[engine] = chosen
            return self._pipelines[engine]


# async: trivial lookups, not worth a trip to the thread pool each
async def services(request: Request) -> Services:
    return request.app.state.services


async def pipeline(request: Request) -> Pipeline:
    return request.app.state.services.pipeline


# Declared for the OpenAPI page (its "Authorize" button); rag/api/middleware.py checks it.
bearer = HTTPBearer(auto_error=False, description="An API key, when the server has keys")


ServicesDep = Annotated[Services, Depends(services)]
PipelineDep = Annotated[Pipeline, Depends(pipeline)]
