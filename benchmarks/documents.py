"""Real PDFs read as a reader would: the questions of benchmarks/data/pdf-questions.jsonl
(gold quotes and gold pages over the four PDFs of ../shared/bench/pdf/, skipped when
absent) asked of one collection holding all four, with the offline extractive engine.

Figures, each with its sample size:
- found whole: gold quotes found whole in the extracted text (whitespace aside), for
  citechat's reader and for pypdf's plain text (what citechat read before);
- in passages: gold quotes wholly inside one of the passages `ask` answered from, for
  both readers (the pypdf text ingested as a plain-text document, the manual's left out:
  it would take as long again to embed), and for each miss the rank of the first
  passage holding it;
- pages: whether each citation's pages, and each sentence's, are the pages its
  characters are printed on. The truth is PDFium's own per-page characters (what each
  page prints inside its visible area, before citechat joins lines, moves captions or
  joins pages): the letters of the span are looked up in the pages' letters end to end,
  and the pages each occurrence lies on are its placements. Right: the claimed pages are
  a placement (ambiguous when the text is printed elsewhere too); wrong: they are not.
  A span found nowhere end to end (citechat moved a caption, table or header out of it)
  is placed by its first and last 40 letters, a little apart; one placed by neither is
  "words" when the pages it claims print each of its words, else unknown.
  Where PDFium's letters hold none of the span's (its glyphs without a Unicode map),
  pypdf's per-page text is the truth; unknown: found in neither;
- mid-sentence ends: citations that end where the PDF's sentence does not (neither at
  sentence-final punctuation nor at the end of a paragraph, heading or cell);
- hyphens: line-end hyphens the reader joined or kept, and how often wordfreq (when
  installed; not a dependency) agrees;
- sentence splitting: Punkt's sentence ends inside a line beside those of the
  hand-written rules it replaced, on the PDFs' text and the seeds, the disagreements
  listed to judge by hand;
- ingest: seconds to read and to ingest each PDF (the 619-page manual with progress
  bars), with the machine's load average when it was measured.

    python -m benchmarks.documents          # all four PDFs; prints the figures
    python -m benchmarks.documents --quick  # without the 619-page manual
    python -m benchmarks.run --only documents   # the same, into docs/benchmarks.md
"""

from __future__ import annotations

import bisect
import json
import os
import re
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from pathlib import Path
from typing import ClassVar

from benchmarks.common import ROOT
from benchmarks.corpora import SHARED
from rag import documents
from rag.config import load_settings
from rag.pages import printed_chars
from rag.pipeline import Pipeline
from rag.readers import assembly, hyphens
from rag.readers.pdf import opened
from rag.sentences import sentence_spans
from rag.types import Document, Pages, pages_of

PDFS = SHARED / "bench" / "pdf"
QUESTIONS = ROOT / "benchmarks" / "data" / "pdf-questions.jsonl"
MANUAL = "DA-619p.pdf"
SEEDS = ROOT / "rag" / "seeds"
_UNMAPPED = re.compile(r"ff[il]")
_ENDS_SENTENCE = re.compile(r"[.!?:;…][\"'”’)\]]*$")


def flat(text: str) -> str:
    return " ".join(text.split())


