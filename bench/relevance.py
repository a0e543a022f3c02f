"""Relevance of name searches: newsearch beside SQLite FTS5 and tantivy, judged by the corpora's
own entity annotations (``scripts/relevance``).

One index holds all three real corpora of ``../shared/data`` (bbc-news en, ner-uk uk,
factRuEval-2016 ru), converted by ``bench/corpora.py`` as the tests do; newsearch is built with
``newsearch.indexer.build.build`` and searched with ``newsearch.search.engine.Engine`` (its public
API, so the suite measures whatever the analysis does), the peers with ``bench/peers.py`` over the
same JSON Lines.

Entities (``bench/relevance_judgments.py``; no newsearch analysis involved):

* every PER/LOC/ORG mention of ner-uk (brat ``.ann``) and factRuEval (``.objects`` linking
  ``.spans``; Person, Org, Location, LocOrg) is keyed by its surface form alone: the crude
  lemma key of ``bench/corpora.py`` (lower-cased, one case ending stripped per word) with the
  last alternating vowel of each stem made a wildcard (``Київ``/``Києва``/``Киев``,
  ``Львів``/``Львова``; a surname's instrumental ``Ахметовим`` is not taken for an
  adjective).  Mentions with one key, in either corpus, are one entity, so a Russian query
  ``Сталина`` also counts Ukrainian articles with ``Сталін`` relevant (issue #15 asks a name to
  match across languages and scripts).  Keys over-split rather than merge (``Юрій``/``Юрія``
  stay two entities), so a judged set is a lower bound of the articles about the entity;
* relevant documents = the documents annotated with the entity, plus every document of the
  archive (any language) containing one of its annotated forms as whole words (case-insensitive,
  ``ё`` = ``е``, punctuation and quotes between words ignored);
* skipped: entities with more than 100 relevant documents (too frequent to judge with
  recall@100: ``Україна``, ``Київ``) or a base form of fewer than 3 letters (``ЄС``).

Query kinds (typed as plain words, not phrases, as users type names; brackets and quotes
dropped).  An article with the words of a two-word name apart (``Василь ... Козак``) is not
relevant: a plain-word query that ranks it first loses precision.

* ``base``: the nominative, guessed without a dictionary: the annotated form with the fewest
  letters, then the most frequent (``Київ``, ``Ахметов``, ``Москва``);
* ``inflected``: each other annotated form with as many words (``Києві``, ``Ахметова``);
* ``latin``: the base form transliterated by ``translitua`` (Ukrainian national 2010 table;
  Russian international-passport 1997 table): ``Kyiv``, ``Rinat Akhmetov``, ``Khodorkovskiy``;
  that spelling is one more form of the entity, so the documents holding it as whole words are
  relevant to this query too (``Iran`` in BBC articles; the query is left out when that makes
  more than 100);
* ``en`` rows (kind ``base``): two-word capitalized names of bbc-news found in 2+ articles
  (``Gordon Brown``), relevant = articles containing the name as whole words;
* ``en`` rows (kind ``title``): ranking beyond names, as a question to a paragraph: a bbc-news
  title of 3+ words, its words OR'ed and searched in the bodies only (``body:w1 OR body:w2 ...``
  in newsearch, ``body : ("w1" OR ...)`` in FTS5, ``"w1" OR ...`` over tantivy's body), relevant
  = its own article (and any other with the same title).  With one relevant article,
  precision@10 is success@1.

Metrics, per query, macro-averaged per language x kind: recall@100 = relevant in the top 100 /
min(100, |relevant|); precision@10 = relevant in the top k / k with k = min(10, |relevant|)
(R-precision below 10 relevant); nDCG@10 with binary gains.  Issue #15's goals are checked
below the table: names in their own script (``base``, ``inflected`` of uk and ru) macro
recall@100 >= 0.98 and precision@10 >= 0.95; in the other script (``latin``) >= 0.9 and >= 0.9.
A query a system rejects is counted in ``failed`` and scored as no hits.

By default at most ``--per-kind`` queries per language x kind (a stable SHA-256 sample) keep a
run within about 3 minutes on 2 cores; ``--per-kind 0`` runs all.  The same data and code give
the same figures every run (equal scores are ordered by article id in tantivy, by row in FTS5,
newest first then by document number in newsearch); timings go to stderr only.
"""

