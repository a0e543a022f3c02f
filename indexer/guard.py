"""What a write may replace, and what a generation records about where its articles came from.

A build or update never switches to a generation of no articles while articles are served, nor
creates an index with none (``EmptyBuildError``; ``allow_empty`` overrides): a folder of empty
or unreadable files, an unmounted disk or a wrong path must not empty a served archive.  A
source path that does not exist refuses the write before anything is read
(``MissingSourcesError``).  A generation much smaller than the served one, a source that gave
no articles, and a build that drops changes made through the API are warnings in the summary.

Each generation's manifest records its sources as absolute paths: a build's own; an update's
added to its parent's (a pruning update: its own); an API write keeps its parent's and counts
its changes, which a rebuild from the sources does not have.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from newsearch.indexer.parse import iter_sources
from newsearch.indexer.plain import ReadOptions, ReadReport
from newsearch.search.model import Article, ArticleError
from newsearch.search.storage.layout import Layout

SHRINK_WARNING = 0.5
"""A new generation under this fraction of the served one's documents is warned about."""


class EmptyBuildError(Exception):
    """The write would serve no articles; nothing was switched."""

    def __init__(
        self, errors: list[ArticleError], served: str | None, served_documents: int
    ) -> None:
        named = "; ".join(str(e) for e in errors[:3]) + (" ..." if len(errors) > 3 else "")
        found = f"{len(errors)} input error(s): {named}" if errors else "and no input errors"
        if served is not None and served_documents:
            kept = (
                f"generation {served} ({served_documents} documents) stays served; "
                "pass --allow-empty to serve an empty index"
            )
        else:
            kept = "there is nothing to serve; pass --allow-empty to create an empty index"
        super().__init__(f"the sources gave no articles ({found}): {kept}")
        self.errors = errors


class MissingSourcesError(Exception):
    """A source path does not exist (an unmounted folder, a mistyped path); nothing was read."""

    def __init__(self, missing: list[Path], served: str | None) -> None:
        names = ", ".join(str(p) for p in missing)
        kept = f"generation {served} stays served" if served else "nothing was built"
        super().__init__(f"source(s) not found: {names} (unmounted or mistyped?); {kept}")
        self.missing = missing


@dataclass(frozen=True)
class Origin:
    """What a generation's manifest records about where its articles came from."""

    sources: list[str]
    api_changes: int
    read_options: dict[str, str]


def check_sources(layout: Layout, sources: Sequence[Path]) -> None:
    """Raise MissingSourcesError when a source path does not exist."""
    missing = [p for p in sources if not p.exists()]
    if missing:
        raise MissingSourcesError(missing, layout.current())


def read_sources(
    sources: Sequence[Path], options: ReadOptions, report: ReadReport, warnings: list[str]
) -> Iterator[Article | ArticleError]:
    """The articles and errors of ``sources``; a source that gives no article is a warning."""
    for source in sources:
        found = 0
        for item in iter_sources([source], options, report):
            found += isinstance(item, Article)
            yield item
        if not found:
            warnings.append(f"source {source} gave no articles")


def origin_of(
    layout: Layout,
    parent: str | None,
    sources: Sequence[Path],
    options: ReadOptions,
    *,
    api_changes: int | None,
    prune: bool,
) -> Origin:
    """The origin of a new generation (see the module docstring); ``api_changes`` is the
    number of articles an API write changed, None for a write from sources."""
    before = layout.manifest(parent) if parent is not None else None
    if api_changes is not None:
        if before is None:
            return Origin([], api_changes, {})
        return Origin(before.sources, before.api_changes + api_changes, before.read_options)
    given = [str(p.resolve()) for p in sources]
    if before is None or prune:
        return Origin(given, 0, options.to_json())
    merged = list(dict.fromkeys([*before.sources, *given]))
    return Origin(merged, before.api_changes, options.to_json())


def check_size(
    layout: Layout, count: int, errors: list[ArticleError], allow_empty: bool
) -> list[str]:
    """Refuse a generation of ``count`` = 0 articles (unless ``allow_empty``) while articles
    are served or nothing is; returns a warning when it is much smaller than the served one."""
    served = layout.current()
    before = layout.manifest(served) if served is not None else None
    served_documents = before.documents if before is not None else 0
    if count == 0 and not allow_empty and (served_documents or served is None):
        raise EmptyBuildError(errors, served, served_documents)
    if before is not None and count < served_documents * SHRINK_WARNING:
        return [
            f"the new generation has {count} documents, {served_documents - count} fewer than "
            f"the {served_documents} of generation {served}: is a source missing or unmounted?"
        ]
    return []


def dropped_api_changes(layout: Layout) -> list[str]:
    """A warning when the served generation has API changes a build from sources drops."""
    served = layout.current()
    changes = layout.manifest(served).api_changes if served is not None else 0
    if not changes:
        return []
    return [
        f"generation {served} had {changes} article change(s) made through the API since its "
        "sources were last read; this generation, read from the sources, does not have them"
    ]