def letters(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKC", text).casefold() if c.isalnum())


def pypdf_pages(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() or "" for page in PdfReader(path).pages]


class PrintedPages:
    """The letters each page of a PDF prints, end to end, and where each page's begin;
    `fallback`, another reading of the same pages, answers where these letters hold none
    of a text's."""

    def __init__(self, pages: list[str], fallback: PrintedPages | None = None) -> None:
        pages = [letters(page) for page in pages]
        self.letters, self.fallback = "".join(pages), fallback
        self.starts = [sum(len(p) for p in pages[:n]) for n in range(len(pages))]

    @classmethod
    def of_pdf(cls, data: bytes, fallback: PrintedPages | None = None) -> PrintedPages:
        """PDFium's characters of each page, inside its visible area (before citechat
        joins lines, moves captions or joins pages)."""
        pages = []
        with opened(data) as pdf:
            for number in range(len(pdf)):
                handle = pdf[number]
                textpage = handle.get_textpage()
                pages.append(assembly.clean(printed_chars(handle, textpage)))
                textpage.close()
                handle.close()
        return cls(pages, fallback)

    def placements(self, text: str) -> set[Pages]:
        """(first, last) pages of each place the text's letters are printed: end to end,
        else its first and last 40 letters a little apart (what citechat moved out of the
        sentence, a caption, a table, a running header, is printed between them)."""
        wanted = letters(text)
        found = self._runs(wanted, wanted)
        if not found and len(wanted) > 80:
            found = self._runs(wanted[:40], wanted[-40:], gap=len(wanted) + 3000)
        if not found and self.fallback is not None:
            return self.fallback.placements(text)
        return found

    def _runs(self, head: str, tail: str, gap: int = 0) -> set[Pages]:
        found: set[Pages] = set()
        at = self.letters.find(head) if head else -1
        while at >= 0:
            end = at + len(head) if not gap else self.letters.find(tail, at + len(head),
                                                                    at + len(head) + gap)
            if end >= 0:
                last = end - 1 if not gap else end + len(tail) - 1
                found.add((bisect.bisect_right(self.starts, at),
                           bisect.bisect_right(self.starts, last)))
            at = self.letters.find(head, at + 1)
        return found


    def holds_words(self, text: str, pages: Pages) -> bool:
        """Whether the pages print every word of the text (of three letters or more)."""
        first, last = pages[0] - 1, pages[1]
        end = self.starts[last] if last < len(self.starts) else len(self.letters)
        printed = self.letters[self.starts[first]:end]
        # a font without a Unicode map prints "ffi" as nothing: "di culties" is "difficulties"
        return all(word in printed or _UNMAPPED.sub("", word) in printed
                   for word in map(letters, text.split()) if len(word) >= 3)


def page_verdict(truth: PrintedPages, text: str, claimed: Pages | None) -> str:
    placed = truth.placements(text)
    if not placed:  # letters moved within the page (a table, a list read across)
        return "words" if claimed and truth.holds_words(text, claimed) else "unknown"
    if tuple(claimed or ()) not in placed:
        return "wrong"
    return "right" if len(placed) == 1 else "ambiguous"


def sentence_pages(doc: Document, truth: PrintedPages) -> dict:
    """Every sentence of the document (of 15 letters or more) checked like a citation."""
    verdicts: Counter[str] = Counter()
    wrong = []
    for start, end in sentence_spans(doc.text):
        if len(letters(doc.text[start:end])) >= 15:
            verdict = page_verdict(truth, doc.text[start:end], pages_of(doc.pages, start, end))
            verdicts[verdict] += 1
            if verdict == "wrong":
                wrong.append(doc.text[start:end][:80])
    return {**verdicts, "wrong_examples": wrong[:5]}


# The hand-written rules Punkt replaced (rag/sentences.py before it), as the baseline: a
# sentence ends at . ! ? … before a capital, a digit or an opening quote, unless the word
# before is a listed abbreviation or an initial; a line break always ends one.
_RULE_END = re.compile(r"""(?<=[.!?…])["'”’)\]]*\s+(?=["'“‘(\[]?[A-Z0-9\u00C0-\u024F])|\n+""")
_RULE_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st vs etc e.g i.e u.s u.k u.n no gen col lt sgt rep sen gov "
    "inc ltd co corp dept jan feb mar apr jun jul aug sep sept oct nov dec fig".split())


_LINE_END = re.compile(r"[^\S\n]*(?:\n|\Z)")


def rule_ends(text: str) -> set[int]:
    """Where the old rules end a sentence inside a line (offsets after its last character)."""
    found, begin = set(), 0
    for match in _RULE_END.finditer(text):
        gap = match.group(0)
        cut = match.start() + len(gap) - len(gap.lstrip("\"'”’)]"))
        word = (text[begin:cut].split() or [""])[-1].lower().rstrip(".").lstrip("(\"'“‘")
        initial = len(word) == 1 and word.isalpha()
        if "\n" in gap or not (word in _RULE_ABBREVIATIONS or initial
                               or re.fullmatch(r"(?:[a-z]\.)+[a-z]", word)):
            if "\n" not in gap:
                found.add(len(text[:cut].rstrip()))
            begin = match.end()
    return found


def _shown(text: str, ends: set[int]) -> list[str]:
    return [flat(text[max(0, e - 50):e]) + " ‖ " + flat(text[e:e + 30]) for e in sorted(ends)]


def splitting(texts: dict[str, str]) -> dict:
    """Punkt (rag/sentences.py) beside the rules it replaced: sentence ends inside a line
    (line breaks end a sentence for both), where they agree and where only one ends one,
    with examples of each kind of disagreement to judge by hand."""
    figures = {}
    for name, text in texts.items():
        punkt = {end for _, end in sentence_spans(text) if not _LINE_END.match(text, end)}
        rules = rule_ends(text)
        figures[name] = {"punkt": len(punkt), "rules": len(rules), "both": len(punkt & rules),
                         "punkt_only": _shown(text, punkt - rules),
                         "rules_only": _shown(text, rules - punkt)}
    return figures


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


