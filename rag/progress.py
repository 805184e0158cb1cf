"""Progress on the terminal for one large document while it is ingested: its pages as
they are read, then its chunks and sentences as they are embedded (tqdm, on stderr).

A file of a few pages is over before a bar would help, so bars appear only past
MIN_PAGES pages or MIN_TEXTS texts to embed. `Silent` is the same interface doing
nothing (no terminal, JSON output, the app).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

MIN_PAGES = 20
MIN_TEXTS = 500
EMBED_SLICE = 256  # texts embedded between two updates of the bar


class Silent:
    def page(self, done: int, total: int) -> None:
        """PDF readers call it after each page."""

    def embed(self, embed: Callable[[Sequence[str]], np.ndarray],
              texts: Sequence[str]) -> np.ndarray:
        return embed(texts)

    def close(self) -> None:
        pass


class Bars(Silent):
    def __init__(self, name: str) -> None:
        self.name = name
        self.reading = None

    def page(self, done: int, total: int) -> None:
        if total < MIN_PAGES:
            return
        if self.reading is None:
            from tqdm import tqdm

            self.reading = tqdm(total=total, desc=f"Reading {self.name}", unit="page",
                                leave=False, position=1)
        self.reading.update(done - self.reading.n)

    def embed(self, embed: Callable[[Sequence[str]], np.ndarray],
              texts: Sequence[str]) -> np.ndarray:
        if len(texts) < MIN_TEXTS:
            return embed(texts)
        from tqdm import tqdm

        parts = []
        with tqdm(total=len(texts), desc=f"Embedding {self.name}", unit="text", leave=False,
                  position=1) as bar:
            for first in range(0, len(texts), EMBED_SLICE):
                parts.append(embed(texts[first : first + EMBED_SLICE]))
                bar.update(len(parts[-1]))
        return np.concatenate(parts)

    def close(self) -> None:
        if self.reading is not None:
            self.reading.close()


SILENT = Silent()
