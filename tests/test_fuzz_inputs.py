"""Hostile and broken input, generated with hypothesis: the parser, a real build, ``Engine.search``.

* Article files (``.txt``) and JSON Lines, taken from the demo articles and mutated byte by
  byte (deletions, insertions of NULs, bad UTF-8, BOMs, stray line ends, dates out of range,
  markup...) or record by record (fields of the wrong type, missing, unknown), and wholly random
  files, go through ``newsearch.indexer.parse.iter_sources``: every input ends as an ``Article`` or
  as an ``ArticleError`` naming its file and a line that exists, and nothing raises.
* A real build of a folder holding intact, mutated and random files indexes every article the
  parser accepted and reports exactly the parser's errors.
* Arbitrary query strings, filters (years 1 and 9999, reversed ranges, unknown facet values,
  lists of 10,000 values), facets, time zones and cursors (random text, tampered base64 JSON,
  cursors of an older generation) go into ``Engine.search``: the answer is a ``SearchPage`` or a
  ``SearchError`` whose kind the GraphQL layer knows, nothing else.
"""

from __future__ import annotations

import base64
import json
import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st

from newsearch.indexer.build import build
from newsearch.indexer.parse import iter_sources
from newsearch.indexer.plain import ReadOptions
from newsearch.schema.types import ErrorKind
from newsearch.search.engine import Engine
from newsearch.search.model import Article, ArticleError
from newsearch.search.paging import request_key
from newsearch.search.types import (
    FACET_NAMES,
    MAX_FIRST,
    Filters,
    Interval,
    SearchError,
    SearchPage,
    SearchRequest,
    Sort,
)
from tests.conftest import DEMO

DEMO_FILES = sorted(DEMO.glob("*.txt"))
DEMO_BYTES = {p.name: p.read_bytes() for p in DEMO_FILES}
KNOWN_KINDS = frozenset(k.value for k in ErrorKind)

# --------------------------------------------------------------------------- byte mutations

INTERESTING = st.sampled_from(
    [
        b"\x00",
        b"\xff\xfe",
        b"\xc3",  # a truncated two-byte sequence
        b"\xed\xa0\x80",  # an encoded surrogate (invalid UTF-8)
        b"\r",
        b"\n",
        b"\r\n",
        b"\n\n",
        "\ufeff".encode(),
        b",",
        b", , ,",
        b"{",
        b"}",
        b'"',
        b"\\",
        b"\\u",
        b"\\ud800",
        b"<script>alert(1)</script>",
        b"&lt;b&gt;",
        b"0001-01-01T00:00:00+23:59",
        b"9999-12-31T23:59:59-23:59",
        b"2024-02-30T25:61:00+03:00",
        b"2024-09-15T04:17:16",
        "🙂\u2028\u0085\u200d".encode(),
        "і’ʼ'ё".encode(),
        b"\t \x0b\x0c",
        b"1e999999",
        b"[" * 50,
    ]
)
PAYLOAD = INTERESTING | st.binary(min_size=1, max_size=12) | st.text(max_size=12).map(str.encode)
MUTATION = st.tuples(
    st.sampled_from(["delete", "insert", "replace", "truncate", "dup_line", "drop_line", "swap"]),
    st.floats(min_value=0, max_value=1),
    st.integers(min_value=0, max_value=40),
    PAYLOAD,
)
Mutation = tuple[str, float, int, bytes]


def mutate(data: bytes, mutations: list[Mutation]) -> bytes:
    """Apply byte-level mutations (positions are fractions of the current length)."""
    for kind, where, size, payload in mutations:
        at = int(where * len(data))
        if kind == "delete":
            data = data[:at] + data[at + size :]
        elif kind == "insert":
            data = data[:at] + payload + data[at:]
        elif kind == "replace":
            data = data[:at] + payload + data[at + len(payload) :]
        elif kind == "truncate":
            data = data[:at]
        else:
            lines = data.split(b"\n")
            i = min(int(where * len(lines)), len(lines) - 1)
            j = min(i + 1 + size % 3, len(lines) - 1)
            if kind == "dup_line":
                lines.insert(i, lines[i])
            elif kind == "drop_line":
                del lines[i]
            else:
                lines[i], lines[j] = lines[j], lines[i]
            data = b"\n".join(lines)
    return data


MUTATIONS = st.lists(MUTATION, min_size=1, max_size=5)

