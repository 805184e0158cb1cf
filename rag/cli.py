"""The `citechat` command: parse arguments, call the pipeline, print.

Every failure a user can cause ends in one line on stderr and a non-zero exit code;
nothing here holds logic the app also needs (that lives in rag.pipeline).
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Optional

import typer

from rag.config import Settings, load_settings
from rag.errors import CitechatError
from rag.ingest import IngestReport
from rag.pipeline import Pipeline
from rag.render import page_label
from rag.types import Citation, Passage, Response, Turn

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Answers and summaries over your documents, every claim cited.")
DocOption = Annotated[Optional[list[str]], typer.Option("--doc", "-d",  # noqa: UP045
                      help="Limit to this document (repeatable).")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@app.callback()
def main(
    ctx: typer.Context,
    data_dir: Annotated[Optional[Path], typer.Option(help="Data directory.")] = None,  # noqa: UP045
    collection: Annotated[Optional[str], typer.Option(help="Collection name.")] = None,  # noqa: UP045
    chroma_url: Annotated[Optional[str], typer.Option(help="Chroma server URL.")] = None,  # noqa: UP045
    engine: Annotated[Optional[str], typer.Option(help="extractive or openai.")] = None,  # noqa: UP045
    k: Annotated[Optional[int], typer.Option(  # noqa: UP045
        "-k", help="Most passages to retrieve (default: as many as fill the context).")] = None,
) -> None:
    ctx.obj = {"data_dir": data_dir, "collection": collection, "chroma_url": chroma_url,
               "engine": engine, "k": k}


def _settings(ctx: typer.Context) -> Settings:
    return load_settings(**ctx.obj)


def _pipeline(ctx: typer.Context) -> Pipeline:
    return Pipeline.build(_settings(ctx))


def _print_json(value: object) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2))


def _print_report(report: IngestReport) -> None:
    for result in report.results:
        if result.status == "failed":
            typer.echo(f"  failed     {result.name}: {result.reason}", err=True)
        elif result.status != "unchanged":
            typer.echo(f"  {result.status:<10} {result.name} ({result.chunks} chunks)")
    embedded = sum(r.chunks for r in report.results if r.status in ("added", "updated"))
    statuses = ("added", "updated", "unchanged", "failed")
    counts = ", ".join(f"{report.count(s)} {s}" for s in statuses)
    if embedded == 0 and report.count("unchanged"):
        typer.echo(f"Nothing to embed: {report.count('unchanged')} documents unchanged. ({counts})")
    else:
        typer.echo(f"Embedded {embedded} chunks. ({counts})")
    if report.orphans_removed:
        typer.echo(f"Removed {report.orphans_removed} chunks left by an interrupted ingest.")


@app.command()
def ingest(ctx: typer.Context, paths: Annotated[list[Path], typer.Argument()],
           as_json: JsonFlag = False) -> None:
    """Add or update documents from files and folders (.txt .md .html .pdf .docx)."""
    report = _pipeline(ctx).ingest(paths, progress=not as_json and sys.stderr.isatty())
    if as_json:
        _print_json({"results": [asdict(r) for r in report.results],
                     "orphans_removed": report.orphans_removed, "exit_code": report.exit_code})
    else:
        _print_report(report)
    raise typer.Exit(report.exit_code)


@app.command()
def docs(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List documents: name, title, pages, chunks and characters."""
    infos = _pipeline(ctx).documents()
    if as_json:
        _print_json([asdict(i) for i in infos])
        return
    if not infos:
        typer.echo("No documents yet: run `citechat ingest PATH`.")
    for info in infos:
        title = " ".join(info.title.split()) or "(untitled)"
        paged = f"{info.pages} pages\t" if info.pages else ""
        typer.echo(f"{info.name}\t{title}\t{paged}{info.chunks} chunks\t{info.chars} chars")


@app.command()
def remove(ctx: typer.Context, name: str) -> None:
    """Delete a document and its chunks."""
    _pipeline(ctx).remove(name)
    typer.echo(f"Removed {name}.")


@app.command("retrieve")
def retrieve_command(ctx: typer.Context, query: str, docs: DocOption = None,
                     as_json: JsonFlag = False) -> None:
    """Show the passages retrieved for a query."""
    passages = _pipeline(ctx).retrieve(query, docs=docs)
    if as_json:
        _print_json([asdict(p) for p in passages])
        return
    for rank, passage in enumerate(passages, start=1):
        typer.echo(f"[{rank}] {_where(passage)} "
                   f"(score {passage.score:.4f})\n{passage.text}\n")


