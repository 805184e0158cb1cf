"""Prompt templates: plain-text files in `rag/prompts/`, loaded by name and filled strictly.

Templates use `str.format` placeholders (`{question}`; literal braces are doubled). A
template's variables must be exactly the values given: a missing or an unexpected one is
an error, so a template and the code that fills it cannot drift apart silently.

The folder is package data, read with `importlib.resources`, so the templates are found
the same way from a checkout, an editable install and a built wheel. This module does not
call a model.
"""

from __future__ import annotations

import string
from functools import cache
from importlib.resources import files

from rag.errors import ConfigError

PROMPTS_DIR = files("rag") / "prompts"


@cache
def template(name: str) -> str:
    """The text of `rag/prompts/<name>.txt`, read once."""
    try:
        return (PROMPTS_DIR / f"{name}.txt").read_text(encoding="utf-8")
    except OSError:
        raise ConfigError(f"Prompt template {name!r} is missing from {PROMPTS_DIR}.") from None


def template_variables(name: str) -> set[str]:
    """The placeholder names in the template (`{a}` and `{a!r}` both give 'a')."""
    return {field for _, field, _, _ in string.Formatter().parse(template(name)) if field}


def render(name: str, **values: str) -> str:
    """The template filled with `values`, which must name exactly its variables."""
    wanted, given = template_variables(name), set(values)
    if wanted != given:
        problems = [f"{label} {', '.join(sorted(names))}"
                    for label, names in (("missing", wanted - given),
                                         ("unexpected", given - wanted)) if names]
        raise ConfigError(f"Prompt template {name!r}: {'; '.join(problems)}.")
    return template(name).format(**values)
