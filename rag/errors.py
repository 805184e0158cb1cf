"""Errors a user can hit. The CLI and the app turn each into one clear sentence.

`raised_as` turns a library's own exceptions (chromadb, onnxruntime, httpx raise many
types) into one of these at the edge where their cause is known.
"""

from collections.abc import Iterator
from contextlib import contextmanager


class CitechatError(Exception):
    """Base class: its message is shown to the user as is."""


class UnsupportedFormat(CitechatError):
    """A file type citechat does not read."""


class UnreadableDocument(CitechatError):
    """A file that could not be read as text (empty, corrupt, encrypted, binary)."""


class TooLarge(UnreadableDocument):
    """A file over the size limit (the API answers 413 for it)."""


class DocumentNotFound(CitechatError):
    """A document name that is not in the collection."""


class EmbeddingMismatch(CitechatError):
    """The collection was built with another embedding model."""


class StoreUnavailable(CitechatError):
    """The vector store cannot be opened or reached."""


class StoreBusy(CitechatError):
    """Another process is writing to the same embedded store."""


class ModelUnavailable(CitechatError):
    """The embedding or chat model cannot be loaded or reached."""


class ConfigError(CitechatError):
    """A setting has an invalid value."""


class UnknownModel(CitechatError):
    """A model name the API does not serve (it serves `citechat` and `citechat:<engine>`)."""


class Unauthorized(CitechatError):
    """An API request without a valid key."""


class BadRequest(CitechatError):
    """An API request citechat cannot act on (malformed JSON, a message it cannot read)."""


@contextmanager
def raised_as(error: type[CitechatError], failed: str, after: str = ".") -> Iterator[None]:
    """Any exception but citechat's own raised again as `error`, saying
    "<failed> (<type>: <message>)<after>"."""
    try:
        yield
    except CitechatError:
        raise
    except Exception as exc:  # whatever the library raised: the cause is named below
        raise error(f"{failed} ({type(exc).__name__}: {exc}){after}") from exc