def read_all(files: list[Path]) -> tuple[dict, dict, dict, dict]:
    """Each PDF read by citechat's reader (timed), by pypdf, and as PDFium prints it."""
    RecordingVocabulary.decisions = []
    assembly.Vocabulary = RecordingVocabulary  # type: ignore[misc]
    ours, seconds, baseline, printed = {}, {}, {}, {}
    for path in files:
        started = time.perf_counter()
        ours[path.name] = documents.read(path.name, path.read_bytes()).document
        seconds[path.name] = round(time.perf_counter() - started, 2)
        baseline[path.name] = pypdf_pages(path)
        printed[path.name] = PrintedPages.of_pdf(path.read_bytes(),
                                                 PrintedPages(baseline[path.name]))
    assembly.Vocabulary = hyphens.Vocabulary  # type: ignore[misc]
    return ours, seconds, baseline, printed


def ingest(files: list[Path], baseline: dict, folder: Path) -> tuple[Pipeline, Pipeline, dict]:
    """Both collections built; the PDFs ingested one at a time, timed, with bars."""
    ours = Pipeline.build(load_settings(data_dir=folder / "ours"))
    seconds = {}
    for path in files:
        load = round(os.getloadavg()[0], 1)
        started = time.perf_counter()
        report = ours.ingest([path], progress=True)
        seconds[path.name] = {"seconds": round(time.perf_counter() - started, 1),
                              "chunks": report.results[0].chunks,
                              "status": report.results[0].status, "load_before": load,
                              "load_after": round(os.getloadavg()[0], 1)}
        print(f"  ingested {path.name}: {seconds[path.name]}", file=sys.stderr, flush=True)
    plain = folder / "plain"
    plain.mkdir()
    for name, pages in baseline.items():
        if name == MANUAL:  # its plain text would take as long again to embed
            continue
        (plain / f"{name}.txt").write_text("\n\n".join(p.strip() for p in pages if p.strip()))
    theirs = Pipeline.build(load_settings(data_dir=folder / "theirs"), embedder=ours.embedder)
    theirs.ingest([plain])
    return ours, theirs, seconds


def _rank(pipeline: Pipeline, q: dict, quote: str) -> int | None:
    """Where the first passage holding the quote ranks (None: not in the top 50)."""
    ranked = pipeline.retrieve(q["question"], k=50, budget_chars=10**7)
    return next((n for n, p in enumerate(ranked, 1)
                 if p.doc == q["file"] and quote in flat(p.text)), None)


def evaluate(questions: list[dict], ours: Pipeline, theirs: Pipeline, read: dict,
             baseline: dict, printed: dict) -> dict:
    counts: Counter[str] = Counter(questions=len(questions))
    misses, wrong_pages = [], []
    for q in questions:
        doc, quote = read[q["file"]], flat(q["quote"])
        counts["found_whole"] += quote in flat(doc.text)
        counts["found_whole_pypdf"] += quote in flat("\n\n".join(baseline[q["file"]]))
        response = ours.ask(q["question"])
        passages = [p for p in response.passages if p.doc == q["file"]]
        counts["passages"] += len(response.passages)
        counts["passage_chars"] += sum(len(p.text) for p in response.passages)
        if any(quote in flat(p.text) for p in passages):
            counts["in_passages"] += 1
        else:
            misses.append({"id": q["id"], "rank": _rank(ours, q, quote)})
        counts["gold_page_retrieved"] += any(
            p.pages and p.pages[0] <= q["page"] <= p.pages[1] for p in passages)
        if q["file"] != MANUAL:
            counts["questions_pypdf"] += 1
            plain = theirs.retrieve(q["question"], budget_chars=theirs.settings.context_chars)
            counts["in_passages_pypdf"] += any(
                quote in flat(p.text) for p in plain if p.doc == f"{q['file']}.txt")
        for citation in response.citations:
            counts["citations"] += 1
            verdict = page_verdict(printed[citation.doc], citation.text, citation.pages)
            counts[f"citation_pages_{verdict}"] += 1
            if verdict == "wrong":
                wrong_pages.append({"id": q["id"], "pages": citation.pages,
                                    "text": citation.text[:80]})
            counts["mid_sentence_ends"] += ends_mid_sentence(read[citation.doc].text,
                                                             citation.end)
    return {**counts, "missed_in_passages": misses, "citation_pages_wrong_cases": wrong_pages}


def run(quick: bool) -> dict:
    """The figures (the manual left out when `quick`); {"skipped": why} without the PDFs."""
    if not PDFS.is_dir():
        return {"skipped": f"{PDFS} is absent"}
    questions = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line]
    files = sorted({PDFS / q["file"] for q in questions if (PDFS / q["file"]).exists()},
                   key=lambda p: p.stat().st_size)
    if quick:
        files = [p for p in files if p.name != MANUAL]
    questions = [q for q in questions if PDFS / q["file"] in files]
    read, read_seconds, baseline, printed = read_all(files)
    with tempfile.TemporaryDirectory() as tmp:
        ours, theirs, seconds = ingest(files, baseline, Path(tmp))
        figures = evaluate(questions, ours, theirs, read, baseline, printed)
    figures["sentence_pages"] = {p.name: sentence_pages(read[p.name], printed[p.name])
                                 for p in files}
    seeds = {p.name: p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))}
    figures["splitting"] = splitting({**{p.name: read[p.name].text for p in files}, **seeds})
    figures["hyphens"] = hyphen_agreement(RecordingVocabulary.decisions)
    figures["read_seconds"] = read_seconds
    figures["pages"] = {p.name: len(read[p.name].pages) for p in files}
    figures["ingest"] = seconds
    figures["quick"] = quick
    return figures


