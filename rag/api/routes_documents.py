"""The collection over REST: upload (multipart), list, read, delete.

An upload goes through `Pipeline.ingest_bytes`, as the app's does: the same size limit,
formats and one-line reasons, the same write lock. A request of several files answers
with each file's outcome; when every file failed, with the error of the first (413 too
large, 415 a type citechat does not read, 422 a file it cannot read). The request body
may be at most the file size limit plus the form's framing (rag/api/app.py's BodyLimit),
so an oversized upload is refused before it is stored anywhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Response, UploadFile

from rag.api.deps import PipelineDep
from rag.api.protocol import (
    ERRORS,
    Deleted,
    DocumentList,
    DocumentOut,
    DocumentText,
    FileOut,
    UploadResult,
)
from rag.documents import READERS, REFUSED
from rag.errors import BadRequest, TooLarge, UnreadableDocument, UnsupportedFormat
from rag.ingest import FileResult
from rag.pipeline import Pipeline

router = APIRouter(prefix="/v1/documents", tags=["documents"], responses=ERRORS)


@router.post("", response_model=UploadResult, status_code=201)
def upload(pipeline: PipelineDep, response: Response,
           file: Annotated[list[UploadFile] | None, File(
               description="One or more files (.txt .md .html .pdf .docx)")] = None,
           files: Annotated[list[UploadFile] | None, File(
               description="The same, under the other usual field name")] = None,
           ) -> UploadResult:
    """Add or update documents; each file's outcome in `data`."""
    uploads = [*(file or []), *(files or [])]
    if not uploads:
        raise BadRequest("No file in the request: send it as the multipart field 'file'.")
    results = [_ingest(pipeline, upload) for upload in uploads]
    if all(r.status == "failed" for r in results):
        raise _failure(results[0], (uploads[0].size or 0) > pipeline.max_bytes)
    if not any(r.status in ("added", "updated") for r in results):
        response.status_code = 200
    return UploadResult(data=[FileOut.model_validate(r) for r in results])


@router.get("", response_model=DocumentList)
def list_documents(pipeline: PipelineDep) -> DocumentList:
    """Every document: name, title, pages, chunks, characters."""
    return DocumentList(data=[DocumentOut.model_validate(d) for d in pipeline.documents()])


@router.get("/{name:path}", response_model=DocumentText)
def read_document(name: str, pipeline: PipelineDep) -> DocumentText:
    """A document's source text, the one every span `start:end` of it indexes."""
    text = pipeline.source_text(name)  # DocumentNotFound (404) first
    info = pipeline.store.document(name)
    return DocumentText(name=name, title=info.title if info else "", text=text,
                        page_ranges=list(info.page_ranges) if info else [])


@router.delete("/{name:path}", response_model=Deleted)
def delete_document(name: str, pipeline: PipelineDep) -> Deleted:
    """Delete a document and its chunks."""
    pipeline.remove(name)
    return Deleted(name=name)


def _ingest(pipeline: Pipeline, upload: UploadFile) -> FileResult:
    data = upload.file.read(pipeline.max_bytes + 1)
    return pipeline.ingest_bytes(upload.filename or "upload", data)


def _failure(result: FileResult, too_large: bool) -> Exception:
    """The error for a file that failed, typed by what is known about it."""
    message = f"{result.name}: {result.reason}"
    suffix = Path(result.name).suffix.lower()
    if suffix not in READERS or suffix in REFUSED:
        return UnsupportedFormat(message)
    if too_large:
        return TooLarge(message)
    return UnreadableDocument(message)
