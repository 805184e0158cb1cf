"""The generative model's settings as the app's sidebar edits them: base URL, model, key.

Saved in the data directory: `model.json` (base URL and model) and `openai-key` (the key
alone, created with file mode 0600). The key is never handed back to the page (only
whether one is saved), never logged and never in an export. Defaults come from Settings
(environment and TOML), and what is saved here overrides them in the app only, for every
visitor. `listed_models` and `check_connection` ask the server's /v1/models through the
`openai` client, failing with one line. Chat completions go through the engine as before.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from rag.config import Settings
from rag.errors import ConfigError, ModelUnavailable

CHOICE_FILE = "model.json"
KEY_FILE = "openai-key"
TIMEOUT_S = 5.0
NO_KEY = "not-needed"  # what the client sends to a local server that asks for none


@dataclass(frozen=True)
class ModelChoice:
    base_url: str | None  # None: api.openai.com
    model: str


def saved_choice(settings: Settings) -> ModelChoice:
    """The saved base URL and model, else the settings' own."""
    path = settings.data_dir / CHOICE_FILE
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        return ModelChoice(saved.get("base_url") or None, saved["model"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):  # none saved, or unreadable
        return ModelChoice(settings.openai_base_url, settings.openai_model)


def checked_url(base_url: str) -> str | None:
    """`base_url` stripped (None when empty); ConfigError unless it is http(s)."""
    url = base_url.strip().rstrip("/")
    if url and not url.startswith(("http://", "https://")):
        raise ConfigError(f"The base URL must start with http:// or https:// (got {url!r}).")
    return url or None


def save_choice(data_dir: Path, base_url: str, model: str) -> ModelChoice:
    if not model.strip():
        raise ConfigError("Name a model.")
    choice = ModelChoice(checked_url(base_url), model.strip())
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / CHOICE_FILE).write_text(json.dumps(asdict(choice)) + "\n", encoding="utf-8")
    return choice


def save_key(data_dir: Path, key: str) -> None:
    """Keeps `key` readable by this user only (mode 0600 from the start, never wider)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / KEY_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a file made before with wider rights is narrowed too
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(key.strip())


def saved_key(data_dir: Path) -> str | None:
    try:
        return (data_dir / KEY_FILE).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def applied(settings: Settings) -> Settings:
    """`settings` with the saved base URL, model and key in place of their own."""
    choice = saved_choice(settings)
    key = saved_key(settings.data_dir) or settings.openai_api_key
    return settings.model_copy(update={"openai_base_url": choice.base_url,
                                       "openai_model": choice.model, "openai_api_key": key})


def fingerprint(settings: Settings) -> str:
    """Tells apart settings that need another model client, without holding the key."""
    key = hashlib.sha256((settings.openai_api_key or "").encode()).hexdigest()[:16]
    return f"{settings.openai_base_url}|{settings.openai_model}|{key}"


def listed_models(base_url: str | None, key: str | None) -> list[str]:
    """The model ids the server lists; ModelUnavailable with one line when it does not."""
    import openai

    where = base_url or "api.openai.com"
    client = openai.OpenAI(base_url=base_url, api_key=key or NO_KEY, timeout=TIMEOUT_S,
                           max_retries=0)
    try:
        return sorted(model.id for model in client.models.list())
    except openai.AuthenticationError:
        raise ModelUnavailable(f"The model server at {where} rejected the API key.") from None
    except openai.APIConnectionError:  # a timeout too
        raise ModelUnavailable(f"Cannot reach a model server at {where}.") from None
    except openai.APIStatusError as exc:
        raise ModelUnavailable(f"The model server at {where} answered {exc.status_code} "
                               "to /models: is this an OpenAI-compatible base URL?") from None
    except (openai.APIError, ValueError):  # not JSON, or not a model list
        raise ModelUnavailable(f"{where} did not answer as an OpenAI-compatible server.") \
            from None


def check_connection(base_url: str | None, key: str | None, model: str) -> str:
    """One line on whether the server answers and serves `model`; ModelUnavailable
    when it does not answer."""
    models = listed_models(base_url, key)
    where = base_url or "api.openai.com"
    if models and model not in models:
        raise ModelUnavailable(f"{where} answers, but lists no model {model!r} "
                               f"({len(models)} others).")
    return f"Connected to {where}: {len(models)} model{'s' if len(models) != 1 else ''}."
