"""``newsearch index ...``: build, update, stats, verify and rollback from the command line."""

from __future__ import annotations

import json
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from newsearch.indexer import build as builder
from newsearch.indexer.article_format import parse_datetime
from newsearch.indexer.feed import estimate_total
from newsearch.indexer.guard import EmptyBuildError, MissingSourcesError
from newsearch.indexer.lock import IndexLocked
from newsearch.indexer.maintenance import index_stats, rollback, verify
from newsearch.indexer.plain import TEXT_FORMATS, ArticleFormatError, ReadOptions
from newsearch.search.catalog import STATS_FIELDS
from newsearch.search.model import ArticleError
from newsearch.search.storage.layout import IndexNotFound

INDEX_OPTION = click.option(
    "--index",
    "index_dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="NEWSEARCH_INDEX",
    default=Path("var/index"),
    show_default=True,
    help="Index directory (env NEWSEARCH_INDEX).",
)
SOURCES = click.argument(
    "sources", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path)
)
STRICT_OPTION = click.option(
    "--strict", is_flag=True, help="Fail (exit 1, index unchanged) on any input error."
)
WORKERS_OPTION = click.option(
    "--workers", type=click.IntRange(1, 64), default=None, help="Processes (default: all cores)."
)


def _published(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    """``--published``: an ISO 8601 date and time with UTC offset, read as articles' dates are."""
    if value is None:
        return None
    try:
        return parse_datetime(value, 1)
    except ArticleFormatError as exc:
        raise click.BadParameter(exc.message) from None


def _read_options(function: Any) -> Any:
    """``--format``, ``--published`` and ``--allow-empty``, shared by build and update."""
    function = click.option(
        "--allow-empty",
        is_flag=True,
        help="Serve the result even when the sources gave no articles (else: exit 1, unchanged).",
    )(function)
    function = click.option(
        "--published",
        default=None,
        metavar="DATETIME",
        callback=_published,
        help="Publication time of plain-text articles, with UTC offset "
        "(2024-09-15T04:17:16+03:00). Default: each file's modification time (UTC).",
    )(function)
    return click.option(
        "--format",
        "text_format",
        type=click.Choice(TEXT_FORMATS),
        default="auto",
        show_default=True,
        help="How .txt files are read: article files, plain text (title line, then body), "
        "or auto: per source, article files when one starts with a '<category> <date>' line.",
    )(function)


def _print_errors(errors: list[ArticleError]) -> None:
    for err in errors[:50]:
        click.echo(f"error: {err}", err=True)
    if len(errors) > 50:
        click.echo(f"... and {len(errors) - 50} more errors", err=True)


def _print_summary(summary: builder.Summary, verb: str) -> None:
    errors = summary.errors
    _print_errors(errors)
    for line in summary.read.describe():
        click.echo(line)
    for warning in summary.warnings:
        click.echo(f"WARNING: {warning}", err=True)
    click.echo(
        f"{verb} generation {summary.generation}: {summary.documents} documents "
        f"({summary.added} added, {summary.updated} updated, {summary.unchanged} unchanged, "
        f"{summary.deleted} deleted, {summary.duplicates} duplicate ids), "
        f"{len(errors)} errors, {summary.seconds:.1f} s, {summary.docs_per_second:.0f} docs/s"
    )


def _run_write(
    verb: str,
    sources: tuple[Path, ...],
    index_dir: Path,
    text_format: str,
    published: datetime | None,
    **kwargs: object,
) -> None:
    kwargs["options"] = ReadOptions(text_format, published)
    total = estimate_total(list(sources))
    bar = tqdm(
        total=total or None, unit="docs", desc=verb, disable=None, file=sys.stderr, smoothing=0.1
    )
    fn = builder.build if verb == "build" else builder.update
    try:
        summary = fn(list(sources), index_dir, progress=bar.update, **kwargs)  # type: ignore[arg-type]
    except (IndexLocked, builder.OutdatedAnalysis, MissingSourcesError) as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:  # a full disk, a file size limit, permissions, I/O errors
        raise click.ClickException(
            f"{verb} failed: {exc}; nothing was switched, the served generation is unchanged"
        ) from exc
    except (builder.StrictBuildError, EmptyBuildError) as exc:
        bar.close()
        _print_errors(exc.errors)
        raise click.ClickException(str(exc)) from exc
    finally:
        bar.close()
    _print_summary(summary, "built" if verb == "build" else "updated")


@click.group()
def index() -> None:
    """Build and maintain the search index."""


@index.command("build")
@SOURCES
@INDEX_OPTION
@STRICT_OPTION
@WORKERS_OPTION
@_read_options
def build_cmd(
    sources: tuple[Path, ...],
    index_dir: Path,
    strict: bool,
    workers: int | None,
    text_format: str,
    published: datetime | None,
    allow_empty: bool,
) -> None:
    """Index SOURCES (files, folders, .gz) into a new generation and switch to it."""
    _run_write(
        "build",
        sources,
        index_dir,
        text_format,
        published,
        strict=strict,
        workers=workers,
        allow_empty=allow_empty,
    )


@index.command("update")
@SOURCES
@INDEX_OPTION
@click.option("--prune", is_flag=True, help="Remove articles that are no longer in SOURCES.")
@STRICT_OPTION
@WORKERS_OPTION
@_read_options
def update_cmd(
    sources: tuple[Path, ...],
    index_dir: Path,
    prune: bool,
    strict: bool,
    workers: int | None,
    text_format: str,
    published: datetime | None,
    allow_empty: bool,
) -> None:
    """Add new and changed articles from SOURCES into a new generation."""
    _run_write(
        "update",
        sources,
        index_dir,
        text_format,
        published,
        prune=prune,
        strict=strict,
        workers=workers,
        allow_empty=allow_empty,
    )


@index.command("stats")
@INDEX_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def stats_cmd(index_dir: Path, as_json: bool) -> None:
    """Counts per language, category and source, the date range and the size."""
    try:
        stats = index_stats(index_dir)
    except IndexNotFound as exc:
        raise click.ClickException(str(exc)) from exc
    except Exception as exc:  # a damaged generation: Whoosh and numpy raise all kinds
        raise click.ClickException(
            f"the served generation cannot be opened: {exc} (see `newsearch index rollback`)"
        ) from exc
    if as_json:
        click.echo(json.dumps(stats, indent=2, ensure_ascii=False))
        return
    click.echo(f"generation {stats['generation']} built {stats['built_at']}")
    click.echo(f"documents  {stats['documents']}")
    click.echo(f"dates      {stats['date_from']} .. {stats['date_to']}")
    click.echo(f"size       {stats['size_bytes'] / 1e6:.1f} MB")
    for facet in (f.name for f in STATS_FIELDS):
        counts: Counter[str] = Counter(stats[facet])
        click.echo(f"{facet}:")
        for value, count in counts.most_common():
            click.echo(f"  {count:8d}  {value}")


@index.command("verify")
@SOURCES
@INDEX_OPTION
def verify_cmd(sources: tuple[Path, ...], index_dir: Path) -> None:
    """Check the index against SOURCES: missing, changed and extra articles (exit 1 if any)."""
    try:
        report = verify(list(sources), index_dir)
    except IndexNotFound as exc:
        raise click.ClickException(str(exc)) from exc
    for kind in ("missing", "changed", "extra"):
        for article_id in report[kind][:20]:
            click.echo(f"{kind}: {article_id}")
    click.echo(
        f"{report['checked']} source articles checked: {len(report['missing'])} missing, "
        f"{len(report['changed'])} changed, {len(report['extra'])} extra, "
        f"{report['errors']} unreadable; columns {'ok' if report['columns_ok'] else 'MISMATCH'}"
    )
    if report["missing"] or report["changed"] or report["extra"] or not report["columns_ok"]:
        sys.exit(1)


@index.command("rollback")
@INDEX_OPTION
def rollback_cmd(index_dir: Path) -> None:
    """Serve the previous generation again."""
    try:
        name = rollback(index_dir)
    except (IndexNotFound, IndexLocked, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"now serving generation {name}")