# --------------------------------------------------------------------------- JSON Lines records

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.sampled_from(["", " ", "\u0000", "\ud800", "0001-01-01T00:00:00+01:00", "uk", "UKR"]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children)
    ),
    max_leaves=5,
)
FIELDS = ["id", "title", "body", "published", "tags", "category", "source", "language", "url"]


def good_records() -> list[dict[str, Any]]:
    """One JSON record per demo article, parsed by the parser itself."""
    records = []
    for n, item in enumerate(iter_sources([DEMO])):
        assert isinstance(item, Article)
        records.append(
            {
                "id": f"rec-{n}",
                "title": item.title,
                "body": item.body,
                "published": item.published.isoformat(),
                "tags": list(item.tags),
                "category": item.category,
                "source": item.source,
            }
        )
    return records


GOOD_RECORDS = good_records()
RECORD_EDIT = st.tuples(
    st.sampled_from(["set", "delete", "unknown"]), st.sampled_from(FIELDS), JSON_VALUES
)


def edit_record(record: dict[str, Any], edits: list[tuple[str, str, Any]]) -> dict[str, Any]:
    """Change, remove or add fields of a record."""
    changed = dict(record)
    for kind, name, value in edits:
        if kind == "set":
            changed[name] = value
        elif kind == "delete":
            changed.pop(name, None)
        else:
            changed[f"x-{name}"] = value
    return changed


def _dump(record: dict[str, Any]) -> bytes:
    # ensure_ascii keeps lone surrogates (from the JSON_VALUES strategy) representable.
    return json.dumps(record, ensure_ascii=bool(len(record) % 2)).encode("utf-8", "surrogatepass")


JSONL_LINE = st.one_of(
    st.sampled_from(GOOD_RECORDS).map(_dump),
    st.tuples(st.sampled_from(GOOD_RECORDS), st.lists(RECORD_EDIT, min_size=1, max_size=3)).map(
        lambda r: _dump(edit_record(r[0], r[1]))
    ),
    st.tuples(st.sampled_from(GOOD_RECORDS).map(_dump), MUTATIONS).map(lambda r: mutate(*r)),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=40),
    st.sampled_from([b"", b"   ", b"\r", b"\t"]),
)
JSONL_FILE = st.tuples(
    st.lists(JSONL_LINE, min_size=0, max_size=8), st.sampled_from([b"\n", b"\r\n"])
).map(lambda t: t[1].join(t[0]))

TEXT_FILE = st.one_of(
    st.tuples(st.sampled_from(sorted(DEMO_BYTES)), MUTATIONS).map(
        lambda t: mutate(DEMO_BYTES[t[0]], t[1])
    ),
    st.sampled_from(sorted(DEMO_BYTES)).map(DEMO_BYTES.__getitem__),
    st.binary(max_size=200),
    st.text(max_size=200).map(str.encode),
)

# --------------------------------------------------------------------------- oracles


def physical_lines(data: bytes) -> int:
    """Lines of a text file as the parser counts them (CRLF, CR and LF end a line)."""
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n") + 1


def expected_jsonl_lines(data: bytes) -> tuple[set[int], bool]:
    """The line numbers that must each give exactly one item, and whether line 1 is binary."""
    chunks = data.split(b"\n")
    if chunks and chunks[-1] == b"":
        chunks.pop()
    wanted: set[int] = set()
    for lineno, chunk in enumerate(chunks, 1):
        content = chunk.rstrip(b"\r\n")
        if b"\x00" in content:
            if lineno == 1:
                return set(), True
            wanted.add(lineno)
            continue
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            wanted.add(lineno)
            continue
        if lineno == 1:
            text = text.removeprefix("\ufeff")
        if text.strip():
            wanted.add(lineno)
    return wanted, False


