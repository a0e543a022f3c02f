"""The indexer on real indexes: identity, updates, generations, locks, crashes, CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from newsearch.indexer.build import StrictBuildError, apply_changes, build, update
from newsearch.indexer.feed import estimate_total
from newsearch.indexer.lock import IndexLocked, WriterLock
from newsearch.indexer.maintenance import index_stats, rollback, verify
from newsearch.schema.cli import main
from newsearch.search.engine import Engine
from newsearch.search.model import Article
from newsearch.search.reader import open_generation
from newsearch.search.storage import whoosh as whoosh_writer
from newsearch.search.storage.layout import Layout
from newsearch.search.types import SearchRequest
from tests.conftest import DEMO


def _count(index_dir: Path) -> int:
    layout = Layout(index_dir)
    with open_generation(layout, layout.require_current()) as gen, gen.ix.reader() as r:
        return int(r.doc_count())


def test_demo_build_counts(demo_index: Path) -> None:
    stats = index_stats(demo_index)
    assert stats["documents"] == 36
    assert stats["language"] == {"uk": 12, "ru": 12, "en": 12}
    assert stats["category"]["Russian aggression"] == 1
    assert sum(stats["category"].values()) == 36
    # en-005 was published 2021-12-31T23:30-05:00: the UTC instant is in 2022.
    assert stats["date_from"] < stats["date_to"]


def test_columns_agree_with_stored_articles(demo_index: Path) -> None:
    report = verify([DEMO], demo_index)
    assert report == {
        "checked": 36,
        "missing": [],
        "changed": [],
        "extra": [],
        "errors": 0,
        "columns_ok": True,
    }


def test_offset_kept_and_instant_exact(demo_engine: Engine) -> None:
    [article] = demo_engine.get(["en-005-markets-year-end.txt"])
    assert article is not None
    assert article.published.isoformat() == "2021-12-31T23:30:00-05:00"
    assert article.published_utc == datetime(2022, 1, 1, 4, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("армії", "uk-002-armiia-bronemashyny.txt"),  # the article says армія, never армії
        ("мигрантов", "ru-006-stroyki-migranty.txt"),  # the article says мигранты
        ("migrant", "en-007-migrants-army-contracts.txt"),  # the article says migrants
    ],
)
def test_inflections_match_on_real_index(demo_engine: Engine, query: str, expected: str) -> None:
    page = demo_engine.search(SearchRequest(query=query, first=50))
    assert expected in [h.article.id for h in page.hits]


def test_apostrophe_variants_are_one_term(demo_engine: Engine) -> None:
    ids = {
        q: {h.article.id for h in demo_engine.search(SearchRequest(query=q, first=50)).hits}
        for q in ("м’ясо", "мʼясо", "м'ясо")
    }
    assert ids["м’ясо"] == ids["мʼясо"] == ids["м'ясо"]
    assert {
        "uk-003-tsiny-miaso.txt",
        "uk-006-sonyachni-hromady.txt",
        "uk-009-volontery-armii.txt",
    } <= ids["м'ясо"]


def _article(i: int, body: str = "Body text about energy markets.", **kw: object) -> Article:
    return Article(
        id=f"a{i}",
        title=f"Title {i}",
        body=body,
        published=datetime(2024, 1, i + 1, 12, 0, tzinfo=UTC),
        language="en",
        **kw,  # type: ignore[arg-type]
    )


def test_update_adds_changes_and_prunes(tmp_path: Path, demo_copy: Path) -> None:
    index_dir = tmp_path / "ix"
    first = build([demo_copy], index_dir, workers=1)
    assert (first.added, first.documents) == (36, 36)
    again = update([demo_copy], index_dir, workers=1)
    assert (again.added, again.updated, again.unchanged, again.documents) == (0, 0, 36, 36)
    target = demo_copy / "en-001-volunteers-supply.txt"
    target.write_text(
        target.read_text(encoding="utf-8") + "\nA new closing paragraph.\n", encoding="utf-8"
    )
    (demo_copy / "en-002-sanctions-exporters.txt").unlink()
    changed = update([demo_copy], index_dir, workers=1)
    assert (changed.added, changed.updated, changed.unchanged, changed.deleted) == (0, 1, 34, 0)
    assert changed.documents == 36
    pruned = update([demo_copy], index_dir, prune=True, workers=1)
    assert (pruned.deleted, pruned.documents) == (1, 35)
    engine = Engine(index_dir)
    assert engine.get(["en-002-sanctions-exporters.txt"]) == [None]
    [edited] = engine.get(["en-001-volunteers-supply.txt"])
    assert edited is not None and edited.body.endswith("A new closing paragraph.")
    assert verify([demo_copy], index_dir)["columns_ok"]


def test_same_id_twice_keeps_last_version(tmp_path: Path) -> None:
    lines = [
        {"id": "x", "title": "First", "body": "old text", "published": "2024-01-01T00:00:00+02:00"},
        {
            "id": "x",
            "title": "Second",
            "body": "new text",
            "published": "2024-01-01T00:00:00+02:00",
        },
        {
            "id": "y",
            "title": "Other",
            "body": "other text",
            "published": "2024-01-02T00:00:00+02:00",
        },
    ]
    src = tmp_path / "a.jsonl"
    src.write_text("\n".join(json.dumps(x) for x in lines), encoding="utf-8")
    summary = build([src], tmp_path / "ix", workers=1)
    assert summary.documents == 2
    engine = Engine(tmp_path / "ix")
    [x] = engine.get(["x"])
    assert x is not None and x.title == "Second"
    assert engine.search(SearchRequest(query="old")).total == 0


def test_bad_input_is_reported_and_the_rest_indexed(tmp_path: Path, demo_copy: Path) -> None:
    (demo_copy / "broken.txt").write_text("War not-a-date\nsource\n", encoding="utf-8")
    (demo_copy / "bad.jsonl").write_text('{"id": 1\n[1, 2]\n', encoding="utf-8")
    summary = build([demo_copy], tmp_path / "ix", workers=1)
    assert summary.documents == 36
    assert sorted((e.path, e.line) for e in summary.errors) == [
        ("bad.jsonl", 1),
        ("bad.jsonl", 2),
        ("broken.txt", 1),
    ]


def test_strict_fails_and_keeps_the_served_index(tmp_path: Path, demo_copy: Path) -> None:
    index_dir = tmp_path / "ix"
    build([DEMO], index_dir, workers=1)
    before = Layout(index_dir).current()
    (demo_copy / "broken.txt").write_text("", encoding="utf-8")
    with pytest.raises(StrictBuildError):
        build([demo_copy], index_dir, strict=True, workers=1)
    assert Layout(index_dir).current() == before
    assert Layout(index_dir).generations() == [before]
    result = CliRunner().invoke(
        main, ["index", "build", str(demo_copy), "--index", str(index_dir), "--strict"]
    )
    assert result.exit_code == 1
    assert "broken.txt:1: empty file" in result.output


def test_generations_switch_and_roll_back(tmp_path: Path, demo_copy: Path) -> None:
    index_dir = tmp_path / "ix"
    build([demo_copy], index_dir, workers=1)
    (demo_copy / "en-003-bold-claims-xss.txt").unlink()
    build([demo_copy], index_dir, workers=1)
    layout = Layout(index_dir)
    assert layout.current() == "g000002"
    assert _count(index_dir) == 35
    assert rollback(index_dir) == "g000001"
    assert _count(index_dir) == 36
    for _ in range(4):
        build([demo_copy], index_dir, workers=1)
    assert len(layout.generations()) == 3  # served, previous, one grace generation


def test_second_writer_is_refused_with_pid(tmp_path: Path) -> None:
    index_dir = tmp_path / "ix"
    with WriterLock(index_dir), pytest.raises(IndexLocked, match=f"locked by pid {os.getpid()}"):
        build([DEMO], index_dir, workers=1)


HOLD_LOCK = """
import sys, time
from pathlib import Path
from newsearch.indexer.lock import WriterLock
lock = WriterLock(Path(sys.argv[1])); lock.acquire(); print("held", flush=True); time.sleep(600)
"""


def test_stale_lock_of_killed_writer_is_recovered(tmp_path: Path) -> None:
    index_dir = tmp_path / "ix"
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(index_dir)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    with pytest.raises(IndexLocked, match=f"pid {proc.pid}"):
        build([DEMO], index_dir, workers=1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    assert build([DEMO], index_dir, workers=1).documents == 36


def test_killed_build_leaves_served_index_answering(tmp_path: Path, demo_copy: Path) -> None:
    index_dir = tmp_path / "ix"
    build([DEMO], index_dir, workers=1)
    engine = Engine(index_dir)
    before = engine.search(SearchRequest()).total
    # A slow build: many articles through the CLI in a subprocess, killed mid-way.
    big = tmp_path / "big.jsonl"
    with big.open("w", encoding="utf-8") as f:
        for i in range(3000):
            record = {
                "id": f"b{i}",
                "title": f"Article number {i} about energy",
                "body": "Energy markets and grid repairs were discussed at length. " * 20,
                "published": "2024-05-01T10:00:00+03:00",
            }
            f.write(json.dumps(record) + "\n")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "newsearch.schema.cli",
            "index",
            "build",
            str(big),
            "--index",
            str(index_dir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    gens = Layout(index_dir).generations_dir
    while time.monotonic() < deadline and len(list(gens.iterdir())) < 2:
        time.sleep(0.05)
    time.sleep(1.0)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert Layout(index_dir).current() == "g000001"
    assert engine.reader.refresh().name == "g000001"
    assert engine.search(SearchRequest()).total == before == 36
    # The next build cleans the dead writer's folder and succeeds.
    assert build([DEMO], index_dir, workers=1).documents == 36
    assert [p.name for p in sorted(gens.iterdir())] == Layout(index_dir).generations()


def test_api_upserts_and_deletes(tmp_path: Path) -> None:
    index_dir = tmp_path / "ix"
    apply_changes(index_dir, [_article(1), _article(2)])
    summary = apply_changes(
        index_dir, [_article(2, body="Changed body about grids.")], ["a1", "nope"]
    )
    assert (summary.updated, summary.deleted, summary.documents) == (1, 1, 1)
    engine = Engine(index_dir)
    assert engine.search(SearchRequest(query="grids")).total == 1
    assert engine.get(["a1"]) == [None]


def test_cli_build_stats_verify(tmp_path: Path) -> None:
    index_dir = tmp_path / "ix"
    runner = CliRunner()
    result = runner.invoke(
        main, ["index", "build", str(DEMO), "--index", str(index_dir), "--workers", "1"]
    )
    assert result.exit_code == 0, result.output
    assert "built generation g000001: 36 documents (36 added" in result.output
    assert "docs/s" in result.output
    stats = runner.invoke(main, ["index", "stats", "--index", str(index_dir), "--json"])
    assert json.loads(stats.output)["language"] == {"uk": 12, "ru": 12, "en": 12}
    ok = runner.invoke(main, ["index", "verify", str(DEMO), "--index", str(index_dir)])
    assert ok.exit_code == 0, ok.output
    extra = tmp_path / "extra.jsonl"
    extra.write_text(
        json.dumps({"id": "new", "title": "T", "body": "B", "published": "2024-01-01T00:00:00Z"}),
        encoding="utf-8",
    )
    bad = runner.invoke(main, ["index", "verify", str(DEMO), str(extra), "--index", str(index_dir)])
    assert bad.exit_code == 1
    assert "missing: new" in bad.output


def _many(src: Path, count: int) -> Path:
    """``count`` short uk/en articles in one JSON Lines file."""
    with src.open("w", encoding="utf-8") as f:
        for i in range(count):
            lang_text = (
                "Армія отримала техніку. " if i % 3 == 0 else "Energy markets moved today. "
            ) * 5
            f.write(
                json.dumps(
                    {
                        "id": f"m{i}",
                        "title": f"T{i}",
                        "body": lang_text + f"word{i % 11} news{i % 5} item{i // 40}",
                        "tags": [f"t{i % 7}"],
                        "published": f"2024-01-{i % 28 + 1:02d}T10:00:00+02:00",
                    }
                )
                + "\n"
            )
    return src


def test_parallel_build_matches_serial(tmp_path: Path) -> None:
    src = _many(tmp_path / "many.jsonl", 400)
    serial = build([src], tmp_path / "s", workers=1)
    parallel = build([src], tmp_path / "p", workers=2)
    assert serial.documents == parallel.documents == 400
    a, b = index_stats(tmp_path / "s"), index_stats(tmp_path / "p")
    assert a["language"] == b["language"]
    for q in ("армії", "energy"):
        assert (
            Engine(tmp_path / "s").search(SearchRequest(query=q)).total
            == Engine(tmp_path / "p").search(SearchRequest(query=q)).total
        )
    assert verify([src], tmp_path / "p")["columns_ok"]
    with open_generation(Layout(tmp_path / "p"), "g000001") as gen:
        cols = gen.columns
    assert int(np.asarray(cols.live).sum()) == 400


def _segments(index_dir: Path) -> int:
    layout = Layout(index_dir)
    with open_generation(layout, layout.require_current()) as gen, gen.ix.reader() as r:
        return len(list(r.leaf_readers()))


def _compressions(index_dir: Path) -> set[int]:
    """The zlib level each segment's postings were written with (Whoosh's W3 codec)."""
    layout = Layout(index_dir)
    with open_generation(layout, layout.require_current()) as gen, gen.ix.reader() as r:
        return {leaf.segment().codec()._compression for leaf, _ in r.leaf_readers()}


def _ranked(engine: Engine, query: str) -> list[tuple[float, str]]:
    """Every hit as (score, id), paged through; ties may come in another order, so sorted."""
    found: list[tuple[float, str]] = []
    after = None
    while True:
        page = engine.search(SearchRequest(query=query, first=100, after=after))
        found += [(round(h.score or 0.0, 4), h.article.id) for h in page.hits]
        if not page.has_next_page:
            assert len(found) == page.total
            return sorted(found, reverse=True)
        after = page.end_cursor


def test_parallel_build_in_chunks_ranks_as_serial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A parallel build commits segments in chunks (no spill to disk): same answers."""
    src = _many(tmp_path / "many.jsonl", 400)
    serial = build([src], tmp_path / "s", workers=1)
    # Whoosh hands documents to its sub-writers 100 at a time: a chunk (~16 postings an
    # article, times 2 workers) must hold more than 100 articles to reach both of them.
    monkeypatch.setattr(whoosh_writer, "CHUNK_POSTINGS", 1000)
    chunked = build([src], tmp_path / "c", workers=2)
    assert serial.documents == chunked.documents == 400
    assert _segments(tmp_path / "s") == 1
    assert _segments(tmp_path / "c") >= 6  # two per chunk: one per worker
    # Both writers (one process, and chunks of parallel ones) leave postings uncompressed.
    assert _compressions(tmp_path / "s") == _compressions(tmp_path / "c") == {0}
    queries = (
        "армії",
        "energy markets",
        '"markets moved"',
        '"word3 news3"',
        '"news2 item3"',  # in 8 neighbouring documents: most segments cannot hold it (skipped)
        "word3 OR news2",
        "t4",
        "-energy",
    )
    for accelerated in (True, False):
        s_engine = Engine(tmp_path / "s", accelerated=accelerated)
        c_engine = Engine(tmp_path / "c", accelerated=accelerated)
        for q in queries:
            ranked = _ranked(c_engine, q)
            assert ranked, q
            assert ranked == _ranked(s_engine, q), (accelerated, q)
    assert verify([src], tmp_path / "c")["columns_ok"]
    assert index_stats(tmp_path / "c")["language"] == index_stats(tmp_path / "s")["language"]


