"""The ``newsearch`` command: ``index ...`` (see indexer/cli.py) and ``serve``."""

from __future__ import annotations

import copy
import json
import logging
import os
from pathlib import Path
from typing import Any

import click
import uvicorn
from uvicorn.config import LOG_LEVELS, LOGGING_CONFIG

from newsearch.indexer.cli import INDEX_OPTION, index
from newsearch.schema.workers import PortInUse, listening_socket, serve_one, serve_workers


@click.group()
@click.version_option(package_name="newsearch")
def main() -> None:
    """Full-text search over a multilingual news archive."""


main.add_command(index)

log = logging.getLogger("newsearch.server")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
APP = "newsearch.schema.app:app_from_env"
KEEP_ALIVE_S = 75.0
"""How long an idle keep-alive connection stays open: longer than clients keep idle connections
in their pools (httpx 5 s, most others 60 s or less): at equal timeouts a client may send on a
connection the server is closing at that moment, and get a connection reset."""


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask, e.g. a container's cpuset)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def default_workers(writes_enabled: bool) -> int:
    """Worker processes when ``--workers`` is not given.

    One per usable CPU for a read-only server: a worker runs GraphQL on one core (the GIL), so
    one process cannot use a second core.  With writes enabled (a write token), one: reindex
    progress (``reindexStatus``) lives in the process that started the rebuild, and a write is
    searchable at once only in the worker that applied it.
    """
    return 1 if writes_enabled else min(usable_cpus(), 64)


def log_config(level: int, workers: int) -> dict[str, Any]:
    """uvicorn's logging plus a root handler for our loggers (access log, errors), in each worker.

    Worker processes of a multi-worker server are fresh interpreters: only this dictConfig
    (applied by uvicorn in every worker) gives them handlers; ``logging.basicConfig`` in the
    parent did not reach them, so their access logs were lost.  With several workers each
    line names its process id.
    """
    config = copy.deepcopy(LOGGING_CONFIG)
    fmt = LOG_FORMAT if workers == 1 else LOG_FORMAT.replace("%(name)s", "%(name)s[%(process)d]")
    config["formatters"]["newsearch"] = {"format": fmt}
    config["handlers"]["newsearch"] = {
        "formatter": "newsearch",
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
    }
    config["root"] = {"handlers": ["newsearch"], "level": level}
    return config


def run_uvicorn(workers: int, options: dict[str, Any]) -> None:
    """Serve the app with ``workers`` processes sharing one socket (see workers.py).

    The port is bound first, before the index is opened: a port in use fails at once.
    """
    try:
        sock = listening_socket(options["host"], options["port"])
    except PortInUse as e:
        raise click.ClickException(str(e)) from None
    except OSError as e:
        where = f"{options['host']}:{options['port']}"
        raise click.ClickException(f"cannot listen on {where}: {e.strerror or e}") from None
    config = uvicorn.Config(APP, factory=True, **{**options, "port": sock.getsockname()[1]})
    if workers == 1:
        with sock:
            serve_one(config, sock)
        return
    serve_workers(config, sock, workers)


@main.command()
@INDEX_OPTION
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Server processes. Default: one per CPU, or 1 when NEWSEARCH_WRITE_TOKEN is set "
    "(reindexStatus and read-your-writes are per process). Each worker opens the index "
    "itself (memory per worker); /metrics reports the worker that answers the scrape.",
)
@click.option(
    "--sources",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Sources for `reindex` (default: those the served generation records).",
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
    "--keep-alive",
    type=click.FloatRange(1),
    default=KEEP_ALIVE_S,
    show_default=True,
    help="Seconds an idle keep-alive connection stays open.",
)
@click.option(
    "--shutdown-timeout",
    type=click.FloatRange(0),
    default=10.0,
    show_default=True,
    help="Seconds running requests get to finish on SIGTERM/SIGINT; then the server exits.",
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
    workers: int | None,
    sources: tuple[Path, ...],
    cors_origins: tuple[str, ...],
    request_timeout: float,
    max_body_bytes: int,
    no_introspection: bool,
    assets_dir: Path | None,
    keep_alive: float,
    shutdown_timeout: float,
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
    level = LOG_LEVELS[log_level.lower()]  # "trace" is uvicorn's level 5, unknown to logging
    logging.basicConfig(level=level, format=LOG_FORMAT)
    writes_enabled = bool(os.environ.get("NEWSEARCH_WRITE_TOKEN"))
    if workers is None:
        workers = default_workers(writes_enabled)
    elif workers > 1 and writes_enabled:
        log.warning(
            "%d workers with writes enabled: reindexStatus answers for the worker that "
            "serves the request, and other workers see a write within about a second",
            workers,
        )
    run_uvicorn(
        workers,
        {
            "host": host,
            "port": port,
            "log_config": log_config(level, workers),
            "log_level": log_level.lower(),
            "access_log": False,  # our RequestContext middleware writes structured access logs
            "timeout_graceful_shutdown": shutdown_timeout,
            "timeout_keep_alive": keep_alive,
        },
    )


if __name__ == "__main__":
    main()