def check_items(items: list[Article | ArticleError], files: dict[str, bytes]) -> None:
    """Every file ends as articles or errors naming that file and an existing line.

    An article belongs to the ``.txt`` file its id names, else to the JSONL file.
    """
    jsonl = [n for n in files if n.endswith(".jsonl")]
    by_file: dict[str, list[Article | ArticleError]] = {name: [] for name in files}
    for item in items:
        assert isinstance(item, Article | ArticleError), item
        if isinstance(item, ArticleError):
            assert item.path in files, item
            assert item.message.strip()
            by_file[item.path].append(item)
            continue
        assert item.title.strip() and item.body.strip()
        assert item.published.utcoffset() is not None
        assert item.content_hash and item.published_utc.tzinfo is UTC
        if item.id in files and item.id.endswith(".txt"):
            by_file[item.id].append(item)
        else:
            assert jsonl, item
            by_file[jsonl[0]].append(item)
    for name, data in files.items():
        found = by_file[name]
        if name.endswith(".txt"):
            assert len(found) == 1, (name, found)
            [item] = found
            if isinstance(item, ArticleError):
                assert 1 <= item.line <= physical_lines(data), (item, data)
            continue
        wanted, binary = expected_jsonl_lines(data)
        errors = [e for e in found if isinstance(e, ArticleError)]
        if binary or not wanted:
            assert found == errors and [e.line for e in errors] == [1], (found, data)
            continue
        # Each non-blank line gives exactly one item: an article or an error on that line.
        assert len(found) == len(wanted), (found, sorted(wanted), data)
        assert all(e.line in wanted for e in errors), (errors, data)
        assert len({e.line for e in errors}) == len(errors)


def _named(items: list[Article | ArticleError]) -> list[Article | ArticleError]:
    """Errors with their path cut to the file name (files named one by one show full paths)."""
    return [
        ArticleError(Path(i.path).name, i.line, i.message) if isinstance(i, ArticleError) else i
        for i in items
    ]


ARTICLES = ReadOptions(text_format="article")


def write_folder(root: Path, texts: list[bytes], jsonl: bytes | None) -> dict[str, bytes]:
    """Files ``t00.txt``... and ``lines.jsonl`` in ``root``; returns name -> content."""
    files = {f"t{i:02d}.txt": data for i, data in enumerate(texts)}
    if jsonl is not None:
        files["lines.jsonl"] = jsonl
    for name, data in files.items():
        (root / name).write_bytes(data)
    return files


# --------------------------------------------------------------------------- parser


