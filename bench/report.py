"""Targets (pass/fail), ratios to the peers, and the Markdown report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from bench.measure import GIB, MIB
from bench.queries import CLASSES

TARGET_SIZE = 100_000
CLASS_TITLES = {
    "top10": "top-10 BM25, 1-3 words",
    "phrase": "phrase, top-10",
    "filtered": "words + language/date/tag filters",
    "facets": "words + 4 facets + month histogram",
    "highlight": "words + highlights",
    "full": "full: top-10 + 4 facets + months + highlights",
    "browse": "browse: filters + 4 facets, no text",
    "deep": "deep page (offset ~200)",
    "phrase_common": "phrase of two frequent words, top-10",
}


def _get(d: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(d, dict) or key not in d:
            return None
        d = d[key]
    return d


def _target(
    name: str, value: float | None, limit: float, unit: str, *, at_most: bool = True
) -> dict[str, Any]:
    passed = None if value is None else (value <= limit if at_most else value >= limit)
    sign = "≤" if at_most else "≥"
    return {
        "name": name,
        "target": f"{sign} {limit:g} {unit}",
        "value": None if value is None else round(value, 3),
        "unit": unit,
        "pass": passed,
    }


def targets(result: dict[str, Any], dataset: str) -> list[dict[str, Any]]:
    """The issue's targets, measured on ``dataset`` (the scaled corpus)."""
    lat = _get(result, "latency", "newsearch", dataset) or {}
    fts = _get(result, "latency", "fts5", dataset) or {}
    build = _get(result, "build", "newsearch", dataset) or {}
    http = _get(result, "http") or {}
    top_p50 = _get(lat, "top10", "p50_ms")
    fts_p50 = _get(fts, "top10", "p50_ms")
    out = [
        _target("top-10 BM25 p50", top_p50, 10, "ms"),
        _target("top-10 BM25 p95", _get(lat, "top10", "p95_ms"), 30, "ms"),
        {
            "name": "top-10 BM25 faster than FTS5 (p50)",
            "target": "newsearch p50 < FTS5 p50",
            "value": None if top_p50 is None or fts_p50 is None else round(top_p50 / fts_p50, 3),
            "unit": "× FTS5",
            "pass": None if top_p50 is None or fts_p50 is None else top_p50 < fts_p50,
        },
        _target("full query p50", _get(lat, "full", "p50_ms"), 25, "ms"),
        _target("full query p95", _get(lat, "full", "p95_ms"), 60, "ms"),
        _target("browse with facets p50", _get(lat, "browse", "p50_ms"), 5, "ms"),
        _target(
            "GraphQL full query p50 (concurrency 1)",
            _get(http, "levels", "1", "p50_ms"),
            35,
            "ms",
        ),
        _target(
            "GraphQL throughput at concurrency 8",
            _get(http, "levels", "8", "requests_per_s"),
            100,
            "req/s",
            at_most=False,
        ),
        _target("build throughput", build.get("docs_per_s"), 500, "docs/s", at_most=False),
        _target(
            "build peak RSS (process tree)",
            None if not build.get("peak_tree_rss_bytes") else build["peak_tree_rss_bytes"] / GIB,
            2,
            "GiB",
        ),
        _target(
            "server RSS (peak under load)",
            None if not http.get("peak_rss_bytes") else http["peak_rss_bytes"] / GIB,
            1.5,
            "GiB",
        ),
    ]
    return out


def ratios(result: dict[str, Any]) -> dict[str, Any]:
    """newsearch / peer for every figure both have (latency < 1 and docs/s > 1 favour newsearch)."""
    out: dict[str, Any] = {}
    ours_lat = _get(result, "latency", "newsearch") or {}
    ours_build = _get(result, "build", "newsearch") or {}
    for peer in ("tantivy", "fts5"):
        peer_lat = _get(result, "latency", peer) or {}
        peer_build = _get(result, "build", peer) or {}
        for dataset in sorted(set(ours_lat) | set(ours_build)):
            row: dict[str, Any] = {}
            for kind in CLASSES:
                for p in ("p50_ms", "p95_ms", "p99_ms"):
                    a = _get(ours_lat, dataset, kind, p)
                    b = _get(peer_lat, dataset, kind, p)
                    if a is not None and b:
                        row[f"{kind}.{p}"] = round(a / b, 2)
            for figure in ("docs_per_s", "peak_tree_rss_bytes", "index_bytes"):
                a = _get(ours_build, dataset, figure)
                b = _get(peer_build, dataset, figure)
                if a is not None and b:
                    row[f"build.{figure}"] = round(a / b, 2)
            if row:
                out.setdefault(peer, {})[dataset] = row
    return out


