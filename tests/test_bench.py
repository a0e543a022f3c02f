"""Smoke tests of the benchmark harness (bench/, scripts/bench) on the real corpora.

The generator must be deterministic (the same seed gives byte-identical JSON Lines), keep the
language mix, and write articles the indexer reads without errors; and a tiny run of
``scripts/bench`` must write a report with the expected keys.  Both need ../shared/data.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from bench.corpora import all_corpus_articles, require_shared
from bench.corpus import (
    BODY_MAX_BYTES,
    BODY_MIN_BYTES,
    CATEGORIES,
    ENGLISH,
    LANGUAGE_MIX,
    SOURCE_LANGUAGE,
    write_scaled,
)
from bench.queries import CLASSES, TOKEN, make_mix
from bench.run import parse_args
from newsearch.indexer.language import detect_language
from newsearch.indexer.parse import iter_sources
from newsearch.search.model import Article

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.corpus

SIZE = 300
OFFSETS = {
    "uk": {timedelta(hours=2), timedelta(hours=3)},
    "ru": {timedelta(hours=3), timedelta(hours=4)},  # Moscow kept +04:00 until October 2014
    "en": {timedelta(0), timedelta(hours=1)},
}


def test_scaled_corpus_is_deterministic_mixed_and_parses(tmp_path: Path) -> None:
    data = require_shared()
    articles = all_corpus_articles(data)
    first = write_scaled(tmp_path / "a.jsonl", articles, SIZE, seed=7, data=data)
    second = write_scaled(tmp_path / "b.jsonl", articles, SIZE, seed=7, data=data)
    other = write_scaled(tmp_path / "c.jsonl", articles, SIZE, seed=8, data=data)
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != other.read_bytes()

    items = list(iter_sources([first]))
    parsed = [a for a in items if isinstance(a, Article)]
    assert len(parsed) == len(items) == SIZE, [e for e in items if not isinstance(e, Article)]
    assert [a.id for a in parsed] == [f"scaled/{i:06d}" for i in range(1, SIZE + 1)]
    assert len({a.body for a in parsed}) == SIZE

    languages = Counter(SOURCE_LANGUAGE[a.source] for a in parsed)
    for language, share in LANGUAGE_MIX:
        assert abs(languages[language] / SIZE - share) < 0.08, languages
    for a in parsed:
        language = SOURCE_LANGUAGE[a.source]
        assert BODY_MIN_BYTES <= len(a.body.encode("utf-8")) <= BODY_MAX_BYTES
        assert a.title and "\n" not in a.title
        assert 1 <= len(a.tags) <= 5
        assert a.category in CATEGORIES
        assert a.published.utcoffset() in OFFSETS[language], (a.id, a.published)
        assert 2014 <= a.published.year <= 2026


def _document_share(path: Path, word: str) -> float:
    items = [a for a in iter_sources([path]) if isinstance(a, Article)]
    has = sum(word in TOKEN.findall(f"{a.title}\n{a.body}".lower()) for a in items)
    return has / len(items)


def test_english_scaled_corpus_is_deterministic_english_with_long_postings(
    tmp_path: Path,
) -> None:
    """``scaled-en``: the same seed gives the same bytes; every article English (source and
    detected language); a frequent word is in about four times the share of documents it has
    in the mixed corpus; its query mix has phrases of two frequent words."""
    data = require_shared()
    articles = all_corpus_articles(data)
    first = write_scaled(tmp_path / "a.jsonl", articles, SIZE, 7, data, ENGLISH)
    second = write_scaled(tmp_path / "b.jsonl", articles, SIZE, 7, data, ENGLISH)
    other = write_scaled(tmp_path / "c.jsonl", articles, SIZE, 8, data, ENGLISH)
    mixed = write_scaled(tmp_path / "m.jsonl", articles, SIZE, 7, data)
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != other.read_bytes()

    items = list(iter_sources([first]))
    parsed = [a for a in items if isinstance(a, Article)]
    assert len(parsed) == len(items) == SIZE, [e for e in items if not isinstance(e, Article)]
    assert [a.id for a in parsed] == [f"scaled-en/{i:06d}" for i in range(1, SIZE + 1)]
    assert len({a.body for a in parsed}) == SIZE
    assert {SOURCE_LANGUAGE[a.source] for a in parsed} == {"en"}
    assert {detect_language(a.title, a.body) for a in parsed} == {"en"}
    for a in parsed:
        assert BODY_MIN_BYTES <= len(a.body.encode("utf-8")) <= BODY_MAX_BYTES
        assert a.published.utcoffset() in OFFSETS["en"], (a.id, a.published)

    english, mixed_share = _document_share(first, "said"), _document_share(mixed, "said")
    assert english > 0.6 and english > 3 * mixed_share, (english, mixed_share)

    mix = make_mix(first, 12, seed=7)
    for spec in mix["phrase_common"]:
        assert spec.phrase and len(spec.words) == 2
        for word in spec.words:
            share = sum(word in TOKEN.findall(f"{d.title}\n{d.body}".lower()) for d in parsed)
            assert share > 0.05 * SIZE, (spec.text, word, share)
    assert "scaled-en" in parse_args([]).datasets
    assert parse_args(["--datasets", "scaled-en"]).datasets == ["scaled-en"]


def test_quick_bench_run_writes_the_report(tmp_path: Path) -> None:
    """A tiny scripts/bench run (~30 s): newsearch only, three datasets, 3 s per phase."""
    require_shared()
    out = tmp_path / "results"
    env = dict(os.environ, NEWSEARCH_BENCH_PYTHON=sys.executable, TMPDIR=str(tmp_path))
    proc = subprocess.run(
        [
            str(REPO / "scripts" / "bench"),
            "--quick",
            "--size",
            "300",
            "--skip-peers",
            "--skip-http",
            "--datasets",
            "factrueval,scaled,scaled-en",
            "--queries",
            "12",
            "--time-budget",
            "3",
            "--out",
            str(out),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=150,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads((out / "latest.json").read_text(encoding="utf-8"))
    assert (out / "latest.md").read_text(encoding="utf-8").startswith("# newsearch benchmark")
    assert len(list(out.glob("*.json"))) == 2  # <stamp>.json and latest.json

    for key in ("machine", "options", "datasets", "build", "latency", "targets", "ratios"):
        assert key in result, key
    assert result["errors"] == []
    assert result["datasets"]["scaled"]["documents"] == 300
    assert result["datasets"]["scaled-en"]["documents"] == 300
    assert result["datasets"]["scaled-en"]["languages"] == {"en": 300}
    assert result["datasets"]["factrueval"]["documents"] == 254
    build = result["build"]["newsearch"]["scaled"]
    assert build["docs_per_s"] > 0 and build["peak_tree_rss_bytes"] > 0 and build["index_bytes"] > 0
    for kind in CLASSES:
        for dataset in ("scaled", "scaled-en"):
            figures = result["latency"]["newsearch"][dataset][kind]
            assert figures["n"] > 0 and figures["errors"] == 0, (dataset, kind, figures)
            assert figures["p50_ms"] <= figures["p95_ms"] <= figures["p99_ms"]
    names = {t["name"] for t in result["targets"]}
    assert "top-10 BM25 p50" in names and "build throughput" in names
    assert {"nproc", "cpu_model", "ram_bytes", "python", "packages"} <= set(result["machine"])
    assert "http" not in result and "tantivy" not in result["build"]