@settings(max_examples=500, deadline=None)
@given(texts=st.lists(TEXT_FILE, min_size=0, max_size=4), jsonl=st.none() | JSONL_FILE)
def test_parser_turns_every_input_into_articles_or_located_errors(
    texts: list[bytes], jsonl: bytes | None
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files = write_folder(root, texts, jsonl)
        # The .txt files are article-format mutants: read as such (``auto`` would take a
        # folder of them without a header for plain text, see test_plain_text.py).
        items = list(iter_sources([root], ARTICLES))
        check_items(items, files)
        # Files named one by one give the same stream (ids are then file names).
        assert _named(list(iter_sources([root / n for n in sorted(files)], ARTICLES))) == items


@settings(max_examples=300, deadline=None)
@given(line=JSONL_LINE, before=st.integers(0, 3), ending=st.sampled_from([b"\n", b"\r\n", b""]))
def test_every_jsonl_line_is_one_article_or_an_error_on_that_line(
    line: bytes, before: int, ending: bytes
) -> None:
    good = [_dump(r) for r in GOOD_RECORDS[:before]]
    data = b"\n".join([*good, line]) + ending
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "one.jsonl"
        path.write_bytes(data)
        items = list(iter_sources([path]))
    wanted, binary = expected_jsonl_lines(data)
    assert all(isinstance(i, Article | ArticleError) for i in items)
    if binary or not wanted:
        assert len(items) == 1 and isinstance(items[0], ArticleError) and items[0].line == 1
        return
    assert len(items) == len(wanted)
    # The intact lines before the fuzzed one are all articles, with their own ids.
    assert [i.id for i in items[:before] if isinstance(i, Article)] == [
        r["id"] for r in GOOD_RECORDS[:before]
    ]
    # Whatever the fuzzed line (it may hold line breaks of its own) gave is located on it.
    for item in items[before:]:
        if isinstance(item, ArticleError):
            assert item.path == str(path) and item.line in wanted and item.line > before


# --------------------------------------------------------------------------- real builds


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    intact=st.lists(st.sampled_from(sorted(DEMO_BYTES)), min_size=1, max_size=4, unique=True),
    broken=st.lists(TEXT_FILE, min_size=1, max_size=4),
    jsonl=JSONL_FILE,
)
def test_build_of_good_and_broken_files_indexes_every_good_one(
    intact: list[str], broken: list[bytes], jsonl: bytes
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        for name in intact:
            (src / f"good-{name}").write_bytes(DEMO_BYTES[name])
        write_folder(src, broken, jsonl)
        parsed = list(iter_sources([src]))
        expected: dict[str, Article] = {}
        for item in parsed:
            if isinstance(item, Article):
                expected[item.id] = item  # the last version of an id wins
        errors = [(e.path, e.line, e.message) for e in parsed if isinstance(e, ArticleError)]

        summary = build([src], Path(tmp) / "ix", workers=1)

        assert [(e.path, e.line, e.message) for e in summary.errors] == errors
        assert summary.documents == len(expected)
        engine = Engine(Path(tmp) / "ix")
        stored = engine.get(sorted(expected))
        for article_id, found in zip(sorted(expected), stored, strict=True):
            assert found is not None, article_id
            assert found.content_hash == expected[article_id].content_hash
        assert {f"good-{n}" for n in intact} <= set(expected)
        assert engine.search(SearchRequest(first=0)).total == len(expected)


# --------------------------------------------------------------------------- Engine.search

WORDS = st.sampled_from(
    [
        "армії",
        "мигрантов",
        "migrant",
        "energy",
        "war",
        "Kyiv",
        "м’ясо",
        "мʼясо",
        "ёлка",
        "straße",
        "İstanbul",
        "ﬁle",
        "a",
        "1",
        "🙂",
        "\u200d",
        "<script>",
        "&amp;",
    ]
)
PLAIN_WORDS = st.sampled_from(
    ["war", "army", "армія", "армії", "energy", "election", "мигранты", "тарифы", "Kyiv", "OR"]
)
SYNTAX = st.sampled_from(
    [
        "OR",
        "AND",
        "NOT",
        "-",
        "(",
        ")",
        '"',
        "*",
        "~",
        "~2",
        "~9",
        "~-1",
        ":",
        "\\",
        "^",
        "+",
        "title:",
        "body:",
        "tag:",
        "category:",
        "source:",
        "language:",
        "lang:",
        "{",
        "}",
        "?",
    ]
)
QUERY = st.one_of(
    st.text(max_size=60),
    st.lists(WORDS | SYNTAX | st.text(max_size=6), max_size=14).map(" ".join),
    st.lists(WORDS | SYNTAX, max_size=14).map("".join),
    st.sampled_from(
        [
            "(" * 200 + "war" + ")" * 200,
            "NOT " * 300 + "war",
            "-" * 500 + "war",
            '"' * 999,
            " OR ".join(["war"] * 200),
            "a* " * 100,
            "ab~2 " * 70,
            "x" * 1001,
            "title:" * 200,
            "\x00\x01\x1f",
        ]
    ),
)


def mostly(valid: st.SearchStrategy[Any], junk: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``valid`` about nine times in ten, else ``junk``: most requests get far enough to search."""
    # (Not n == 0: hypothesis favours boundary values.)
    return st.integers(0, 9).flatmap(lambda n: junk if n == 5 else valid)


OFFSETS = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59).map(
    lambda m: timezone(timedelta(minutes=m))
)
MOMENT = st.one_of(
    st.none(),
    st.none(),
    st.none(),
    st.datetimes(min_value=datetime(2010, 1, 1), max_value=datetime(2026, 1, 1), timezones=OFFSETS),
    st.datetimes(min_value=datetime.min, max_value=datetime.max, timezones=st.none() | OFFSETS),
    st.sampled_from(
        [
            datetime(1, 1, 1),
            datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=23, minutes=59))),
            datetime(9999, 12, 31, 23, 59, 59, 999999),
            datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-23, minutes=-59))),
            datetime(2024, 9, 15, 4, 17, 16, tzinfo=timezone(timedelta(hours=3))),
        ]
    ),
)
VALUES = st.lists(
    st.text(max_size=12)
    | st.sampled_from(["uk", "UK", "ru", "en", "war", "War", "Russian aggression", "BBC News"]),
    max_size=6,
).map(tuple)
FILTERS = st.builds(
    Filters,
    published_from=MOMENT,
    published_to=MOMENT,
    tags_any=mostly(st.just(()), VALUES),
    tags_all=mostly(st.just(()), VALUES),
    languages=mostly(st.just(()), VALUES),
    categories=mostly(st.just(()), VALUES),
    sources=mostly(st.just(()), VALUES),
    exclude_ids=mostly(st.just(()), VALUES | st.just(("uk-002-armiia-bronemashyny.txt",))),
)
TIME_ZONES = st.sampled_from(
    ["UTC", "Europe/Kyiv", "Pacific/Kiritimati", "Etc/GMT+12", "America/St_Johns", "Factory"]
)
BAD_TIME_ZONES = st.sampled_from(
    [
        "",
        "Mars/Olympus",
        "../../etc/passwd",
        "/etc/localtime",
        "Europe/../Europe/Kyiv",
        "\x00",
        "UTC\n",
        "Europe/",
        "iso3166.tab",
        "tzdata",
        "UTC/x",
    ]
)


FACETS = mostly(
    st.just(FACET_NAMES) | st.lists(st.sampled_from(FACET_NAMES), unique=True).map(tuple),
    st.lists(st.sampled_from([*FACET_NAMES, "date", "", "TAG"]), max_size=5).map(tuple),
)
FIRST = mostly(st.integers(min_value=0, max_value=MAX_FIRST), st.sampled_from([-3, -1, 101]))
FACET_SIZE = mostly(st.integers(min_value=0, max_value=200), st.sampled_from([-2, -1, 10**9]))


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


CURSOR_FIELD = st.one_of(
    st.integers(),
    st.integers(min_value=10**18, max_value=10**40),
    st.floats(allow_nan=True),
    st.text(max_size=10),
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
)


@st.composite
def cursors(draw: st.DrawFn, key: str | None) -> str | None:
    """No cursor, random text, base64 of random bytes, or tampered JSON (some with our key)."""
    kind = draw(mostly(st.just("none"), st.sampled_from(["text", "bytes", "json", "ours"])))
    if kind == "none":
        return None
    if kind == "text":
        return draw(st.text(max_size=40))
    if kind == "bytes":
        return _b64(draw(st.binary(max_size=60)))
    fields: dict[str, Any] = draw(
        st.dictionaries(st.sampled_from(["g", "k", "o", "x"]), CURSOR_FIELD, max_size=4)
    )
    if kind == "ours" and key is not None:
        fields["k"] = key
        fields["o"] = draw(st.integers(min_value=-5, max_value=10**6) | CURSOR_FIELD)
    raw = json.dumps(fields, allow_nan=True).encode()
    return _b64(raw) + draw(st.sampled_from(["", "=", "==", "!", "%3D", " "]))


def _event(name: str) -> None:
    if currently_in_test_context():
        event(name)


def check_outcome(call: Callable[[], SearchPage]) -> SearchPage | SearchError:
    """A SearchPage that holds together, or a SearchError the API can type."""
    try:
        page = call()
    except SearchError as exc:
        assert exc.kind in KNOWN_KINDS, exc.kind
        assert exc.message
        _event(f"SearchError {exc.kind}")
        return exc
    assert isinstance(page, SearchPage)
    _event("SearchPage with hits" if page.hits else "SearchPage")
    assert 0 <= len(page.hits) <= page.total
    assert len({h.article.id for h in page.hits}) == len(page.hits)
    if page.has_next_page:
        assert page.total > len(page.hits)
    for facet in page.facets:
        assert facet.name in FACET_NAMES
        assert all(v.count >= 0 for v in facet.values)
    return page


@settings(max_examples=1000, deadline=None)
@given(
    query=st.lists(PLAIN_WORDS, max_size=3).map(" ".join) | QUERY,
    filters=FILTERS,
    sort=st.none() | st.sampled_from(Sort),
    first=FIRST,
    facets=FACETS,
    facet_size=FACET_SIZE,
    histogram=st.none() | st.sampled_from(Interval),
    time_zone=mostly(TIME_ZONES, BAD_TIME_ZONES),
    highlight=st.booleans(),
    data=st.data(),
)
def test_search_answers_a_page_or_a_typed_error(
    demo_engine: Engine,
    query: str,
    filters: Filters,
    sort: Sort | None,
    first: int,
    facets: tuple[str, ...],
    facet_size: int,
    histogram: Interval | None,
    time_zone: str,
    highlight: bool,
    data: st.DataObject,
) -> None:
    base = SearchRequest(
        query=query,
        filters=filters,
        sort=sort,
        first=first,
        facets=facets,
        facet_size=facet_size,
        histogram=histogram,
        time_zone=time_zone,
        highlight=highlight,
        fragments=data.draw(st.integers(0, 10)),
        fragment_size=data.draw(st.integers(20, 1000)),
    )
    key = request_key(base, sort or data.draw(st.sampled_from([Sort.RELEVANCE, Sort.NEWEST])))
    after = data.draw(cursors(key))
    req = SearchRequest(**{**base.__dict__, "after": after})
    check_outcome(lambda: demo_engine.search(req))


@settings(max_examples=150, deadline=None)
@given(query=QUERY, data=st.data())
def test_real_cursors_tampered_page_or_fail_typed(
    demo_engine: Engine, query: str, data: st.DataObject
) -> None:
    req = SearchRequest(query=data.draw(st.sampled_from(["", "war", "армія", query])), first=3)
    first = check_outcome(lambda: demo_engine.search(req))
    if not isinstance(first, SearchPage) or first.end_cursor is None:
        return
    cursor = first.end_cursor
    position = data.draw(st.integers(0, len(cursor) - 1))
    replacement = data.draw(st.sampled_from(list("AZaz09-_=+/!é")))
    tampered = cursor[:position] + replacement + cursor[position + 1 :]
    for after in (cursor, tampered, cursor[:position], cursor + cursor):
        check_outcome(
            lambda a=after: demo_engine.search(SearchRequest(**{**req.__dict__, "after": a}))
        )
    # A cursor of this query used with other filters or sort is refused as a cursor error.
    other = SearchRequest(query=req.query, first=3, sort=Sort.OLDEST, after=cursor)
    outcome = check_outcome(lambda: demo_engine.search(other))
    assert isinstance(outcome, SearchError) and outcome.kind == "cursor"


HUGE = 10_000


@pytest.mark.parametrize(
    "field", ["tags_any", "tags_all", "languages", "categories", "sources", "exclude_ids"]
)
def test_huge_filter_lists(demo_engine: Engine, field: str) -> None:
    known = {
        "tags_any": "war",
        "tags_all": "war",
        "languages": "uk",
        "categories": "War",
        "sources": "Kyiv Ledger",
        "exclude_ids": "uk-002-armiia-bronemashyny.txt",
    }[field]
    values = (*tuple(f"unknown-{i}" for i in range(HUGE - 1)), known)
    for wanted in (values, (known,) * HUGE):
        filters = Filters(**{field: wanted})
        outcome = check_outcome(
            lambda f=filters: demo_engine.search(SearchRequest(query="war", filters=f))
        )
        assert isinstance(outcome, SearchPage)


def test_cursor_of_an_older_generation(tmp_path: Path) -> None:
    """After a rebuild, a cursor of the previous generation pages by position or fails typed."""
    index_dir = tmp_path / "ix"
    build([DEMO], index_dir, workers=1)
    engine = Engine(index_dir, check_interval=0)
    requests = [
        SearchRequest(first=5),
        SearchRequest(query="war OR армія OR война", first=2),
        SearchRequest(query="energy", first=1, sort=Sort.OLDEST),
    ]
    old = [engine.search(r) for r in requests]
    subset = tmp_path / "subset"
    subset.mkdir()
    for f in DEMO_FILES[::3]:
        shutil.copy(f, subset / f.name)
    build([subset], index_dir, workers=1)
    assert engine.reader.refresh().name == "g000002"
    for req, page in zip(requests, old, strict=True):
        assert page.end_cursor is not None and page.generation == "g000001"
        again = SearchRequest(**{**req.__dict__, "after": page.end_cursor})
        outcome = check_outcome(lambda r=again: engine.search(r))
        if isinstance(outcome, SearchPage):
            assert outcome.generation == "g000002"


@pytest.mark.parametrize("name", ["Europe", "Etc", "a" * 300])
def test_time_zone_that_names_a_folder_or_is_too_long(demo_engine: Engine, name: str) -> None:
    """ZoneInfo raises OSError for these (found by the fuzz test above)."""
    outcome = check_outcome(lambda: demo_engine.search(SearchRequest(time_zone=name)))
    assert isinstance(outcome, SearchError) and outcome.kind == "filter"


def test_suggest_with_first_zero(demo_engine: Engine) -> None:
    """Whoosh refuses a limit of 0 (found by tests/test_fuzz_graphql.py)."""
    found = demo_engine.suggest("ar", 0)
    assert found.tags == () and found.titles == ()


def test_same_id_as_a_then_b_then_a_keeps_one_document(tmp_path: Path) -> None:
    records = [
        {"id": "x", "title": "First", "body": "alpha text", "published": "2024-01-01T00:00Z"},
        {"id": "x", "title": "Second", "body": "beta text", "published": "2024-01-01T00:00Z"},
        {"id": "x", "title": "First", "body": "alpha text", "published": "2024-01-01T00:00Z"},
    ]
    src = tmp_path / "abc.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    summary = build([src], tmp_path / "ix", workers=1)
    engine = Engine(tmp_path / "ix")
    assert engine.search(SearchRequest(query="alpha")).total == 1
    assert summary.documents == 1