# --------------------------------------------------------------------------- Markdown


def _ms(v: Any) -> str:
    return "–" if v is None else f"{v:.1f}" if v >= 10 else f"{v:.2f}"


def _mib(v: Any) -> str:
    return "–" if not v else f"{v / MIB:,.0f} MiB"


def _num(v: Any, digits: int = 0) -> str:
    return "–" if v is None else f"{v:,.{digits}f}"


def _pass(v: bool | None) -> str:
    return "n/a" if v is None else "PASS" if v else "FAIL"


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    opts = result["options"]
    main = result.get("main_dataset", "scaled")
    lines = [
        f"# newsearch benchmark {result['started_utc']}",
        "",
        f"Scaled corpus: **{opts['size']:,}** articles (seed {opts['seed']})"
        + (" — quick run" if opts.get("quick") else "")
        + f"; run took {result.get('duration_s', 0):.0f} s.",
        f"Machine: {m['nproc']} cores, {m['cpu_model']}, {m['ram_bytes'] / GIB:.1f} GiB RAM, "
        f"Python {m['python']}; load average at start {m.get('loadavg_start')}, "
        f"at end {m.get('loadavg_end')}.",
        "",
    ]
    for note in result.get("notes", []):
        lines.append(f"> {note}")
    if result.get("notes"):
        lines.append("")

    lines += [
        f"## Targets (on `{main}`)",
        "",
        "| target | wanted | measured | |",
        "|---|---|---|---|",
    ]
    for t in result.get("targets", []):
        value = "–" if t["value"] is None else f"{t['value']:,.3g} {t['unit']}"
        lines.append(f"| {t['name']} | {t['target']} | {value} | {_pass(t['pass'])} |")
    if opts["size"] != TARGET_SIZE and main == "scaled":
        lines.append(
            f"\nTargets are set for {TARGET_SIZE:,} articles; this run had {opts['size']:,}."
        )
    lines.append("")

    lines += [
        "## Corpora",
        "",
        "| dataset | articles | JSONL MiB | languages |",
        "|---|---|---|---|",
    ]
    for name, d in result.get("datasets", {}).items():
        langs = ", ".join(f"{k} {v:,}" for k, v in d.get("languages", {}).items())
        lines.append(f"| {name} | {d['documents']:,} | {d['bytes'] / MIB:,.1f} | {langs} |")
    lines.append("")

    lines += [
        "## Build",
        "",
        "Wall time of the build as a child process (newsearch: `newsearch index build`, all "
        "cores; tantivy: writer with 2 threads; FTS5: one thread). Peak RSS: sum over the "
        "process tree, sampled every 0.25 s (at least the largest process); max process: "
        "`ru_maxrss` of the largest process, from `/usr/bin/time`.",
        "",
        "| system | dataset | docs/s | seconds | peak RSS (tree) | peak PSS (tree) "
        "| max process RSS | index size | |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for system, per in result.get("build", {}).items():
        for dataset, b in per.items():
            lines.append(
                f"| {system} | {dataset} | {_num(b.get('docs_per_s'))} | "
                f"{_num(b.get('seconds'), 1)} | {_mib(b.get('peak_tree_rss_bytes'))} | "
                f"{_mib(b.get('peak_tree_pss_bytes'))} | {_mib(b.get('max_process_rss_bytes'))} | "
                f"{_mib(b.get('index_bytes'))} | {b.get('note', '')} |"
            )
    lines.append("")

    lines += ["## Engine latency (in-process, ms)", ""]
    latency = result.get("latency", {})
    datasets = list(result.get("datasets", {}))
    systems = [s for s in ("newsearch", "tantivy", "fts5") if s in latency]
    for dataset in datasets:
        if not any(dataset in latency[s] for s in systems):
            continue
        header = "| class |" + "".join(f" {s} p50 / p95 / p99 |" for s in systems)
        header += "".join(f" ÷{s} p50 |" for s in systems[1:])
        lines += [f"### {dataset}", "", header, "|---|" + "---|" * (2 * len(systems) - 1)]
        for kind in CLASSES:
            cells = []
            for s in systems:
                r = _get(latency, s, dataset, kind) or {}
                cell = f"{_ms(r.get('p50_ms'))} / {_ms(r.get('p95_ms'))} / {_ms(r.get('p99_ms'))}"
                if r.get("errors"):
                    cell += f" ({r['errors']} err)"
                cells.append(cell)
            for s in systems[1:]:
                ratio = _get(result, "ratios", s, dataset, f"{kind}.p50_ms")
                cells.append("–" if ratio is None else f"{ratio:.2f}×")
            lines.append(f"| {CLASS_TITLES[kind]} | " + " | ".join(cells) + " |")
        counts = []
        for s in systems:
            r = latency[s].get(dataset, {})
            n = sum((r.get(k) or {}).get("n", 0) for k in CLASSES)
            hits = (r.get("top10") or {}).get("median_total_hits")
            counts.append(f"{s}: {n} timed queries, median top10 hits {hits}")
        lines += ["", "; ".join(counts) + ".", ""]

    http = result.get("http")
    if http:
        lines += [
            "## GraphQL over HTTP (full query, `newsearch serve`, loopback)",
            "",
            "| concurrency | requests | p50 ms | p95 ms | p99 ms | req/s | engine tookMs p50 "
            "| errors |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for level, r in http.get("levels", {}).items():
            lines.append(
                f"| {level} | {r.get('requests', 0)} | {_ms(r.get('p50_ms'))} | "
                f"{_ms(r.get('p95_ms'))} | {_ms(r.get('p99_ms'))} | "
                f"{_num(r.get('requests_per_s'), 1)} | "
                f"{_ms(r.get('engine_took_p50_ms'))} | {r.get('errors', 0)} |"
            )
        lines += [
            "",
            f"Server RSS: {_mib(http.get('rss_after_warmup_bytes'))} after warm-up, "
            f"peak {_mib(http.get('peak_rss_bytes'))} under load (PSS "
            f"{_mib(http.get('peak_pss_bytes'))}); ready {http.get('startup_s')} s after start.",
            "",
        ]

    rat = result.get("ratios", {})
    if rat:
        lines += [
            "## Ratios newsearch / peer",
            "",
            "Latency: below 1 means newsearch is faster. docs/s: above 1 means newsearch builds "
            "faster. RSS and size: below 1 means newsearch uses less.",
            "",
            "| peer | dataset | "
            + " | ".join(f"{k} p50" for k in CLASSES)
            + " | build docs/s | build RSS | index size |",
            "|---|---|" + "---|" * (len(CLASSES) + 3),
        ]
        for peer, per in rat.items():
            for dataset, row in per.items():
                cells = [row.get(f"{k}.p50_ms") for k in CLASSES] + [
                    row.get("build.docs_per_s"),
                    row.get("build.peak_tree_rss_bytes"),
                    row.get("build.index_bytes"),
                ]
                lines.append(
                    f"| {peer} | {dataset} | "
                    + " | ".join("–" if c is None else f"{c:.2f}" for c in cells)
                    + " |"
                )
        lines.append("")

    for prof in result.get("profiles", []):
        lines += [
            f"## Profile: the {prof['pick']} `{prof['class']}` query",
            "",
            f"`{prof['query']}` on `{prof['dataset']}`: {prof['single_run_ms']:.1f} ms per run "
            f"without the profiler; {prof['repeat']} runs under cProfile.",
            "",
            "```",
            prof.get("text", "").strip(),
            "```",
            "",
        ]

    gp = result.get("graphql_profile")
    if gp:
        lines += [
            "## Profile: the full query through GraphQL, in-process",
            "",
            f"{gp['requests']} sequential requests through the ASGI app (no sockets) on "
            f"`{gp['dataset']}`: request p50 {_ms(gp.get('request_p50_ms'))} ms, of which the "
            f"engine's own `tookMs` p50 {_ms(gp.get('engine_took_p50_ms'))} ms (means "
            f"{_ms(gp.get('request_mean_ms'))} / {_ms(gp.get('engine_took_mean_ms'))} ms); the "
            "rest is GraphQL parsing, validation, execution and JSON/gzip. cProfile of the "
            "event-loop thread (the engine runs in a worker thread and shows up as `epoll` "
            "waiting):",
            "",
            "```",
            gp.get("text", "").strip(),
            "```",
            "",
        ]

    lines += ["## Fairness and method", ""]
    for note in result.get("method", []):
        lines.append(f"- {note}")
    errors = result.get("errors", [])
    if errors:
        lines += ["", "## Errors", ""]
        lines += [f"- {e}" for e in errors]
    lines += ["", "Package versions: " + json.dumps(m["packages"]), ""]
    return "\n".join(lines)


def write(result: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    """``<stamp>.json``/``.md`` and ``latest.json``/``.md`` copies, written atomically."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = result["started_utc"].replace(":", "").replace("-", "")
    paths = []
    for suffix, text in (
        (".json", json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n"),
        (".md", markdown(result)),
    ):
        path = out_dir / f"{stamp}{suffix}"
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        latest = out_dir / f"latest{suffix}"
        tmp = latest.with_name(latest.name + ".tmp")
        shutil.copyfile(path, tmp)
        tmp.replace(latest)
        paths.append(path)
    return paths[0], paths[1]
