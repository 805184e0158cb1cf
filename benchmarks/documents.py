"""Real PDFs read as a reader would: the questions of benchmarks/data/pdf-questions.jsonl
(gold quotes and gold pages over the four PDFs of ../shared/bench/pdf/, skipped when
absent) asked of one collection holding all four, with the offline extractive engine.

Figures, each with its sample size:
- found whole: gold quotes found whole in the extracted text (whitespace aside), for
  citechat's reader and for pypdf's plain text (what citechat read before);
- in passages: gold quotes wholly inside one of the passages retrieved for the question,
  for both readers (the pypdf text ingested as a plain-text document);
- citation pages: citations whose pages are the pages their characters are printed on,
  the truth taken from pypdf's own per-page text (independent of PDFium);
- mid-sentence ends: citations that end where the PDF's sentence does not (neither at
  sentence-final punctuation nor at the end of a paragraph, heading or cell);
- hyphens: line-end hyphens the reader joined or kept, and how often wordfreq (when
  installed; not a dependency) agrees;
- ingest: seconds to read and to ingest each PDF, the 619-page manual with progress bars.

    python -m benchmarks.documents          # writes docs/bench-documents.json
    python -m benchmarks.documents --quick  # without the manual (prints only)
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import time
import unicodedata
from pathlib import Path
from typing import ClassVar

from benchmarks.common import DOCS, ROOT
from benchmarks.corpora import SHARED
from rag import documents
from rag.config import load_settings
from rag.pages import pages_of
from rag.pipeline import Pipeline
from rag.readers import assembly, hyphens

PDFS = SHARED / "bench" / "pdf"
QUESTIONS = ROOT / "benchmarks" / "data" / "pdf-questions.jsonl"
RESULTS = DOCS / "bench-documents.json"
_ENDS_SENTENCE = re.compile(r"[.!?:;…][\"'”’)\]]*$")


def flat(text: str) -> str:
    return " ".join(text.split())


def letters(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKC", text).casefold() if c.isalnum())


def pypdf_pages(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() or "" for page in PdfReader(path).pages]


def printed_on(page_letters: list[str], text: str) -> tuple[int, int] | None:
    """The fewest consecutive pages (1-based first, last) whose letters hold `text`'s."""
    wanted = letters(text)
    for span in range(1, 4):
        for first in range(len(page_letters) - span + 1):
            if wanted in "".join(page_letters[first : first + span]):
                return first + 1, first + span
    return None


def ends_mid_sentence(text: str, end: int) -> bool:
    """Whether a span ending at `end` stops inside a sentence of `text`."""
    before = text[:end].rstrip()
    after = text[end:]
    if _ENDS_SENTENCE.search(before) or not after.strip():
        return False
    return not after.lstrip(" \t").startswith("\n")


class RecordingVocabulary(hyphens.Vocabulary):
    decisions: ClassVar[list[tuple[str, str, bool]]] = []

    def joins(self, left: str, right: str) -> bool:
        joined = super().joins(left, right)
        self.decisions.append((left, right, joined))
        return joined


def hyphen_agreement(decisions: list[tuple[str, str, bool]]) -> dict:
    try:
        from wordfreq import zipf_frequency
    except ImportError:
        return {"decisions": len(decisions), "joined": sum(d[2] for d in decisions),
                "wordfreq": "not installed"}
    agree, disagreements = 0, []
    for left, right, joined in decisions:
        whole = zipf_frequency(left + right, "en")
        oracle = whole >= 1.5 and whole >= zipf_frequency(f"{left} {right}", "en") - 0.5
        agree += oracle == joined
        if oracle != joined:
            disagreements.append(f"{left}-{right}: {'joined' if joined else 'kept'}")
    return {"decisions": len(decisions), "joined": sum(d[2] for d in decisions),
            "wordfreq_agrees": round(agree / max(1, len(decisions)), 3),
            "disagreements": disagreements[:40]}


def read_all(files: list[Path]) -> tuple[dict, dict]:
    """Each PDF read by citechat's reader (timed) and by pypdf."""
    assembly.Vocabulary = RecordingVocabulary  # type: ignore[misc]
    ours, baseline = {}, {}
    for path in files:
        started = time.perf_counter()
        ours[path.name] = documents.read(path.name, path.read_bytes())
        ours[path.name + ":seconds"] = round(time.perf_counter() - started, 2)
        baseline[path.name] = pypdf_pages(path)
    assembly.Vocabulary = hyphens.Vocabulary  # type: ignore[misc]
    return ours, baseline


