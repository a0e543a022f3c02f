"""Index stats, verification against sources, and rollback."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from newsearch.indexer.lock import WriterLock
from newsearch.indexer.parse import iter_sources
from newsearch.indexer.plain import ReadOptions
from newsearch.search.catalog import STATS_FIELDS, VALUE_FIELDS, ValueField
from newsearch.search.model import ArticleError, datetime_from_us
from newsearch.search.reader import open_generation
from newsearch.search.storage.articles import records_match
from newsearch.search.storage.layout import POSTINGS_DIR, Layout
from newsearch.search.storage.postings import postings_agree


def _dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def index_stats(index_dir: Path) -> dict[str, Any]:
    """Counts per value of each ``catalog.STATS_FIELDS`` field (language, category, source),
    date range and size of the served generation."""
    layout = Layout(index_dir)
    with open_generation(layout, layout.require_current()) as gen:
        return _stats(gen)


def _stats(gen: Any) -> dict[str, Any]:
    cols = gen.columns
    live = np.asarray(cols.live)
    stats: dict[str, Any] = {
        "generation": gen.name,
        "built_at": gen.manifest.built_at,
        "documents": int(live.sum()),
        "size_bytes": _dir_size(gen.path),
    }
    for field in STATS_FIELDS:
        facet = field.name
        ids = np.asarray(cols.ids[facet])
        rows = live[cols.owners[facet]] if field.many else live
        counts = np.bincount(ids[rows], minlength=len(cols.values[facet]))
        stats[facet] = {cols.values[facet][i]: int(c) for i, c in enumerate(counts) if c}
    if stats["documents"]:
        published = np.asarray(cols.published_us)[live]
        stats["date_from"] = datetime_from_us(int(published.min()), 0).isoformat()
        stats["date_to"] = datetime_from_us(int(published.max()), 0).isoformat()
    else:
        stats["date_from"] = stats["date_to"] = None
    return stats


def verify(sources: Sequence[Path], index_dir: Path) -> dict[str, Any]:
    """Compare the served generation with ``sources`` by id and content hash.

    Also checks that the article records, the columns and the postings agree with the ids
    and content hashes Whoosh stores (each record is hashed again: a damaged one is told).
    """
    layout = Layout(index_dir)
    with open_generation(layout, layout.require_current()) as gen:
        return _verify(gen, sources)


def _verify(gen: Any, sources: Sequence[Path]) -> dict[str, Any]:
    indexed: dict[str, tuple[int, str]] = {}
    with gen.ix.reader() as reader:

        def stored() -> Iterator[tuple[int, str, str]]:
            # One pass over Whoosh's stored fields (id and content hash).
            for docnum, f in reader.iter_docs():
                indexed[f["id"]] = (docnum, f["hash"])
                yield docnum, f["id"], f["hash"]

        docs = stored()
        articles_ok = gen.articles is None or records_match(gen.articles, docs)
        for _ in docs:  # the rest, when the copy disagreed early (or there is none)
            pass
    missing: list[str] = []
    changed: list[str] = []
    seen: set[str] = set()
    errors = 0
    checked = 0
    # Read as the generation's build read them (the kind of .txt files, plain text's date).
    options = ReadOptions.from_json(gen.manifest.read_options)
    for item in iter_sources(list(sources), options):
        if isinstance(item, ArticleError):
            errors += 1
            continue
        checked += 1
        seen.add(item.id)
        found = indexed.get(item.id)
        if found is None:
            missing.append(item.id)
        elif found[1] != item.content_hash:
            changed.append(item.id)
    extra = sorted(set(indexed) - seen)
    columns_ok = (
        articles_ok
        and _columns_agree(gen, [d for d, _ in indexed.values()])
        and (
            gen.postings is None
            or postings_agree(
                gen.path / POSTINGS_DIR,
                {d: (i, h) for i, (d, h) in indexed.items()},
                gen.columns.size,
            )
        )
    )
    return {
        "checked": checked,
        "missing": missing,
        "changed": changed,
        "extra": extra,
        "errors": errors,
        "columns_ok": columns_ok,
    }


def _columns_agree(gen: Any, docnums: list[int]) -> bool:
    cols = gen.columns
    for docnum in docnums:
        article = gen.article(docnum)
        if (
            not cols.live[docnum]
            or int(cols.published_us[docnum]) != article.published_us
            or any(
                cols.values_of(f.name, docnum) != _values(f, getattr(article, f.attribute))
                for f in VALUE_FIELDS
            )
        ):
            return False
    return int(np.asarray(cols.live).sum()) == len(docnums)


def _values(field: ValueField, held: Any) -> list[str]:
    """An article's values of ``field`` as its column lists them."""
    return list(held) if field.many else [held]


def rollback(index_dir: Path) -> str:
    """Serve the generation before the current one again; returns its name."""
    layout = Layout(index_dir)
    with WriterLock(layout.root):
        current = layout.require_current()
        names = layout.generations()
        older = [n for n in names if int(n[1:]) < int(current[1:])]
        if not older:
            raise ValueError(f"no generation older than {current} to roll back to")
        target = older[-1]
        try:
            open_generation(layout, target).close()  # refuse a damaged target
        except Exception as exc:  # Whoosh and numpy raise all kinds on damaged files
            raise ValueError(
                f"generation {target} cannot be opened, not rolling back to it: {exc}"
            ) from exc
        layout.switch(target)
        return target
