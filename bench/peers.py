"""The peers: tantivy (Python bindings, in-process) and SQLite FTS5 (stdlib), on the same
documents and queries as newsearch.

Both index title + body with a plain Unicode word tokenizer and lower-casing: tantivy's
``default`` tokenizer, FTS5's ``unicode61`` (``remove_diacritics 0``, so й/ї/ё stay distinct as
in newsearch).  Neither lemmatizes nor stems: newsearch does (Ukrainian pymorphy3 lemmas,
Snowball Russian and English), so a Cyrillic query matches more documents in newsearch and it
has more to score and count; the peers are not doing the same work (see ``FAIRNESS``).

Build: ``python -m bench.peers build tantivy|fts5 SOURCE.jsonl OUT`` (run as a measured child
process by ``bench.run``); it prints one JSON line with documents and seconds.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.corpus import SOURCE_LANGUAGE
from bench.queries import QuerySpec, iter_records

FAIRNESS = (
    "Peers tokenize with plain Unicode word splitting + lower-casing (tantivy `default`, FTS5 "
    "`unicode61 remove_diacritics 0`) and do not lemmatize or stem: newsearch lemmatizes "
    "Ukrainian (pymorphy3) and stems Russian/English, so for the same query it matches and "
    "scores more documents (and counts facets over more hits). Peers search title+body; "
    "newsearch title+body+tags in per-language BM25F fields. Facets of the peers are exact "
    "counts over all hits, disjunctive like newsearch's (a facet ignores its own filter); "
    "tantivy's date histogram has only fixed intervals (30d stands in for months); FTS5's "
    "months are UTC (newsearch's are Europe/Kyiv). tantivy's snippet is one best fragment "
    "per field (newsearch: up to 3 body fragments + title). All three return stored fields "
    "of the 10 hits and the exact total."
)
TITLE_BOOST = 2.0
FACET_FIELDS = {"tag": "tags", "language": "language", "category": "category", "source": "source"}


def _published_utc(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


def _language(record: dict[str, Any]) -> str:
    return str(record.get("language") or SOURCE_LANGUAGE.get(str(record["source"]), "und"))


def _records(source: Path) -> Iterator[dict[str, Any]]:
    yield from iter_records(source)


# --------------------------------------------------------------------------- tantivy


def tantivy_version() -> str | None:
    try:
        import tantivy
    except ImportError:
        return None
    return str(getattr(tantivy, "__version__", "?"))


def _tantivy_schema() -> Any:
    import tantivy

    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", stored=True, tokenizer_name="raw")
    sb.add_text_field("title", stored=True)
    sb.add_text_field("body", stored=True)
    for name in FACET_FIELDS.values():
        sb.add_text_field(name, stored=True, fast=True, tokenizer_name="raw")
    sb.add_date_field("published", stored=True, indexed=True, fast=True)
    return sb.build()


def build_tantivy(source: Path, out: Path) -> int:
    import tantivy

    out.mkdir(parents=True, exist_ok=True)
    index = tantivy.Index(_tantivy_schema(), path=str(out))
    writer = index.writer(heap_size=256_000_000, num_threads=0)
    count = 0
    for r in _records(source):
        writer.add_document(
            tantivy.Document(
                id=r["id"],
                title=r["title"],
                body=r["body"],
                tags=list(r.get("tags") or []),
                language=_language(r),
                category=r.get("category") or "",
                source=r.get("source") or "",
                published=_published_utc(r["published"]),
            )
        )
        count += 1
    writer.commit()
    writer.wait_merging_threads()
    return count


class TantivyRunner:
    """The query classes on tantivy: BM25 top-10, snippets, terms aggregations."""

    name = "tantivy"

    def __init__(self, index_dir: Path) -> None:
        import tantivy

        self.t = tantivy
        self.index = tantivy.Index.open(str(index_dir))
        self.index.reload()
        self.schema = self.index.schema
        self.searcher = self.index.searcher()

    def _text(self, spec: QuerySpec) -> Any:
        return self.index.parse_query(
            spec.text,
            ["title", "body"],
            field_boosts={"title": TITLE_BOOST},
            conjunction_by_default=True,
        )

    def _filters(self, spec: QuerySpec, without: str = "") -> list[Any]:
        t = self.t
        out = []
        if spec.languages and without != "language":
            out.append(
                t.Query.term_set_query(self.schema, "language", list(spec.languages))
                if len(spec.languages) > 1
                else t.Query.term_query(self.schema, "language", spec.languages[0])
            )
        if spec.tags and without != "tag":
            out.append(t.Query.term_set_query(self.schema, "tags", list(spec.tags)))
        if spec.date_from is not None or spec.date_to is not None:
            out.append(
                t.Query.range_query(
                    self.schema, "published", t.FieldType.Date, spec.date_from, spec.date_to
                )
            )
        return out

    def _query(self, spec: QuerySpec, without: str = "") -> Any:
        t = self.t
        parts = [self._text(spec)] if spec.text else []
        parts += self._filters(spec, without)
        if not parts:
            return t.Query.all_query()
        if len(parts) == 1:
            return parts[0]
        return t.Query.boolean_query([(t.Occur.Must, p) for p in parts])

    def _docs(self, hits: list[Any]) -> list[Any]:
        docs = [self.searcher.doc(addr) for _, addr in hits]
        for doc in docs:  # as the others do: the stored fields as native values
            doc.to_dict()
        return docs

    def _facets(self, spec: QuerySpec, query: Any, histogram: bool) -> dict[str, Any]:
        aggs: dict[str, Any] = {}
        groups: dict[str, dict[str, Any]] = {"": {}}
        for facet, fieldname in FACET_FIELDS.items():
            filtered = (facet == "language" and spec.languages) or (facet == "tag" and spec.tags)
            spec_agg = {"terms": {"field": fieldname, "size": 10}}
            groups.setdefault(facet if filtered else "", {})[facet] = spec_agg
        if histogram:
            groups[""]["month"] = {
                "date_histogram": {"field": "published", "fixed_interval": "30d"}
            }
        for without, agg in groups.items():
            if agg:
                q = query if not without else self._query(spec, without)
                aggs.update(self.searcher.aggregate(q, agg))
        return aggs

    def runner(self, kind: str) -> Callable[[QuerySpec], int]:
        t = self.t

        def run(spec: QuerySpec) -> int:
            query = self._query(spec)
            if kind == "browse":
                result = self.searcher.search(query, 10, order_by_field="published")
            else:
                result = self.searcher.search(query, 10, offset=spec.offset)
            docs = self._docs(result.hits)
            if kind in ("highlight", "full"):
                text = self._text(spec)
                for fieldname in ("title", "body"):
                    generator = t.SnippetGenerator.create(
                        self.searcher, text, self.schema, fieldname
                    )
                    generator.set_max_num_chars(160)
                    for doc in docs:
                        generator.snippet_from_doc(doc).to_html()
            if kind in ("facets", "full", "browse"):
                self._facets(spec, query, histogram=kind != "browse")
            return int(getattr(result, "count", None) or 0)

        return run


# --------------------------------------------------------------------------- SQLite FTS5

FTS5_TOKENIZER = "unicode61 remove_diacritics 0"
_FTS5_SCHEMA = f"""
CREATE TABLE docs (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    language TEXT NOT NULL,
    category TEXT NOT NULL,
    source TEXT NOT NULL,
    published INTEGER NOT NULL,  -- UTC microseconds since the epoch
    tags TEXT NOT NULL,          -- JSON array (the tags table is what queries use)
    title TEXT NOT NULL,
    body TEXT NOT NULL           -- last: small columns are read without overflow pages
);
CREATE TABLE tags (doc INTEGER NOT NULL, tag TEXT NOT NULL);
CREATE VIRTUAL TABLE fts USING fts5(
    title, body, content='docs', content_rowid='rowid', tokenize='{FTS5_TOKENIZER}'
);
"""
_FTS5_INDEXES = """
CREATE INDEX tags_tag ON tags(tag, doc);
CREATE INDEX tags_doc ON tags(doc, tag);
CREATE INDEX docs_language_published ON docs(language, published);
CREATE INDEX docs_published ON docs(published);
"""


def _us(dt: datetime) -> int:
    delta = dt.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def build_fts5(source: Path, out: Path) -> int:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    db = sqlite3.connect(out)
    db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + _FTS5_SCHEMA)
    count = 0
    with db:
        for r in _records(source):
            count += 1
            tags = list(dict.fromkeys(r.get("tags") or []))
            db.execute(
                "INSERT INTO docs VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    count,
                    r["id"],
                    _language(r),
                    r.get("category") or "",
                    r.get("source") or "",
                    _us(_published_utc(r["published"])),
                    json.dumps(tags, ensure_ascii=False),
                    r["title"],
                    r["body"],
                ),
            )
            db.executemany("INSERT INTO tags VALUES (?,?)", [(count, t) for t in tags])
        db.execute("INSERT INTO fts(rowid, title, body) SELECT rowid, title, body FROM docs")
        db.executescript(_FTS5_INDEXES)
    db.execute("INSERT INTO fts(fts) VALUES('optimize')")
    db.commit()
    db.execute("ANALYZE")
    db.close()
    return count


class Fts5Runner:
    """The query classes on SQLite FTS5: bm25() top-10, snippet(), GROUP BY facets."""

    name = "fts5"

    def __init__(self, db_path: Path) -> None:
        self.db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        self.db.executescript(
            "PRAGMA mmap_size=4294967296; PRAGMA cache_size=-262144; PRAGMA temp_store=MEMORY;"
            "CREATE TEMP TABLE hits (rowid INTEGER PRIMARY KEY, score REAL);"
        )

    def _where(self, spec: QuerySpec, without: str = "") -> tuple[str, list[Any]]:
        """SQL conditions on ``d`` (docs) for the spec's filters, with parameters."""
        conds: list[str] = []
        params: list[Any] = []
        if spec.languages and without != "language":
            conds.append(f"d.language IN ({','.join('?' * len(spec.languages))})")
            params += spec.languages
        if spec.date_from is not None:
            conds.append("d.published >= ?")
            params.append(_us(spec.date_from))
        if spec.date_to is not None:
            conds.append("d.published <= ?")
            params.append(_us(spec.date_to))
        if spec.tags and without != "tag":
            conds.append(
                f"d.rowid IN (SELECT doc FROM tags WHERE tag IN ({','.join('?' * len(spec.tags))}))"
            )
            params += spec.tags
        return " AND ".join(conds), params

    def _fill_hits(self, spec: QuerySpec, without: str = "", table: str = "hits") -> None:
        where, params = self._where(spec, without)
        self.db.execute(f"DELETE FROM temp.{table}")
        if spec.text:
            sql = (
                f"INSERT INTO temp.{table}(rowid, score) SELECT fts.rowid, "
                f"bm25(fts, {TITLE_BOOST}, 1.0) FROM fts"
                + (" JOIN docs d ON d.rowid = fts.rowid" if where else "")
                + " WHERE fts MATCH ?"
                + (f" AND {where}" if where else "")
            )
            self.db.execute(sql, [spec.fts5(), *params])
        else:
            sql = f"INSERT INTO temp.{table}(rowid, score) SELECT d.rowid, -d.published FROM docs d"
            self.db.execute(sql + (f" WHERE {where}" if where else ""), params)

    def _facet_counts(self, table: str, facets: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for facet in facets:
            if facet == "tag":
                sql = (
                    f"SELECT t.tag, count(*) c FROM temp.{table} h JOIN tags t ON t.doc = h.rowid "
                    "GROUP BY t.tag ORDER BY c DESC, t.tag LIMIT 10"
                )
            else:
                col = FACET_FIELDS[facet]
                sql = (
                    f"SELECT d.{col}, count(*) c FROM temp.{table} h "
                    f"JOIN docs d ON d.rowid = h.rowid "
                    f"GROUP BY d.{col} ORDER BY c DESC, d.{col} LIMIT 10"
                )
            out[facet] = self.db.execute(sql).fetchall()
        return out

    def _docs(self, rowids: list[int]) -> list[tuple[Any, ...]]:
        if not rowids:
            return []
        marks = ",".join("?" * len(rowids))
        return self.db.execute(f"SELECT * FROM docs WHERE rowid IN ({marks})", rowids).fetchall()

    def _snippets(self, spec: QuerySpec, rowids: list[int]) -> list[tuple[Any, ...]]:
        if not rowids:
            return []
        marks = ",".join("?" * len(rowids))
        return self.db.execute(
            "SELECT rowid, highlight(fts, 0, '<mark>', '</mark>'), "
            "snippet(fts, 1, '<mark>', '</mark>', '…', 24) FROM fts "
            f"WHERE fts MATCH ? AND rowid IN ({marks})",
            [spec.fts5(), *rowids],
        ).fetchall()

    def _top(self, spec: QuerySpec) -> tuple[list[int], int]:
        """Top 10 (at the spec's offset) and the total, in one MATCH pass."""
        where, params = self._where(spec)
        inner = (
            f"SELECT fts.rowid AS rowid, bm25(fts, {TITLE_BOOST}, 1.0) AS s FROM fts"
            + (" JOIN docs d ON d.rowid = fts.rowid" if where else "")
            + " WHERE fts MATCH ?"
            + (f" AND {where}" if where else "")
        )
        # bm25() is not allowed beside a window function: rank in a subquery, count outside.
        sql = f"SELECT rowid, s, count(*) OVER () FROM ({inner}) ORDER BY s LIMIT 10 OFFSET ?"
        rows = self.db.execute(sql, [spec.fts5(), *params, spec.offset]).fetchall()
        if not rows and spec.offset:
            total = self.db.execute(
                "SELECT count(*) FROM fts WHERE fts MATCH ?", [spec.fts5()]
            ).fetchone()[0]
            return [], int(total)
        return [r[0] for r in rows], int(rows[0][2]) if rows else 0

    def runner(self, kind: str) -> Callable[[QuerySpec], int]:
        def aggregated(spec: QuerySpec, histogram: bool) -> int:
            self._fill_hits(spec)
            rowids = [
                r[0]
                for r in self.db.execute(
                    "SELECT rowid FROM temp.hits ORDER BY score, rowid LIMIT 10"
                )
            ]
            total = self.db.execute("SELECT count(*) FROM temp.hits").fetchone()[0]
            self._docs(rowids)
            if kind == "full":
                self._snippets(spec, rowids)
            plain = [
                f
                for f in FACET_FIELDS
                if not ((f == "language" and spec.languages) or (f == "tag" and spec.tags))
            ]
            self._facet_counts("hits", plain)
            if histogram:
                self.db.execute(
                    "SELECT strftime('%Y-%m', d.published / 1000000, 'unixepoch') m, count(*) "
                    "FROM temp.hits h JOIN docs d ON d.rowid = h.rowid GROUP BY m"
                ).fetchall()
            for facet in FACET_FIELDS:
                if facet not in plain:  # disjunctive: count without the facet's own filter
                    self._fill_hits(spec, without=facet)
                    self._facet_counts("hits", [facet])
            return int(total)

        def run(spec: QuerySpec) -> int:
            if kind in ("facets", "full", "browse"):
                return aggregated(spec, histogram=kind != "browse")
            rowids, total = self._top(spec)
            self._docs(rowids)
            if kind == "highlight":
                self._snippets(spec, rowids)
            return total

        return run


# --------------------------------------------------------------------------- build entry point


def main(argv: list[str]) -> int:
    if len(argv) != 4 or argv[0] != "build" or argv[1] not in ("tantivy", "fts5"):
        print("usage: python -m bench.peers build tantivy|fts5 SOURCE.jsonl OUT", file=sys.stderr)
        return 2
    kind, source, out = argv[1], Path(argv[2]), Path(argv[3])
    started = time.perf_counter()
    count = build_tantivy(source, out) if kind == "tantivy" else build_fts5(source, out)
    print(json.dumps({"documents": count, "seconds": time.perf_counter() - started}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