def test_failed_chunked_build_leaves_served_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks already committed belong to the new generation only: a failure drops them all."""
    index_dir = tmp_path / "ix"
    build([DEMO], index_dir)
    before = _count(index_dir)
    src = _many(tmp_path / "many.jsonl", 400)
    with src.open("a", encoding="utf-8") as f:
        f.write("{not json\n")
    # Whoosh hands documents to its sub-writers 100 at a time: a chunk (~16 postings an
    # article, times 2 workers) must hold more than 100 articles to reach both of them.
    monkeypatch.setattr(whoosh_writer, "CHUNK_POSTINGS", 1000)
    with pytest.raises(StrictBuildError):
        build([src], index_dir, workers=2, strict=True)
    assert Layout(index_dir).generations() == ["g000001"]
    assert _count(index_dir) == before
    assert [p.name for p in (index_dir / "generations").iterdir()] == ["g000001"]


def test_estimate_total_stops_once_it_has_enough(tmp_path: Path) -> None:
    for i in range(10):
        (tmp_path / f"a{i}.txt").write_text("x", encoding="utf-8")
    (tmp_path / "b.jsonl").write_text("{}\n" * 7, encoding="utf-8")
    assert estimate_total([tmp_path]) == 17
    assert estimate_total([tmp_path], enough=4) == 4
    assert estimate_total([tmp_path / "b.jsonl"], enough=4) == 7  # whole chunks are counted


def test_reader_tells_the_opened_generation_without_looking_for_a_new_one(
    tmp_path: Path,
) -> None:
    index_dir = tmp_path / "ix"
    build([DEMO], index_dir, workers=1)
    engine = Engine(index_dir, check_interval=3600.0, preload=False)
    assert engine.reader.opened is None  # nothing is opened until asked
    first = engine.reader.generation()
    assert engine.reader.opened is first
    build([DEMO], index_dir, workers=1)
    assert engine.reader.opened is first  # a new CURRENT is not looked for
    second = engine.reader.refresh()
    assert second.name == "g000002"
    assert engine.reader.opened is second
