"""What a summary request asks for besides its documents: length, focus, bullets.

The extractive engine reads the fields; a language model gets them as one instruction
(`instruction`), worded here so both engines mean the same by "short" and "long".
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.summaries.length import Length, parse_length

_WORDED = {"short": "Keep it short: two to four sentences in all.",
           "auto": "Keep it to about one paragraph per document.",
           "medium": "Keep it to about one paragraph per document.",
           "long": "Be thorough: several paragraphs, covering every main point."}


@dataclass(frozen=True)
class SummaryRequest:
    length: Length = "auto"
    focus: str = ""  # summarize only what the documents say about this
    bullets: bool = False  # one point per line

    def __post_init__(self) -> None:
        object.__setattr__(self, "length", parse_length(self.length))
        object.__setattr__(self, "focus", " ".join(self.focus.split()))

    def instruction(self, refusal: str) -> str:
        """The request as a sentence or three for a language model."""
        parts = [f"Use {self.length} sentences in all." if isinstance(self.length, int)
                 else _WORDED[self.length]]
        if self.bullets:
            parts.append("Write each point on its own line, starting with '- '.")
        if self.focus:
            parts.append(f"Cover only what the passages say about this: {self.focus}. If "
                         f"none of them says anything about it, reply only: {refusal}")
        return " ".join(parts)
