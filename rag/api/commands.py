"""The service's commands of `citechat`: `serve`, `mcp`, and `keys create|list|revoke`.

Registered on the main command by rag/cli.py; like it, they only parse and print. The
global options (`--data-dir`, ...) come through the context.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated, Optional

import typer

from rag.api.keys import KeysFile
from rag.config import Settings, load_settings

HostOption = Annotated[Optional[str], typer.Option(  # noqa: UP045
    help="Address to listen on (default: the host setting, 127.0.0.1).")]
PortOption = Annotated[Optional[int], typer.Option(help="Port (default: 8400).")]  # noqa: UP045

keys_app = typer.Typer(no_args_is_help=True, help="API keys for `citechat serve` and "
                       "`citechat mcp --http`, kept hashed in the data directory.")


def _settings(ctx: typer.Context, **overrides: object) -> Settings:
    return load_settings(**(ctx.obj or {}), **overrides)


def serve(ctx: typer.Context, host: HostOption = None, port: PortOption = None) -> None:
    """Serve the OpenAI-compatible chat API and REST for documents (docs at /docs)."""
    from rag.api.server import serve as run_server

    run_server(_settings(ctx, host=host, port=port))


def mcp(ctx: typer.Context,
        http: Annotated[bool, typer.Option("--http", help="Streamable HTTP at /mcp "
                                           "instead of stdio.")] = False,
        host: HostOption = None, port: PortOption = None) -> None:
    """Serve citechat's tools and documents to MCP clients (stdio unless --http)."""
    from rag.mcp_server import run

    run(_settings(ctx, host=host, port=port), http=http)


@keys_app.command("create")
def keys_create(ctx: typer.Context, name: Annotated[str, typer.Option(
        help="A label, to tell keys apart.")] = "") -> None:
    """Create a key and print it (once: only its hash is stored)."""
    keys = KeysFile(_settings(ctx).data_dir)
    entry, key = keys.create(name)
    typer.echo(key)
    typer.echo(f"Created API key {entry.id}{' (' + entry.name + ')' if entry.name else ''} "
               f"in {keys.path}; it is shown only now.", err=True)


@keys_app.command("list")
def keys_list(ctx: typer.Context,
              as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
              ) -> None:
    """List the keys: id, name, created, first characters (never the key)."""
    entries = KeysFile(_settings(ctx).data_dir).entries()
    if as_json:
        shown = [{k: v for k, v in asdict(e).items() if k != "sha256"} for e in entries]
        typer.echo(json.dumps(shown, indent=2))
        return
    if not entries:
        typer.echo("No API keys: `citechat keys create` makes one.")
    for e in entries:
        typer.echo(f"{e.id}\t{e.name or '(no name)'}\t{e.created}\t{e.hint}")


@keys_app.command("revoke")
def keys_revoke(ctx: typer.Context, key: Annotated[str, typer.Argument(
        help="The key's id (or name), as `citechat keys list` shows it.")]) -> None:
    """Revoke a key: requests carrying it are refused from then on."""
    for entry in KeysFile(_settings(ctx).data_dir).revoke(key):
        typer.echo(f"Revoked API key {entry.id}{' (' + entry.name + ')' if entry.name else ''}.")


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(mcp)
    app.add_typer(keys_app, name="keys")