def _share(hit: int, n: int) -> str:
    return f"{hit}/{n} ({hit / max(1, n):.2f})"


def _ingest_rows(f: dict) -> list[str]:
    rows = ["| PDF | pages | read | ingest (read, chunk, embed, store) | chunks | load average |",
            "|---|---|---|---|---|---|"]
    for name, done in f["ingest"].items():
        rows.append(f"| {name} | {f['pages'][name]} | {f['read_seconds'][name]} s "
                    f"| **{done['seconds']} s** | {done['chunks']} "
                    f"| {done['load_before']} → {done['load_after']} |")
    return rows


def section(r: dict) -> str:
    """The report's section on PDFs (docs/benchmarks.md, through benchmarks/report.py)."""
    f = r.get("documents")
    if not isinstance(f, dict) or "questions" not in f:
        why = (f or {}).get("error") or (f or {}).get("skipped") or "not run yet"
        return f"Not measured ({why})."
    n, cited = f["questions"], f["citations"]
    wrong = f.get("citation_pages_wrong", 0)
    sentences = Counter()
    for counts in f["sentence_pages"].values():
        sentences.update({k: v for k, v in counts.items() if isinstance(v, int)})
    placed = sum(sentences.values())
    rows = [("" if not f["quick"] else f"**Quick run: without the {MANUAL} manual.** ")
            + f"{n} questions over {len(f['pages'])} PDFs, {f['passages'] / n:.1f} passages "
            f"({f['passage_chars'] / n:,.0f} characters) per question on average.", "",
            "| issue 12 goal | citechat | pypdf text | verdict |", "|---|---|---|---|",
            f"| gold quote found whole in the text | {_share(f['found_whole'], n)} "
            f"| {_share(f['found_whole_pypdf'], n)} | "
            f"{'met' if f['found_whole'] == n else '**missed**'} |",
            f"| gold quote inside the passages `ask` answers from, ≥ 0.90 "
            f"| {_share(f['in_passages'], n)} "
            f"| {_share(f['in_passages_pypdf'], f.get('questions_pypdf', n))} "
            f"| {'met' if f['in_passages'] >= 0.9 * n else '**missed**'} |",
            f"| citations on the pages their characters are printed on "
            f"| {cited - wrong - f.get('citation_pages_unknown', 0)}/{cited} "
            f"({f.get('citation_pages_ambiguous', 0)} printed on other pages too, "
            f"{f.get('citation_pages_words', 0)} placed by their words; "
            f"{f.get('citation_pages_unknown', 0)} found in neither PDFium's nor pypdf's "
            "page text), "
            f"{wrong} wrong | – | {'met' if wrong == 0 else '**missed**'} |",
            f"| citations ending mid-sentence | {f['mid_sentence_ends']}/{cited} | – "
            f"| {'met' if f['mid_sentence_ends'] == 0 else '**missed**'} |", "",
            f"Every sentence of the PDFs checked like a citation: {sentences['right']} right, "
            f"{sentences['ambiguous']} right but printed on other pages too, "
            f"{sentences['words']} right by their words (their letters not printed end to end), "
            f"{sentences['wrong']} wrong, {sentences['unknown']} not found, of {placed}.", ""]
    if "splitting" in f:
        split = {k: sum(v[k] if isinstance(v[k], int) else len(v[k])
                        for v in f["splitting"].values())
                 for k in ("punkt", "rules", "both", "punkt_only", "rules_only")}
        rows += [f"Sentence ends inside a line, over the PDFs and the seeds: Punkt "
                 f"{split['punkt']:,}, the rules it replaced {split['rules']:,}, both "
                 f"{split['both']:,}; only Punkt {split['punkt_only']}, only the rules "
                 f"{split['rules_only']} (judged in docs/documents.md).", ""]
    misses = ", ".join(f"{m['id']} (rank {m['rank'] or '> 50'})" for m in f["missed_in_passages"])
    rows += [f"Gold quotes not in the passages, with the rank of the first passage holding "
             f"them: {misses or 'none'}.", "", *_ingest_rows(f), ""]
    return "\n".join(rows)


def main() -> int:
    figures = run("--quick" in sys.argv)
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