def _where(span: Passage | Citation) -> str:
    """A passage's or citation's place: "Title (file.pdf, p. 12) 120-340"."""
    title = " ".join(span.title.split())
    page = page_label(span.pages)
    inside = ", ".join(part for part in (span.doc, page) if part)
    named = f"{title} ({inside})" if title else inside
    return f"{named} {span.start}-{span.end}"


def _print_response(response: Response, as_json: bool, streamed: bool = False) -> None:
    if as_json:
        _print_json(response.to_dict())
        return
    if not streamed:
        typer.echo(response.answer)
    for citation in response.citations:
        quote = " ".join(citation.text.split())
        typer.echo(f"  [{citation.n}] {_where(citation)}: “{quote}”")
    for claim in response.claims:
        if claim.verdict != "supported":
            typer.echo(f"warning: {claim.verdict} claim (support {claim.support:.2f}): "
                       f"{claim.sentence}", err=True)


def _sink(as_json: bool):
    return None if as_json else (lambda piece: typer.echo(piece, nl=False))


@app.command()
def ask(ctx: typer.Context, question: str, docs: DocOption = None,
        as_json: JsonFlag = False) -> None:
    """Answer a question from the documents, with citations."""
    pipeline = _pipeline(ctx)
    streaming = pipeline.engine.name != "extractive" and not as_json
    response = pipeline.ask(question, docs=docs, on_token=_sink(as_json) if streaming else None)
    if streaming:
        typer.echo("\r\033[K", nl=False)  # replace the raw stream with the resolved answer
    _print_response(response, as_json)


@app.command()
def summarize(ctx: typer.Context, docs: Annotated[Optional[list[str]], typer.Argument()] = None,  # noqa: UP045
              length: Annotated[str, typer.Option(
                  "--length", "-l", help="short, medium, long, auto (follows the document's "
                  "length) or a number of sentences.")] = "auto",
              focus: Annotated[str, typer.Option(
                  help="Summarize only what the documents say about this.")] = "",
              as_json: JsonFlag = False) -> None:
    """Summarize documents (all of them when none are named), with citations."""
    response = _pipeline(ctx).summarize(docs, length=length, focus=focus)
    _print_response(response, as_json)


@app.command()
def chat(ctx: typer.Context, docs: DocOption = None) -> None:
    """Talk with the documents; follow-up questions keep the conversation's context."""
    pipeline = _pipeline(ctx)
    history: list[Turn] = []
    typer.echo("Ask a question (empty line or Ctrl-D to quit).")
    while True:
        try:
            question = input("> ").strip()
        except EOFError:
            break
        if not question:
            break
        try:
            response = pipeline.ask(question, history, docs=docs)
        except CitechatError as exc:
            typer.echo(f"error: {exc}", err=True)
            continue
        _print_response(response, as_json=False)
        history.append(Turn(question, response.answer))


@app.command("eval")
def eval_command(ctx: typer.Context, file: Path,
                 out: Annotated[Optional[Path], typer.Option(help="Write responses here.")] = None,  # noqa: UP045
                 as_json: JsonFlag = False) -> None:
    """Score answers on an eval set (JSON lines: turns, must, gold, unanswerable)."""
    from rag.evaluation import load_items, run_eval

    items = load_items(file)
    scores = run_eval(_pipeline(ctx), items, out)
    if as_json:
        _print_json(scores)
        return
    for key, value in scores.items():
        typer.echo(f"{key:<28} {value:.3f}" if isinstance(value, float) else f"{key:<28} {value}")


@app.command("app")
def app_command() -> None:
    """Start the web app (Streamlit) in the browser."""
    import os
    from importlib import resources

    with resources.as_file(resources.files("rag.app") / "page.py") as page:
        if not page.is_file():
            raise CitechatError(f"The web app is not installed here ({page} is missing).")
        sys.stdout.flush()
        # the process becomes Streamlit's: a signal sent to `citechat app` reaches the server
        os.execv(sys.executable, [sys.executable, "-m", "streamlit", "run", str(page)])


from rag.api.commands import register  # noqa: E402 - serve, mcp, keys (FastAPI loaded lazily)

register(app)


def run() -> None:
    """Console-script entry point: one clear line for any error, never a traceback."""
    try:
        # without standalone mode, click returns the code a command exited with
        code = app(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except CitechatError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("Interrupted.", err=True)
        sys.exit(130)
    except Exception as exc:  # click usage errors and anything unforeseen
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        typer.echo(f"error: unexpected {type(exc).__name__}: {exc}", err=True)
        sys.exit(1)