from __future__ import annotations

import argparse
import json
import math
import sqlite3
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.relevance_judgments import (
    DocTokens,
    Query,
    english_queries,
    entities,
    entity_queries,
    sample,
    title_queries,
)
from newsearch.search.model import Article

REPO = Path(__file__).resolve().parents[1]
TOP = 100
PER_KIND = 400
WORST = 5
"""Queries per group listed in the JSON with their misses and wrong hits (newsearch's worst)."""
GOALS = {"own script": (0.98, 0.95), "other script": (0.9, 0.9)}
"""(recall@100, precision@10) macro goals of issue #15: base/inflected and latin queries."""
Search = Callable[[str, bool], list[str]]
"""A system's search: (query text, ``any_in_body``) -> ids of its top ``TOP`` articles, best
first; raises ``QueryFailed`` when the system rejects the query.  ``any_in_body``: the words
OR'ed and searched in the bodies only (the ``title`` kind); otherwise all words, anywhere."""


class QueryFailed(Exception):
    """A system rejected a query (syntax): counted per group and reported, scored as no hits."""


# --------------------------------------------------------------------------- metrics


def recall_at(ranked: Sequence[str], relevant: frozenset[str], k: int = TOP) -> float:
    """Relevant articles among the top ``k`` / min(k, |relevant|)."""
    return sum(1 for d in ranked[:k] if d in relevant) / min(k, len(relevant))


def precision_at(ranked: Sequence[str], relevant: frozenset[str], k: int = 10) -> float:
    """Relevant among the top min(k, |relevant|) / min(k, |relevant|)."""
    cut = min(k, len(relevant))
    return sum(1 for d in ranked[:cut] if d in relevant) / cut


