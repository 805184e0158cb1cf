"""The model server's failures as one sentence each: `model_errors` turns the `openai`
client's exceptions (bad key, rate limit, timeout, unreachable, unknown model, any other
API error) into a `ModelUnavailable` naming the server. It retries nothing and leaves
errors that are not the server's (bugs, bad prompts) as they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from rag.errors import ModelUnavailable


def reason(exc: BaseException) -> str:
    """The innermost cause in a few words: 'connection refused'."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    first_line = next(iter(str(exc).splitlines()), "")
    text = re.sub(r"^\[Errno -?\d+\]\s*", "", first_line)
    return text[:1].lower() + text[1:].rstrip(".") if text else type(exc).__name__


def server_says(exc: BaseException) -> str:
    """The error message in an API error's body, on one line, or ''."""
    body = getattr(exc, "body", None)
    message = body.get("message") if isinstance(body, dict) else None
    return " ".join(str(message).split())[:200].rstrip(".") if message else ""


@contextmanager
def model_errors(location: str, model_name: str, timeout: float | None) -> Iterator[None]:
    import openai

    server = f"The model server at {location}"
    try:
        yield
    except openai.AuthenticationError:
        raise ModelUnavailable(f"{server} rejected the API key "
                               "(check CITECHAT_OPENAI_API_KEY).") from None
    except openai.RateLimitError:
        raise ModelUnavailable(f"{server} is rate-limiting requests; try again shortly.") \
            from None
    except openai.APITimeoutError:  # before APIConnectionError: it is a subclass
        within = f" within {timeout:g} seconds" if timeout else ""
        raise ModelUnavailable(f"{server} did not answer{within}.") from None
    except openai.APIConnectionError as exc:
        raise ModelUnavailable(f"Cannot reach the model server at {location}: "
                               f"{reason(exc)}.") from None
    except openai.NotFoundError:
        raise ModelUnavailable(f"{server} has no model named {model_name!r} "
                               "(check CITECHAT_OPENAI_MODEL).") from None
    except openai.APIError as exc:
        status = getattr(exc, "status_code", None) or "error"
        says = server_says(exc)
        raise ModelUnavailable(f"{server} failed ({status}{': ' + says if says else ''}).") \
            from None