def ingest(files: list[Path], baseline: dict, folder: Path) -> tuple[Pipeline, Pipeline, dict]:
    """Both collections built; the PDFs ingested one at a time, timed, with bars."""
    ours = Pipeline.build(load_settings(data_dir=folder / "ours"))
    seconds = {}
    for path in files:
        started = time.perf_counter()
        report = ours.ingest([path], progress=True)
        seconds[path.name] = {"seconds": round(time.perf_counter() - started, 1),
                              "chunks": report.results[0].chunks,
                              "status": report.results[0].status}
        print(f"  ingested {path.name}: {seconds[path.name]}", file=sys.stderr, flush=True)
    plain = folder / "plain"
    plain.mkdir()
    for name, pages in baseline.items():
        (plain / f"{name}.txt").write_text("\n\n".join(p.strip() for p in pages if p.strip()))
    theirs = Pipeline.build(load_settings(data_dir=folder / "theirs"), embedder=ours.embedder)
    theirs.ingest([plain])
    return ours, theirs, seconds


def evaluate(questions: list[dict], ours: Pipeline, theirs: Pipeline, read: dict,
             baseline: dict) -> dict:
    page_letters = {name: [letters(p) for p in pages] for name, pages in baseline.items()}
    counts = {"questions": len(questions), "found_whole": 0, "found_whole_pypdf": 0,
              "in_passages": 0, "in_passages_pypdf": 0, "gold_page_retrieved": 0,
              "citations": 0, "citation_pages_right": 0, "citation_pages_unknown": 0,
              "mid_sentence_ends": 0}
    misses: list[str] = []
    for q in questions:
        doc = read[q["file"]].document
        quote = flat(q["quote"])
        counts["found_whole"] += quote in flat(doc.text)
        counts["found_whole_pypdf"] += quote in flat("\n\n".join(baseline[q["file"]]))
        response = ours.ask(q["question"])
        passages = [p for p in response.passages if p.doc == q["file"]]
        hit = any(quote in flat(p.text) for p in passages)
        counts["in_passages"] += hit
        if not hit:
            misses.append(q["id"])
        counts["gold_page_retrieved"] += any(
            (pages_of(doc.pages, p.start, p.end) or (0, -1))[0] <= q["page"]
            <= (pages_of(doc.pages, p.start, p.end) or (0, -1))[1] for p in passages)
        plain = theirs.retrieve(q["question"], budget_chars=theirs.settings.context_chars)
        counts["in_passages_pypdf"] += any(
            quote in flat(p.text) for p in plain if p.doc == f"{q['file']}.txt")
        for citation in response.citations:
            cited = read[citation.doc].document
            counts["citations"] += 1
            truth = printed_on(page_letters[citation.doc], citation.text)
            claimed = getattr(citation, "pages", None) or pages_of(
                cited.pages, citation.start, citation.end)
            counts["citation_pages_unknown"] += truth is None
            counts["citation_pages_right"] += truth is not None and tuple(claimed) == truth
            counts["mid_sentence_ends"] += ends_mid_sentence(cited.text, citation.end)
    counts["missed_in_passages"] = misses
    return counts


def main() -> int:
    if not PDFS.is_dir():
        print(f"skipped: {PDFS} is absent", file=sys.stderr)
        return 0
    questions = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line]
    files = sorted({PDFS / q["file"] for q in questions if (PDFS / q["file"]).exists()},
                   key=lambda p: p.stat().st_size)
    if "--quick" in sys.argv:  # without the 619-page manual
        files = [p for p in files if p.stat().st_size < 1_000_000]
    questions = [q for q in questions if PDFS / q["file"] in files]
    read, baseline = read_all(files)
    with tempfile.TemporaryDirectory() as tmp:
        ours, theirs, seconds = ingest(files, baseline, Path(tmp))
        figures = evaluate(questions, ours, theirs, read, baseline)
    figures["hyphens"] = hyphen_agreement(RecordingVocabulary.decisions)
    figures["read_seconds"] = {p.name: read[p.name + ":seconds"] for p in files}
    figures["pages"] = {p.name: len(read[p.name].document.pages) for p in files}
    figures["ingest"] = seconds
    if "--quick" not in sys.argv:
        RESULTS.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