def ndcg_at(ranked: Sequence[str], relevant: frozenset[str], k: int = 10) -> float:
    """nDCG@k with binary gains: sum of 1/log2(rank+1) over relevant hits / its ideal."""
    dcg = sum(1 / math.log2(i + 2) for i, d in enumerate(ranked[:k]) if d in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return dcg / ideal


def score(ranked: Sequence[str], relevant: frozenset[str]) -> dict[str, float]:
    """The three metrics of one query."""
    return {
        "recall@100": recall_at(ranked, relevant),
        "precision@10": precision_at(ranked, relevant),
        "ndcg@10": ndcg_at(ranked, relevant),
    }


# --------------------------------------------------------------------------- systems


def newsearch_query(text: str, any_in_body: bool) -> str:
    """A judged query in newsearch's syntax: with ``any_in_body`` its words OR'ed, in the
    bodies only (``body:w1 OR body:w2 ...``); otherwise as it is."""
    return " OR ".join(f"body:{w}" for w in text.split()) if any_in_body else text


def newsearch_search(index_dir: Path) -> Search:
    """newsearch's Engine: plain-word query, top 100 by relevance, no facets or highlights."""
    from newsearch.search.engine import Engine
    from newsearch.search.types import SearchError, SearchRequest

    engine = Engine(index_dir, check_interval=3600.0)

    def run(text: str, any_in_body: bool) -> list[str]:
        request = SearchRequest(
            query=newsearch_query(text, any_in_body), first=TOP, facets=(), highlight=False
        )
        try:
            page = engine.search(request)
        except SearchError as exc:
            raise QueryFailed(str(exc)) from None
        return [hit.article.id for hit in page.hits]

    return run


def _quoted_words(text: str) -> str:
    """Each space-separated word as a quoted string (implicit AND in FTS5 and tantivy)."""
    return " ".join('"' + w.replace('"', "") + '"' for w in text.split() if w.strip('"'))


def fts5_search(db_path: Path) -> Search:
    """SQLite FTS5 (unicode61 tokenizer, bm25 with the title boost of ``bench.peers``)."""
    from bench.peers import TITLE_BOOST, Fts5Runner

    db = Fts5Runner(db_path).db
    sql = (
        "SELECT d.id FROM fts JOIN docs d ON d.rowid = fts.rowid WHERE fts MATCH ? "
        f"ORDER BY bm25(fts, {TITLE_BOOST}, 1.0), d.rowid LIMIT {TOP}"
    )

    def run(text: str, any_in_body: bool) -> list[str]:
        match = _quoted_words(text)
        if any_in_body and match:
            match = "body : (" + match.replace('" "', '" OR "') + ")"
        try:
            return [row[0] for row in db.execute(sql, [match])] if match else []
        except sqlite3.OperationalError as exc:
            raise QueryFailed(str(exc)) from None

    return run


def tantivy_search(index_dir: Path) -> Search:
    """tantivy (default tokenizer, BM25, the title boost of ``bench.peers``)."""
    from bench.peers import TITLE_BOOST, TantivyRunner

    runner = TantivyRunner(index_dir)

    def run(text: str, any_in_body: bool) -> list[str]:
        words = _quoted_words(text)
        if not words:
            return []
        try:
            if any_in_body:
                query = runner.index.parse_query(words.replace('" "', '" OR "'), ["body"])
            else:
                query = runner.index.parse_query(
                    words, ["title", "body"], field_boosts={"title": TITLE_BOOST},
                    conjunction_by_default=True,
                )  # fmt: skip
        except ValueError as exc:
            raise QueryFailed(str(exc)) from None
        # Segments are written by several threads, so equal scores come back in any order:
        # fetch twice as many and break ties by id, as FTS5 (rowid) and newsearch (docnum) do.
        hits = runner.searcher.search(query, 2 * TOP).hits
        scored = [(-score, runner.searcher.doc(address)["id"][0]) for score, address in hits]
        return [article_id for _, article_id in sorted(scored)[:TOP]]

    return run


# --------------------------------------------------------------------------- the run


def load_queries(
    data: Path | None, per_kind: int | None
) -> tuple[list[Article], list[Query], dict[str, int]]:
    """The corpus articles and the (sampled) judged queries, with counts for the report."""
    from bench.corpora import all_corpus_articles

    articles = all_corpus_articles(data)
    docs = DocTokens(articles)
    found = entities(data)
    named, skipped = entity_queries(found, docs)
    english = english_queries(articles, docs) + title_queries(articles)
    everything = named + english
    counts = {"articles": len(articles), "entities": len(found), "entities_skipped": skipped}
    counts["queries_available"] = len(everything)
    return articles, sample(everything, per_kind), counts


def evaluate(
    queries: Sequence[Query], systems: dict[str, Search], worst_count: int = 0
) -> dict[str, Any]:
    """Per system, per language x kind: query count, macro metrics, queries with no hits, and
    (``worst_queries``, group after group) newsearch's ``worst_count`` worst queries of each
    (lowest precision@10, then recall@100)."""
    sums: dict[str, dict[tuple[str, str], dict[str, float]]] = {s: {} for s in systems}
    counts: dict[tuple[str, str], int] = defaultdict(int)
    empty: dict[str, dict[tuple[str, str], int]] = {s: defaultdict(int) for s in systems}
    failed: dict[str, dict[tuple[str, str], int]] = {s: defaultdict(int) for s in systems}
    examples: dict[str, list[str]] = {s: [] for s in systems}
    seconds = dict.fromkeys(systems, 0.0)
    worst: dict[tuple[str, str], list[tuple[float, float, Query, list[str]]]] = defaultdict(list)
    for query in queries:
        group = (query.language, query.kind)
        counts[group] += 1
        for name, search in systems.items():
            started = time.perf_counter()
            try:
                ranked = search(query.text, query.kind == "title")
            except QueryFailed as exc:
                ranked = []
                failed[name][group] += 1
                if len(examples[name]) < 5:
                    examples[name].append(f"{query.text!r}: {exc}")
            seconds[name] += time.perf_counter() - started
            empty[name][group] += not ranked
            totals = sums[name].setdefault(group, defaultdict(float))
            metrics = score(ranked, query.relevant)
            for metric, value in metrics.items():
                totals[metric] += value
            if name == "newsearch":
                worst[group].append((metrics["precision@10"], metrics["recall@100"], query, ranked))
    rows = []
    worst_queries: list[Query] = []
    for group in sorted(counts, key=_group_order):
        ranked_worst = sorted(worst[group], key=lambda w: (w[0], w[1], w[2].text))
        worst_queries += [q for _, _, q, _ in ranked_worst[:worst_count]]
        row: dict[str, Any] = {"language": group[0], "kind": group[1], "queries": counts[group]}
        for name in systems:
            row[name] = {m: v / counts[group] for m, v in sums[name][group].items()}
            row[name]["no_hits"] = empty[name][group]
            row[name]["failed"] = failed[name][group]
        row["worst"] = [
            {
                "query": q.text,
                "precision@10": p,
                "recall@100": r,
                "relevant": len(q.relevant),
                "missed": sorted(q.relevant - set(ranked))[:3],
                "wrong": [d for d in ranked[: min(10, len(q.relevant))] if d not in q.relevant][:3],
            }
            for p, r, q, ranked in ranked_worst[:WORST]
        ]
        rows.append(row)
    return {
        "rows": rows,
        "seconds": seconds,
        "failed_examples": examples,
        "worst_queries": worst_queries,
    }


def _group_order(group: tuple[str, str]) -> tuple[int, int]:
    languages, kinds = ["uk", "ru", "en"], ["base", "inflected", "latin", "title"]
    return languages.index(group[0]), kinds.index(group[1])


def goal_checks(rows: Sequence[dict[str, Any]], system: str = "newsearch") -> list[dict[str, Any]]:
    """Issue #15's goals for ``system``: own script (base, inflected) and other script (latin)
    macro recall@100 / precision@10 over uk and ru queries."""
    checks = []
    for goal, kinds in (("own script", ("base", "inflected")), ("other script", ("latin",))):
        chosen = [r for r in rows if r["language"] in ("uk", "ru") and r["kind"] in kinds]
        if not chosen:
            continue
        for metric, floor in zip(("recall@100", "precision@10"), GOALS[goal], strict=True):
            value = _macro(chosen, system, metric)
            checks.append({"goal": goal, "metric": metric, "value": value, "floor": floor})
    return checks


def build_indexes(jsonl: Path, work: Path, peers: bool) -> dict[str, Search]:
    """newsearch (always) and the peers (when asked and installed) over ``jsonl``."""
    from bench.peers import build_fts5, build_tantivy, tantivy_version
    from newsearch.indexer.build import build

    summary = build([jsonl], work / "newsearch")
    if summary.errors:
        raise SystemExit(f"newsearch build failed: {summary.errors[0]}")
    systems = {"newsearch": newsearch_search(work / "newsearch")}
    if peers:
        build_fts5(jsonl, work / "fts5.db")
        systems["fts5"] = fts5_search(work / "fts5.db")
        if tantivy_version() is not None:
            build_tantivy(jsonl, work / "tantivy")
            systems["tantivy"] = tantivy_search(work / "tantivy")
        else:
            print("tantivy is not installed: left out (pip install -e '.[bench]')", file=sys.stderr)
    return systems


def run(
    data: Path | None, per_kind: int | None, peers: bool = True, explain: int = 0
) -> dict[str, Any]:
    """The whole suite: judgments, indexes in a temporary folder, every system, goals; with
    ``explain``, the hits of newsearch's ``explain`` worst queries per group as ``explain``
    lines (``bench.relevance_explain``)."""
    from bench.corpora import write_jsonl

    started = time.perf_counter()
    articles, queries, counts = load_queries(data, per_kind)
    with tempfile.TemporaryDirectory(prefix="newsearch-relevance-") as tmp:
        work = Path(tmp)
        jsonl = write_jsonl(articles, work / "corpora.jsonl")
        build_started = time.perf_counter()
        systems = build_indexes(jsonl, work, peers)
        build_seconds = time.perf_counter() - build_started
        result = evaluate(queries, systems, explain)
        worst = result.pop("worst_queries")
        if explain:
            from bench.relevance_explain import explain_lines

            result["explain"] = explain_lines(work / "newsearch", worst)
    result.update(counts)
    result["systems"] = list(systems)
    result["per_kind"] = per_kind
    result["goals"] = goal_checks(result["rows"])
    result["build_seconds"] = build_seconds
    result["total_seconds"] = time.perf_counter() - started
    return result


# --------------------------------------------------------------------------- output


def ranking_lines(result: dict[str, Any]) -> list[str]:
    """Per language, newsearch's nDCG@10 beside the best peer's, over the base queries, over
    base + inflected, and over English titles (issue #15 item 8: English at least as good as
    the peers, uk and ru ahead)."""
    peers = [s for s in result["systems"] if s != "newsearch"]
    out = []
    for language in ("uk", "ru", "en"):
        parts = []
        for kinds in (("base",), ("base", "inflected"), ("title",)):
            chosen = [r for r in result["rows"] if r["language"] == language and r["kind"] in kinds]
            if not peers or not chosen or (len(kinds) > 1 and len(chosen) == 1):
                continue
            macro = {s: _macro(chosen, s, "ndcg@10") for s in result["systems"]}
            best = max(peers, key=lambda s: macro[s])
            ours = macro["newsearch"]
            verdict = "ahead" if ours > macro[best] else "even" if ours == macro[best] else "behind"
            parts.append(
                f"{' + '.join(kinds)}: newsearch {ours:.3f}, best peer {best} "
                f"{macro[best]:.3f} ({verdict})"
            )
        if parts:
            out.append(f"- ranking {language}, nDCG@10: " + "; ".join(parts))
    return out


def _macro(rows: Sequence[dict[str, Any]], system: str, metric: str) -> float:
    """``metric`` of ``system`` macro-averaged over the queries of ``rows``."""
    n = sum(r["queries"] for r in rows)
    return float(sum(r[system][metric] * r["queries"] for r in rows) / n)


def table(result: dict[str, Any]) -> str:
    """The result as a Markdown table with the goal checks below it."""
    systems = result["systems"]
    head = ["lang", "kind", "queries"]
    for name in systems:
        head += [f"{name} R@100", "P@10", "nDCG@10", "no hits", "failed"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for row in result["rows"]:
        cells = [row["language"], row["kind"], str(row["queries"])]
        for name in systems:
            m = row[name]
            cells += [f"{m['recall@100']:.3f}", f"{m['precision@10']:.3f}"]
            cells += [f"{m['ndcg@10']:.3f}", str(m["no_hits"]), str(m["failed"])]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    for check in result["goals"]:
        verdict = "pass" if check["value"] >= check["floor"] else "FAIL"
        lines.append(
            f"- goal, names in their {check['goal']}: newsearch {check['metric']} "
            f"{check['value']:.3f} (>= {check['floor']}): {verdict}"
        )
    for line in ranking_lines(result):
        lines.append(line)
    for name, examples in result["failed_examples"].items():
        if examples:
            lines.append(f"- {name} rejected queries such as " + "; ".join(examples))
    lines.append(
        f"- {result['articles']} articles; {result['entities']} entities "
        f"({result['entities_skipped']} skipped as too frequent or short); "
        f"{result['queries_available']} queries available, at most "
        f"{result['per_kind'] or 'all'} per language x kind"
    )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Command line: see ``scripts/relevance --help``."""
    doc = __doc__ or ""
    parser = argparse.ArgumentParser(
        prog="scripts/relevance",
        description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data", type=Path, help="the shared data folder [$NEWSEARCH_SHARED/data]")
    parser.add_argument(
        "--per-kind",
        type=int,
        default=PER_KIND,
        help=f"queries per language x kind, 0: all [{PER_KIND}]",
    )
    parser.add_argument("--skip-peers", action="store_true", help="newsearch only")
    parser.add_argument(
        "--worst",
        type=int,
        default=0,
        metavar="N",
        help="print newsearch's N worst queries per language x kind with their top 10 hits "
        "(judged or not, title, matched words in context)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO / "bench" / "results",
        help="results folder [bench/results]",
    )
    parser.add_argument("--no-save", action="store_true", help="write no results file")
    args = parser.parse_args(argv)
    result = run(args.data, args.per_kind or None, peers=not args.skip_peers, explain=args.worst)
    text = table(result)
    print(json.dumps(result, indent=2, ensure_ascii=False) if args.json else text, end="")
    if args.worst and not args.json:
        print("\n".join(["", *result["explain"]]))
    seconds = ", ".join(f"{name} {s:.1f} s" for name, s in result["seconds"].items())
    print(
        f"timings (not part of the result): build {result['build_seconds']:.0f} s, "
        f"queries: {seconds}; total {result['total_seconds']:.0f} s",
        file=sys.stderr,
    )
    if not args.no_save:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        args.out.mkdir(parents=True, exist_ok=True)
        path = args.out / f"relevance-{stamp}.md"
        path.write_text(f"# Relevance run {stamp}\n\n{text}", encoding="utf-8")
        print(f"written {path.relative_to(REPO) if path.is_relative_to(REPO) else path}",
              file=sys.stderr)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
