"""Prompt templates: plain-text files in `prompts/`, loaded by name and filled strictly.

A template's `{variables}` must be exactly the values given: a missing or an unexpected
one is an error, so a template and the code that fills it cannot drift apart silently.
It does not call a model.
"""

from __future__ import annotations

import string
from functools import cache
from pathlib import Path

from rag.errors import ConfigError

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"


@cache
def template(name: str) -> str:
    try:
        return (PROMPTS_DIR / f"{name}.txt").read_text(encoding="utf-8")
    except OSError:
        raise ConfigError(f"Prompt template {name!r} is missing from {PROMPTS_DIR}.") from None


def template_variables(name: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template(name)) if field}


def render(name: str, **values: str) -> str:
    wanted = template_variables(name)
    if wanted != set(values):
        missing, extra = wanted - set(values), set(values) - wanted
        raise ConfigError(
            f"Prompt {name!r}: missing {sorted(missing)}, unexpected {sorted(extra)}.")
    return template(name).format(**values)
