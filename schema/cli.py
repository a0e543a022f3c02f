"""The ``newsearch`` command: ``index ...`` (see indexer/cli.py) and ``serve``."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import click
import uvicorn
from uvicorn.config import LOG_LEVELS

from indexer.cli import INDEX_OPTION, index


@click.group()
@click.version_option(package_name="newsearch")
def main() -> None:
    """Full-text search over a multilingual news archive."""


main.add_command(index)


@main.command()
@INDEX_OPTION
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--sources", multiple=True, type=click.Path(path_type=Path), help="Sources for `reindex`."
)
@click.option(
    "--cors-origin", "cors_origins", multiple=True, help="Allowed CORS origin (repeatable)."
)
@click.option(
    "--request-timeout", type=float, default=10.0, show_default=True, help="Seconds per request."
)
@click.option("--max-body", "max_body_bytes", type=int, default=1_000_000, show_default=True)
@click.option(
    "--no-introspection", is_flag=True, help="Disable schema introspection (GraphiQL needs it)."
)
@click.option(
    "--assets", "assets_dir", type=click.Path(path_type=Path), default=None, help="GraphiQL assets."
)
@click.option(
    "--log-level",
    type=click.Choice(list(LOG_LEVELS), case_sensitive=False),
    default="info",
    show_default=True,
)
def serve(
    index_dir: Path,
    host: str,
    port: int,
    workers: int,
    sources: tuple[Path, ...],
    cors_origins: tuple[str, ...],
    request_timeout: float,
    max_body_bytes: int,
    no_introspection: bool,
    assets_dir: Path | None,
    log_level: str,
) -> None:
    """Serve GraphQL and GraphiQL (tokens: NEWSEARCH_WRITE_TOKEN, NEWSEARCH_READ_TOKEN)."""
    config: dict[str, object] = {
        "index_dir": str(index_dir.resolve()),
        "sources": [str(p.resolve()) for p in sources],
        "cors_origins": list(cors_origins),
        "request_timeout": request_timeout,
        "max_body_bytes": max_body_bytes,
        "introspection": not no_introspection,
    }
    if assets_dir is not None:
        config["assets_dir"] = str(assets_dir.resolve())
    os.environ["NEWSEARCH_SERVE_CONFIG"] = json.dumps(config)
    logging.basicConfig(
        level=LOG_LEVELS[log_level.lower()],  # "trace" is uvicorn's level 5, unknown to logging
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    uvicorn.run(
        "schema.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level.lower(),
        access_log=False,  # our RequestContext middleware writes structured access logs
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
