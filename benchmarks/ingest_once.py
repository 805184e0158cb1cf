"""One full ingest of a folder of files into an empty data directory, timed.

    python benchmarks/ingest_once.py CORPUS DATA_DIR

Prints `{"seconds": ..., "added": ...}`: the time of `Pipeline.ingest` (reading, chunking,
embedding, writing), not of loading the model. It imports nothing but the `rag` package,
so benchmarks/ingest.py runs it against citechat at an earlier commit (that checkout
first on PYTHONPATH), taking turns with today's ingest. It measures nothing else.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main(corpus: Path, data: Path) -> None:
    from rag.config import load_settings
    from rag.pipeline import Pipeline

    pipeline = Pipeline.build(load_settings(data_dir=data))
    started = time.perf_counter()
    report = pipeline.ingest([corpus])
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "added": report.count("added")}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
