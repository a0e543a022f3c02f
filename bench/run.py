"""``scripts/bench``: newsearch's benchmark harness (``python -m bench.run --help``).

Phases, each bounded: corpora (the real ones as JSON Lines, the scaled one generated), query
mixes, builds (child processes, killed after ``--build-timeout``), in-process latency of every
query class per system and dataset (each (system, dataset) gets ``--time-budget`` seconds,
shared by its classes), GraphQL over HTTP (``--time-budget`` per concurrency level), a cProfile
of one slow query, and the report (``<out>/<UTC stamp>.md|.json`` + ``latest.*``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import corpus, measure, newsearch_bench, peers, queries, report  # noqa: E402
from bench.measure import GIB  # noqa: E402

REAL_DATASETS = ("bbc", "ner-uk", "factrueval")
SCALED_DATASETS = tuple(corpus.VARIANTS)
"""The generated corpora: ``scaled`` (uk/ru/en mix) and ``scaled-en`` (English only)."""
ALL_DATASETS = (*REAL_DATASETS, *SCALED_DATASETS)
HTTP_LEVELS = (1, 8, 32)

_T0 = time.perf_counter()


def log(message: str) -> None:
    print(f"[{time.perf_counter() - _T0:7.1f}s] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="scripts/bench",
        description=(
            "Benchmark newsearch (build, in-process engine latency, GraphQL over HTTP) against "
            "tantivy and SQLite FTS5 on the real corpora of <shared>/data and a scaled corpus "
            "generated from their sentences. Deterministic (fixed seeds) and bounded in time. "
            "Writes <out>/<UTC stamp>.md and .json, and latest.md/latest.json."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--size",
        type=int,
        default=None,
        help="articles of each scaled corpus [100000; 5000 with --quick]",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: size 5000, fewer queries and requests, short budgets",
    )
    p.add_argument(
        "--seed", type=int, default=1, help="seed of the scaled corpus and the query mix [1]"
    )
    p.add_argument(
        "--shared",
        type=Path,
        default=Path(os.environ.get("NEWSEARCH_SHARED") or REPO.parent / "shared"),
        help="the shared folder holding data/ [env NEWSEARCH_SHARED, else ../shared]",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=REPO / "bench" / "results",
        help="results folder [bench/results]",
    )
    p.add_argument(
        "--work",
        type=Path,
        default=REPO / "var" / "bench",
        help="work folder used with --keep [var/bench]; without --keep a temporary folder, "
        "removed at the end",
    )
    p.add_argument(
        "--keep",
        action="store_true",
        help="keep corpora and indexes in --work and reuse those whose input digest matches",
    )
    p.add_argument("--skip-peers", action="store_true", help="do not benchmark tantivy and FTS5")
    p.add_argument("--skip-http", action="store_true", help="do not benchmark GraphQL over HTTP")
    p.add_argument(
        "--serve-workers",
        type=int,
        default=None,
        help="`newsearch serve --workers` for the HTTP phase [the server's default: one per CPU]",
    )
    p.add_argument("--no-profile", action="store_true", help="skip the cProfile of a slow query")
    p.add_argument(
        "--time-budget",
        type=float,
        default=None,
        help="seconds per phase: per (system, dataset) query run, per HTTP concurrency level "
        "[120; 20 with --quick]",
    )
    p.add_argument(
        "--build-timeout",
        type=float,
        default=1800.0,
        help="seconds before a build is killed [1800]",
    )
    p.add_argument(
        "--queries", type=int, default=None, help="queries per class [200; 40 with --quick]"
    )
    p.add_argument(
        "--repeat",
        type=int,
        default=2,
        help="timed passes over each class's queries, within the budget [2]",
    )
    p.add_argument(
        "--http-requests",
        type=int,
        default=None,
        help="requests per HTTP concurrency level [800; 100 with --quick]",
    )
    p.add_argument(
        "--datasets",
        default=",".join(ALL_DATASETS),
        help=f"comma-separated subset of [{','.join(ALL_DATASETS)}]",
    )
    args = p.parse_args(argv)
    args.size = args.size if args.size is not None else (5000 if args.quick else 100_000)
    args.time_budget = args.time_budget or (20.0 if args.quick else 120.0)
    args.queries = args.queries or (40 if args.quick else 200)
    args.http_requests = args.http_requests or (100 if args.quick else 800)
    args.datasets = [d.strip() for d in args.datasets.split(",") if d.strip()]
    unknown = set(args.datasets) - set(ALL_DATASETS)
    if unknown:
        p.error(f"unknown dataset(s): {', '.join(sorted(unknown))}")
    return args


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def dataset_info(path: Path) -> dict[str, Any]:
    languages: dict[str, int] = {}
    count = 0
    for record in queries.iter_records(path):
        count += 1
        lang = corpus.SOURCE_LANGUAGE.get(str(record["source"]), "und")
        languages[lang] = languages.get(lang, 0) + 1
    return {
        "documents": count,
        "bytes": path.stat().st_size,
        "languages": dict(sorted(languages.items(), key=lambda kv: -kv[1])),
        "path": str(path),
    }


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.started = datetime.now(UTC).replace(microsecond=0)
        self.work = args.work if args.keep else Path(tempfile.mkdtemp(prefix="newsearch-bench-"))
        self.result: dict[str, Any] = {
            "schema": 1,
            "started_utc": self.started.isoformat().replace("+00:00", "Z"),
            "options": {
                "size": args.size,
                "quick": args.quick,
                "seed": args.seed,
                "queries_per_class": args.queries,
                "repeat": args.repeat,
                "time_budget_s": args.time_budget,
                "http_requests_per_level": args.http_requests,
                "datasets": args.datasets,
                "skip_peers": args.skip_peers,
                "skip_http": args.skip_http,
                "serve_workers": args.serve_workers,
                "keep": args.keep,
            },
            "machine": measure.machine_info(REPO),
            "notes": [],
            "method": [],
            "datasets": {},
            "build": {},
            "latency": {},
            "errors": [],
        }
        self.paths: dict[str, Path] = {}
        self.digests: dict[str, str] = {}
        self.mixes: dict[str, dict[str, list[queries.QuerySpec]]] = {}
        self.indexes: dict[tuple[str, str], Path] = {}

    def error(self, phase: str, exc: BaseException) -> None:
        message = f"{phase}: {type(exc).__name__}: {exc}"
        log("ERROR " + message)
        self.result["errors"].append(message[:1000])

    # -- corpora -------------------------------------------------------------

    def corpora(self) -> None:
        from bench import corpora as real

        data = self.args.shared / "data"
        if not data.is_dir():
            raise SystemExit(f"error: {data} does not exist: pass --shared or set NEWSEARCH_SHARED")
        log(f"loading the real corpora from {data}")
        loaders = {
            "bbc": real.bbc_articles,
            "ner-uk": real.ner_uk_articles,
            "factrueval": real.factrueval_articles,
        }
        articles = {name: loader(data) for name, loader in loaders.items()}
        folder = self.work / "corpora"
        for name in REAL_DATASETS:
            if name in self.args.datasets:
                self.paths[name] = real.write_jsonl(articles[name], folder / f"{name}.jsonl")
        for name in SCALED_DATASETS:
            if name not in self.args.datasets:
                continue
            size, seed = self.args.size, self.args.seed
            path = folder / f"{name}-{size}-seed{seed}-{corpus.code_digest()}.jsonl"
            if path.exists() and self.args.keep:
                log(f"reusing the {name} corpus {path}")
            else:
                log(f"generating the {name} corpus: {size:,} articles")
                t0 = time.perf_counter()
                everything = [a for real_name in REAL_DATASETS for a in articles[real_name]]
                corpus.write_scaled(path, everything, size, seed, data, corpus.VARIANTS[name])
                key = "scaled_generation_s" if name == "scaled" else f"{name}_generation_s"
                self.result[key] = round(time.perf_counter() - t0, 2)
            self.paths[name] = path
        for name, path in self.paths.items():
            self.digests[name] = file_digest(path)
            self.result["datasets"][name] = dataset_info(path) | {"sha256": self.digests[name][:16]}
        log(
            "corpora: "
            + ", ".join(f"{n} {d['documents']:,}" for n, d in self.result["datasets"].items())
        )

    def query_mixes(self) -> None:
        for name, path in self.paths.items():
            self.mixes[name] = queries.make_mix(path, self.args.queries, self.args.seed)
        sample = self.mixes[self.main_dataset()]
        self.result["query_examples"] = {k: [s.to_json() for s in v[:3]] for k, v in sample.items()}

    def main_dataset(self) -> str:
        return "scaled" if "scaled" in self.paths else list(self.paths)[-1]

    # -- builds --------------------------------------------------------------

    def _index_dir(
        self, system: str, dataset: str, code: str
    ) -> tuple[Path, dict[str, Any] | None]:
        key = hashlib.sha256(f"{self.digests[dataset]}/{code}".encode()).hexdigest()[:16]
        target = self.work / "index" / f"{system}-{dataset}-{key}"
        record = target / "bench-build.json"
        if self.args.keep and record.exists():
            return target, json.loads(record.read_text())
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        return target, None

    def build_all(self) -> None:
        systems = ["newsearch"]
        if not self.args.skip_peers:
            if peers.tantivy_version() is None:
                self.result["notes"].append(
                    "tantivy is not installed: `pip install tantivy`; skipped"
                )
            else:
                systems.append("tantivy")
            systems.append("fts5")
        peer_code = file_digest(Path(peers.__file__))[:12]
        codes = {
            "newsearch": newsearch_bench.code_digest(),
            "tantivy": f"tantivy-{peers.tantivy_version()}-{peer_code}",
            "fts5": f"sqlite-{sqlite3.sqlite_version}-{peer_code}",
        }
        for dataset in self.paths:
            for system in systems:
                try:
                    self.build_one(system, dataset, codes[system])
                except Exception as exc:
                    self.error(f"build {system} {dataset}", exc)

    def build_one(self, system: str, dataset: str, code: str) -> None:
        folder, kept = self._index_dir(system, dataset, code)
        index_path = folder / ("index.sqlite" if system == "fts5" else "index")
        docs = self.result["datasets"][dataset]["documents"]
        if kept is not None:
            log(f"reusing the kept {system} index of {dataset} ({folder.name})")
            kept["note"] = f"reused kept index (built {kept.get('built_utc', '?')})"
            self.result["build"].setdefault(system, {})[dataset] = kept
            self.indexes[(system, dataset)] = index_path
            return
        log(f"building {system} on {dataset} ({docs:,} docs)")
        source = self.paths[dataset]
        if system == "newsearch":
            run, info = newsearch_bench.build(source, index_path, self.args.build_timeout)
        else:
            run = measure.run_measured(
                [
                    sys.executable,
                    "-m",
                    "bench.peers",
                    "build",
                    system,
                    str(source),
                    str(index_path),
                ],
                timeout=self.args.build_timeout,
                cwd=REPO,
            )
            info = {}
        if run.returncode != 0 or run.timed_out:
            why = "timed out" if run.timed_out else f"exit {run.returncode}"
            raise RuntimeError(f"{why}: {run.stderr.strip()[-800:]}")
        record = {
            "documents": docs,
            "seconds": round(run.seconds, 2),
            "docs_per_s": round(docs / run.seconds, 1),
            # Sampling every 0.25 s can miss a build that lasts less: the tree's peak is at
            # least its largest process's.
            "peak_tree_rss_bytes": max(run.peak_tree_rss, run.max_process_rss),
            "peak_tree_pss_bytes": run.peak_tree_pss,
            "max_process_rss_bytes": run.max_process_rss,
            "peak_processes": run.peak_processes,
            "index_bytes": measure.dir_size(index_path)
            if index_path.is_dir()
            else index_path.stat().st_size,
            "built_utc": datetime.now(UTC).replace(microsecond=0).isoformat(),
        } | info
        (folder / "bench-build.json").write_text(json.dumps(record, indent=2))
        self.result["build"].setdefault(system, {})[dataset] = record
        self.indexes[(system, dataset)] = index_path
        log(
            f"  {record['docs_per_s']:,.0f} docs/s, {run.seconds:.1f} s, peak tree RSS "
            f"{run.peak_tree_rss / 2**20:,.0f} MiB, index {record['index_bytes'] / 2**20:,.0f} MiB"
        )

    # -- latency -------------------------------------------------------------

    def latency_all(self) -> None:
        for dataset in self.paths:
            mix = self.mixes[dataset]
            runners: list[Any] = []
            ns = None
            if ("newsearch", dataset) in self.indexes:
                try:
                    ns = newsearch_bench.NewsearchRunner(self.indexes[("newsearch", dataset)])
                    log(f"newsearch: following cursors for the deep pages of {dataset}")
                    mix["deep"] = ns.prepare_deep(mix["deep"])
                    offsets = [s.offset for s in mix["deep"]]
                    self.result["datasets"][dataset]["deep_offset_mean"] = round(
                        sum(offsets) / max(len(offsets), 1), 1
                    )
                    runners.append(ns)
                except Exception as exc:
                    self.error(f"latency newsearch {dataset}", exc)
            for system, cls in (("tantivy", peers.TantivyRunner), ("fts5", peers.Fts5Runner)):
                if (system, dataset) not in self.indexes:
                    continue
                try:
                    runners.append(cls(self.indexes[(system, dataset)]))
                except Exception as exc:
                    self.error(f"latency {system} {dataset}", exc)
            if runners:
                try:
                    self.latency_side_by_side(runners, dataset)
                except Exception as exc:
                    self.error(f"latency {dataset}", exc)
            if ns is not None and dataset == self.main_dataset() and not self.args.no_profile:
                try:
                    self.profile(ns, dataset)
                except Exception as exc:
                    self.error("profile", exc)

    def latency_side_by_side(self, runners: list[Any], dataset: str) -> None:
        """Every query class on every system, the systems' passes alternating
        (``measure.measure_alternating``)."""
        mix = self.mixes[dataset]
        budget = self.args.time_budget / len(queries.CLASSES)
        names = ", ".join(r.name for r in runners)
        log(f"{names}: latency on {dataset} ({budget:.1f} s per class and system at most)")
        outs = {
            r.name: self.result["latency"].setdefault(r.name, {}).setdefault(dataset, {})
            for r in runners
        }
        for kind in queries.CLASSES:
            specs = mix[kind]
            found = measure.measure_alternating(
                {r.name: r.runner(kind) for r in runners},
                specs,
                budget_s=budget,
                passes=self.args.repeat,
                warmup=min(10, len(specs)),
            )
            for name, lat in found.items():
                outs[name][kind] = lat.result()
        for name, out in outs.items():
            log(
                f"  {name} p50 ms: "
                + ", ".join(
                    f"{k} {out[k].get('p50_ms', float('nan')):.2f}" for k in queries.CLASSES
                )
            )

    def profile(self, ns: newsearch_bench.NewsearchRunner, dataset: str) -> None:
        """cProfile the slowest 'full' query and the median 'top10' query (each query of the
        class timed once more to find them)."""
        self.result["profiles"] = []
        for kind, pick in (("full", "slowest"), ("top10", "median")):
            timed = []
            for spec in self.mixes[dataset][kind][:60]:
                t0 = time.perf_counter()
                ns.engine.search(ns.request(spec))
                timed.append((time.perf_counter() - t0, spec))
            timed.sort(key=lambda ts: ts[0])
            seconds, spec = timed[-1] if pick == "slowest" else timed[len(timed) // 2]
            repeat = 10 if pick == "slowest" else 30
            self.result["profiles"].append(
                {
                    "dataset": dataset,
                    "class": kind,
                    "pick": pick,
                    "query": spec.text,
                    "repeat": repeat,
                    "single_run_ms": round(seconds * 1000, 2),
                    "text": ns.profile(spec, repeat=repeat),
                }
            )

    # -- HTTP ----------------------------------------------------------------

    def http(self) -> None:
        dataset = self.main_dataset()
        if ("newsearch", dataset) not in self.indexes:
            return
        log(f"GraphQL over HTTP on {dataset}: concurrency {HTTP_LEVELS}")
        from bench.http_bench import run_http

        try:
            self.result["http"] = run_http(
                self.indexes[("newsearch", dataset)],
                self.mixes[dataset]["full"],
                levels=HTTP_LEVELS,
                requests_per_level=self.args.http_requests,
                budget_s=self.args.time_budget,
                log=self.work / "serve.log",
                workers=self.args.serve_workers,
            ) | {"dataset": dataset}
            for level, r in self.result["http"]["levels"].items():
                log(
                    f"  c={level}: p50 {r.get('p50_ms', float('nan')):.1f} ms, "
                    f"{r.get('requests_per_s')} req/s, {r.get('errors')} errors"
                )
        except Exception as exc:
            self.error("http", exc)
        if self.args.no_profile:
            return
        from bench.http_bench import profile_graphql

        try:
            log("GraphQL in-process (ASGI) profile of the full query")
            self.result["graphql_profile"] = profile_graphql(
                self.indexes[("newsearch", dataset)], self.mixes[dataset]["full"]
            ) | {"dataset": dataset}
        except Exception as exc:
            self.error("graphql profile", exc)

    # -- all -----------------------------------------------------------------

    def method_notes(self) -> None:
        a = self.args
        self.result["method"] = [
            f"Query mix: {a.queries} queries per class drawn with seed {a.seed} from each "
            "dataset's own documents (see bench/queries.py); each class is timed over up to "
            f"{a.repeat} passes after 10 untimed warm-up queries, within {a.time_budget:.0f} s "
            "per (system, dataset). The systems' passes alternate (every system's first pass "
            "of a class, then every system's second), so a slow phase of the machine falls on "
            "all of them.",
            "Latency is wall time of one in-process call (newsearch `Engine.search`, tantivy "
            "`Searcher.search` + `aggregate` + `SnippetGenerator`, sqlite3 queries), one thread, "
            "warm OS page cache.",
            peers.FAIRNESS,
            "HTTP: the client (httpx AsyncClient) runs in the benchmark process on the same "
            "machine as the server, so at concurrency 8 and 32 client and server share the cores; "
            f"`newsearch serve` runs with {a.serve_workers or 'its default number of'} "
            "worker(s) (one per CPU), info logging.",
            "Other work may run on this machine at the same time (load averages above); "
            "figures are then pessimistic.",
        ]

    def run(self) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            self.method_notes()
            self.corpora()
            self.query_mixes()
            self.build_all()
            self.latency_all()
            if not self.args.skip_http:
                self.http()
        finally:
            if not self.args.keep:
                shutil.rmtree(self.work, ignore_errors=True)
        main = self.main_dataset()
        self.result["main_dataset"] = main
        self.result["ratios"] = report.ratios(self.result)
        self.result["targets"] = report.targets(self.result, main)
        self.result["machine"]["loadavg_end"] = measure.loadavg()
        self.result["finished_utc"] = datetime.now(UTC).replace(microsecond=0).isoformat()
        self.result["duration_s"] = round(time.perf_counter() - started, 1)
        build = self.result["build"].get("newsearch", {}).get(main, {})
        if build and build.get("peak_tree_rss_bytes", 0) > 2 * GIB:
            self.result["notes"].append("newsearch build peak RSS over 2 GiB")
        return self.result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    bench = Bench(args)
    result = bench.run()
    md, js = report.write(result, args.out)
    log(f"wrote {md} and {js}")
    for t in result["targets"]:
        state = "n/a " if t["pass"] is None else "PASS" if t["pass"] else "FAIL"
        value = "–" if t["value"] is None else f"{t['value']:g} {t['unit']}"
        print(f"{state}  {t['name']}: {value} (target {t['target']})")
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
