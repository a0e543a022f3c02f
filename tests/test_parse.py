"""Tests of newsearch.indexer.parse: article text files, JSON Lines, gzip, directory walks,
errors."""

from __future__ import annotations

import dataclasses
import gzip
import json
import os
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsearch.indexer import parse
from newsearch.indexer.article_format import parse_article_text
from newsearch.indexer.jsonl import parse_jsonl_line
from newsearch.indexer.parse import (
    ArticleFormatError,
    collect,
    iter_sources,
    read_source,
)
from newsearch.search.model import Article, ArticleError

SHARED = Path(os.environ.get("NEWSEARCH_SHARED", Path(__file__).resolve().parents[2] / "shared"))
SEED = SHARED / "fixtures" / "seed-article.txt"
KYIV_SUMMER = timezone(timedelta(hours=3))
SEED_TITLE = "Russia prosecuting migrants to force them to join army - British intelligence"
SEED_TAGS = (
    "migrants",
    "war with Russia",
    "Russian army",
    "mobilization in Russia",
    "Central Asia",
)


@pytest.fixture
def seed_bytes() -> bytes:
    if not SEED.is_file():
        pytest.skip(f"seed article not found at {SEED} (set NEWSEARCH_SHARED to the shared dir)")
    return SEED.read_bytes()


def article_text(
    *,
    header: str = "War 2024-09-15T04:17:16+03:00",
    source: str = "Ukrainian news",
    title: str = "Title of the story",
    headline: str | None = "Title of the story",
    tags: str | None = "one, two words",
    body: str = "First paragraph, with a sentence.\n\nSecond paragraph.",
) -> str:
    """An article in the text format; ``None`` leaves a block out."""
    blocks = [f"{header}\n{source}\n{title}"]
    blocks += [b for b in (headline, tags) if b is not None]
    return "\n\n".join([*blocks, body]) + "\n"


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def only_articles(items: list[Article | ArticleError]) -> list[Article]:
    assert all(isinstance(item, Article) for item in items), items
    return [item for item in items if isinstance(item, Article)]


def jsonl_record(**overrides: object) -> str:
    record: dict[str, object] = {
        "id": "a1",
        "title": "Київ отримав нові системи ППО",
        "body": "Перший абзац.\n\nДругий абзац.",
        "tags": ["ППО", "Київ"],
        "category": "Війна",
        "source": "Українські новини",
        "published": "2024-09-15T04:17:16+03:00",
    }
    record.update(overrides)
    text = json.dumps({k: v for k, v in record.items() if v is not ...}, ensure_ascii=False)
    # A lone surrogate can't be written as UTF-8: write it as its JSON escape (\\ud800).
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


# --- the seed article ---------------------------------------------------------------------


def test_seed_article_fields(seed_bytes: bytes) -> None:
    [article] = only_articles(list(read_source(SEED)))
    assert article.id == "seed-article.txt"
    assert article.category == "War"
    assert article.source == "Ukrainian news"
    assert article.title == SEED_TITLE
    assert article.headline is None
    assert article.tags == SEED_TAGS
    assert article.published == datetime(2024, 9, 15, 4, 17, 16, tzinfo=KYIV_SUMMER)
    assert article.published.utcoffset() == timedelta(hours=3)
    assert article.published_utc == datetime(2024, 9, 15, 1, 17, 16, tzinfo=UTC)
    assert article.language == ""
    assert article.url is None
    assert article.body.startswith("Russian law enforcement officers")
    assert article.body.endswith("already existing ones.")
    # The brief said 8 paragraphs; the file has 7 (lines 9, 11, ..., 21; then 2 blank lines).
    paragraphs = article.body.split("\n\n")
    assert len(paragraphs) == 7
    assert paragraphs[1] == (
        "This is stated in the intelligence review of the Ministry of Defense of Great Britain."
    )
    assert all(p.strip() == p and "\n" not in p for p in paragraphs)


def test_seed_article_id_is_path_below_the_root(seed_bytes: bytes, tmp_path: Path) -> None:
    write(tmp_path / "2024" / "war" / "seed-article.txt", seed_bytes)
    [article] = only_articles(list(iter_sources([tmp_path])))
    assert article.id == "2024/war/seed-article.txt"
    # The fixtures folder also holds FORMAT.md: skipped silently in a walk.
    [from_dir] = only_articles(list(iter_sources([SEED.parent])))
    assert dataclasses.replace(from_dir, id=article.id) == article


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(lambda b: b.replace(b"\n", b"\r\n"), id="crlf"),
        pytest.param(lambda b: b.replace(b"\n", b"\r"), id="cr"),
        pytest.param(lambda b: b"\xef\xbb\xbf" + b, id="bom"),
        pytest.param(lambda b: b"\xef\xbb\xbf" + b.replace(b"\n", b"\r\n"), id="bom-crlf"),
    ],
)
def test_seed_line_end_and_bom_variants(
    seed_bytes: bytes, tmp_path: Path, variant: Callable[[bytes], bytes]
) -> None:
    [seed] = only_articles(list(read_source(SEED)))
    path = write(tmp_path / "variant.txt", variant(seed_bytes))
    [article] = only_articles(list(read_source(path)))
    assert article.id == "variant.txt"
    assert dataclasses.replace(article, id=seed.id) == seed


# --- the text format ------------------------------------------------------------------------


def parse_text(text: str) -> Article:
    return parse_article_text(text, article_id="x.txt", path="x.txt")


def test_category_with_spaces() -> None:
    article = parse_text(article_text(header="Russian aggression  2024-09-15T04:17:16+03:00"))
    assert article.category == "Russian aggression"


def test_empty_category_and_zulu_date() -> None:
    article = parse_text(article_text(header="2024-02-29T23:59:00Z"))
    assert article.category == ""
    assert article.published == datetime(2024, 2, 29, 23, 59, tzinfo=UTC)
    assert article.published.utcoffset() == timedelta(0)


def test_negative_offset_is_kept() -> None:
    article = parse_text(article_text(header="World 2024-09-15T04:17:16.250-05:30"))
    assert article.published.isoformat() == "2024-09-15T04:17:16.250000-05:30"


def test_absent_tags_line() -> None:
    article = parse_text(article_text(tags=None))
    assert article.tags == ()
    assert article.headline is None
    assert article.body == "First paragraph, with a sentence.\n\nSecond paragraph."


def test_absent_headline_and_tags() -> None:
    article = parse_text(article_text(headline=None, tags=None, body="Only one line of body."))
    assert (article.headline, article.tags, article.body) == (None, (), "Only one line of body.")


def test_absent_headline_with_tags() -> None:
    article = parse_text(article_text(headline=None))
    assert (article.headline, article.tags) == (None, ("one", "two words"))
    assert article.body.startswith("First paragraph")


def test_one_line_lede_restating_the_title_is_body() -> None:
    # Similar to the title, but a sentence: the lede, not a headline.
    lede = "The title of the story is here."
    article = parse_text(article_text(headline=None, tags=None, body=f"{lede}\n\nMore."))
    assert article.headline is None
    assert article.body == f"{lede}\n\nMore."


@pytest.mark.parametrize(
    "headline",
    ["Title of the story, updated", "A wholly different wording"],
    ids=["similar", "reworded-before-tags"],
)
def test_headline_that_differs_is_kept(headline: str) -> None:
    article = parse_text(article_text(headline=headline))
    assert article.headline == headline
    assert article.tags == ("one", "two words")
    assert article.body.startswith("First paragraph")


def test_tags_are_trimmed_deduplicated_and_keep_case() -> None:
    article = parse_text(article_text(tags=" war with Russia ,Kyiv,, Kyiv , kyiv ,ʼ "))
    assert article.tags == ("war with Russia", "Kyiv", "kyiv", "ʼ")


def test_single_tag_without_comma_only_right_after_the_headline() -> None:
    assert parse_text(article_text(tags="migrants")).tags == ("migrants",)
    assert parse_text(article_text(headline=None, tags="migrants,")).tags == ("migrants",)
    article = parse_text(article_text(headline=None, tags="Subheading"))
    assert article.tags == ()
    assert article.body.startswith("Subheading\n\nFirst paragraph")


def test_lone_short_line_after_the_headline_is_body() -> None:
    article = parse_text(article_text(tags=None, body="Short body"))
    assert (article.tags, article.body) == ((), "Short body")


def test_body_keeps_text_and_inner_newlines() -> None:
    body = "«Лапки» — це ’апостроф' “quotes”.\nSecond line.\n\n\n\nNext paragraph."
    article = parse_text(article_text(body=body) + "\n\n  \n")
    assert article.body == "«Лапки» — це ’апостроф' “quotes”.\nSecond line.\n\nNext paragraph."


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("", 1, "empty file"),
        ("\ufeff \n\n", 1, "empty file"),
        (article_text(header="War"), 1, "missing date: line 1 is 'War'"),
        (article_text(header=""), 1, "missing date: line 1 is empty"),
        (article_text(header="War 2024-13-45T04:17:16+03:00"), 1, "bad date: found '2024-13"),
        (article_text(header="War 2024-09-15T04:17:16"), 1, "date has no UTC offset"),
        (article_text(header="War 0001-01-01T00:00:00+01:00"), 1, "date out of range"),
        (article_text(title=""), 3, "no title"),
        ("War 2024-09-15T04:17:16+03:00\nsource\n", 2, "no title"),
        ("War 2024-09-15T04:17:16+03:00\nsrc\nT\n\nT\n\na, b\n\n\n", 9, "empty body"),
    ],
)
def test_parse_article_text_errors(text: str, line: int, message: str) -> None:
    with pytest.raises(ArticleFormatError) as info:
        parse_text(text)
    assert info.value.line == line
    assert message in info.value.message


# --- JSON Lines ---------------------------------------------------------------------------


def test_jsonl_records(tmp_path: Path) -> None:
    lines = [
        jsonl_record(),
        "",
        "   ",
        jsonl_record(id=..., tags=[" a ", "b", "a", ""], language="UK", url="https://x.ua/1"),
        jsonl_record(id=..., published="2024-01-02T03:04:05Z", tags=None, category=None),
    ]
    path = write(tmp_path / "news.jsonl", "\n".join(lines) + "\n")
    first, second, third = only_articles(list(read_source(path)))
    assert first.id == "a1"
    assert first.title == "Київ отримав нові системи ППО"
    assert first.body == "Перший абзац.\n\nДругий абзац."
    assert first.tags == ("ППО", "Київ")
    assert (first.category, first.source) == ("Війна", "Українські новини")
    assert first.published == datetime(2024, 9, 15, 4, 17, 16, tzinfo=KYIV_SUMMER)
    assert (first.language, first.language_detected, first.url) == ("", False, None)
    assert second.id == "news.jsonl#4"
    assert second.tags == ("a", "b")
    assert (second.language, second.language_detected) == ("uk", False)
    assert second.url == "https://x.ua/1"
    assert third.id == "news.jsonl#5"
    assert third.published.utcoffset() == timedelta(0)
    assert (third.tags, third.category) == ((), "")


def test_parse_jsonl_line_default_id() -> None:
    article = parse_jsonl_line(jsonl_record(id=...), path="d/x.ndjson", lineno=7, default_id="z#7")
    assert article.id == "z#7"


def test_jsonl_bom_and_crlf(tmp_path: Path) -> None:
    data = "\ufeff" + jsonl_record() + "\r\n" + jsonl_record(id="a2") + "\r\n"
    path = write(tmp_path / "x.ndjson", data)
    assert [a.id for a in only_articles(list(read_source(path)))] == ["a1", "a2"]


# --- gzip and directories ------------------------------------------------------------------


def test_gzip_files_keep_full_name_as_id(tmp_path: Path) -> None:
    write(tmp_path / "a" / "story.txt.gz", gzip.compress(article_text().encode()))
    write(tmp_path / "b" / "feed.jsonl.gz", gzip.compress((jsonl_record(id=...) + "\n").encode()))
    articles = only_articles(list(iter_sources([tmp_path])))
    assert [a.id for a in articles] == ["a/story.txt.gz", "b/feed.jsonl.gz#1"]
    assert articles[0].tags == ("one", "two words")
    assert articles[1].tags == ("ППО", "Київ")


def test_directory_walk_is_recursive_sorted_and_skips_others(tmp_path: Path) -> None:
    for name in ["b/z.txt", "b/a.txt", "a.txt", "c/d/e.txt", "B.txt", "b/c/a.txt"]:
        write(tmp_path / name, article_text())
    write(tmp_path / "README.md", "# not an article\n")
    write(tmp_path / "notes.txt.bak", "backup")
    write(tmp_path / ".hidden.txt", "hidden")
    write(tmp_path / ".git" / "x.txt", "hidden dir")
    write(tmp_path / "c" / ".cache" / "y.txt", "hidden dir")
    items = list(iter_sources([tmp_path]))
    ids = [a.id for a in only_articles(items)]
    assert ids == ["B.txt", "a.txt", "b/a.txt", "b/c/a.txt", "b/z.txt", "c/d/e.txt"]
    assert ids == sorted(ids)
    assert items == list(iter_sources([tmp_path]))  # deterministic


def test_single_file_ids_and_error_paths(tmp_path: Path) -> None:
    good = write(tmp_path / "sub" / "good.txt", article_text())
    bad = write(tmp_path / "sub" / "bad.txt", article_text(title=""))
    unknown = write(tmp_path / "README.md", "text")
    missing = tmp_path / "missing.txt"
    items = list(iter_sources([good, bad, unknown, missing]))
    assert isinstance(items[0], Article)
    assert items[0].id == "good.txt"
    assert items[1:] == [
        ArticleError(str(bad), 3, "no title: line 3 is empty"),
        ArticleError(str(unknown), 1, "unknown file type: expected .txt, .jsonl or .ndjson (.gz)"),
        ArticleError(str(missing), 1, "cannot read file: No such file or directory"),
    ]


def test_collect_splits_articles_and_errors(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", article_text())
    write(tmp_path / "b.txt", "")
    parsed = collect(iter_sources([tmp_path]))
    assert [a.id for a in parsed.articles] == ["a.txt"]
    assert parsed.errors == [ArticleError("b.txt", 1, "empty file")]


# --- malformed files: one error each, and nothing else is lost -------------------------------

GOOD = article_text()
SEVERAL_LINES = "War 2024-09-15T04:17:16+03:00\nsrc\nTitle\n\nBody "
TRUNCATED_GZIP = gzip.compress(GOOD.encode())[:-12]


@pytest.mark.parametrize(
    ("name", "data", "line", "message", "good_ids"),
    [
        ("bad.txt", b"", 1, "empty file", []),
        ("bad.txt", article_text(header="War").encode(), 1, "missing date: line 1 is 'War'", []),
        ("bad.txt", article_text(header="War yesterday9").encode(), 1, "found 'yesterday9'", []),
        ("bad.txt", article_text(header="2024-09-15T04:17").encode(), 1, "no UTC offset", []),
        ("bad.txt", article_text(title=" ").encode(), 3, "no title", []),
        ("bad.txt", article_text(body="").encode(), 9, "empty body", []),
        ("bad.txt", (SEVERAL_LINES + "\xff").encode("latin-1"), 5, "byte offset 46 (line 5)", []),
        ("bad.txt", b"War\x00\x01\x02", 1, "binary file: NUL byte at byte offset 3", []),
        ("bad.txt.gz", b"this is not gzip", 1, "corrupt gzip", []),
        ("bad.txt.gz", TRUNCATED_GZIP, 1, "corrupt gzip", []),
        ("bad.jsonl", "\n\n  \n\u00a0\n".encode(), 1, "empty file", []),
        ("bad.jsonl", b"\x00\x01{}", 1, "binary file", []),
        (
            "bad.jsonl",
            f"{jsonl_record(id=...)}\n{{not json\n{jsonl_record(id=...)}\n".encode(),
            2,
            "invalid JSON: Expecting property name",
            ["bad.jsonl#1", "bad.jsonl#3"],
        ),
        ("bad.jsonl", f"{jsonl_record()}\n[1, 2]\n".encode(), 2, "not a JSON object", ["a1"]),
        (
            "bad.jsonl",
            f'{jsonl_record()}\n\n{{"title": "t", "tags": []}}\n'.encode(),
            3,
            "missing required field(s): 'body', 'published'",
            ["a1"],
        ),
        (
            "bad.jsonl",
            f"{jsonl_record()}\n".encode() + b'{"title": "\xc3("}\n',
            2,
            f"invalid UTF-8 at byte offset {len(jsonl_record().encode()) + 12} (line 2)",
            ["a1"],
        ),
        (
            "bad.jsonl.gz",
            gzip.compress(f"{jsonl_record()}\n".encode()) + b"garbage after the stream",
            2,
            "corrupt gzip",
            ["a1"],
        ),
    ],
)
def test_malformed_file_yields_one_error(
    tmp_path: Path, name: str, data: bytes, line: int, message: str, good_ids: list[str]
) -> None:
    write(tmp_path / "a-good.txt", GOOD)
    write(tmp_path / name, data)
    write(tmp_path / "z-good.jsonl", jsonl_record(id=...) + "\n")
    parsed = collect(iter_sources([tmp_path]))
    [error] = parsed.errors
    assert (error.path, error.line) == (name, line), error
    assert message in error.message
    assert [a.id for a in parsed.articles] == ["a-good.txt", *good_ids, "z-good.jsonl#1"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"tags": "a, b"}, "field 'tags' must be a list of strings, found a string"),
        ({"tags": ["a", 2]}, "field 'tags' must be a list of strings, item 2 is a number"),
        ({"title": 5}, "field 'title' must be a string, found a number"),
        ({"title": "  "}, "no title"),
        ({"body": ""}, "empty body"),
        ({"category": ["War"]}, "field 'category' must be a string, found an array"),
        ({"source": True}, "field 'source' must be a string, found a boolean"),
        ({"url": {}}, "field 'url' must be a string, found an object"),
        ({"id": 17}, "field 'id' must be a string, found a number"),
        ({"id": " "}, "field 'id' must not be empty"),
        ({"published": "2024-09-15T04:17:16"}, "date has no UTC offset in field 'published'"),
        ({"published": "15.09.2024"}, "bad date in field 'published': found '15.09.2024'"),
        ({"published": 1726362000}, "field 'published' must be a string, found a number"),
        ({"language": "ukr"}, "field 'language' must be an ISO 639-1 code"),
        ({"title": "\ud800"}, "unpaired surrogate"),
    ],
)
def test_jsonl_wrong_types_name_the_field(
    tmp_path: Path, overrides: dict[str, object], message: str
) -> None:
    path = write(tmp_path / "x.jsonl", f"{jsonl_record()}\n{jsonl_record(**overrides)}\n")
    items = list(read_source(path, root=tmp_path))
    assert isinstance(items[0], Article)
    assert len(items) == 2
    error = items[1]
    assert isinstance(error, ArticleError)
    assert (error.path, error.line) == ("x.jsonl", 2)
    assert message in error.message


def test_file_over_the_size_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parse, "MAX_FILE_BYTES", 1000)
    write(tmp_path / "big.txt", article_text(body="word " * 300))
    write(tmp_path / "bomb.txt.gz", gzip.compress(article_text(body="word " * 300).encode()))
    write(tmp_path / "small.txt", GOOD)
    # JSON Lines are streamed: the limit applies to each line, not to the whole file.
    records = [jsonl_record(id=str(i)) for i in range(20)]
    records.insert(5, jsonl_record(body="long " * 300))
    write(tmp_path / "feed.jsonl", "\n".join(records) + "\n")
    parsed = collect(iter_sources([tmp_path]))
    assert [(e.path, e.line) for e in parsed.errors] == [
        ("big.txt", 1),
        ("bomb.txt.gz", 1),
        ("feed.jsonl", 6),
    ]
    assert "over the limit of 1000 bytes" in parsed.errors[0].message
    assert "over the limit of 1000 bytes" in parsed.errors[1].message
    assert "line is over 1000 bytes" in parsed.errors[2].message
    assert [a.id for a in parsed.articles] == [*(str(i) for i in range(20)), "small.txt"]


# --- property: nothing raises ---------------------------------------------------------------

ARTICLE_LINES = st.sampled_from(
    [
        "War 2024-09-15T04:17:16+03:00",
        "2024-09-15T04:17:16Z",
        "x 2024-09-15T04:17:16",
        "x 9999-12-31T23:59:59-23:59",
        "Title",
        "a, b, c",
        "",
        " ",
        "Body sentence.",
    ]
)
ARTICLE_LIKE = st.builds(
    lambda head, lines, end: end.join([head, *lines]).encode("utf-8"),
    ARTICLE_LINES,
    st.lists(ARTICLE_LINES | st.text(max_size=30), max_size=12),
    st.sampled_from(["\n", "\r\n", "\r"]),
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children),
    max_leaves=6,
)
PLAUSIBLE = JSON_VALUES | st.text(min_size=1, max_size=20) | st.lists(st.text(max_size=8))
DATES = st.sampled_from(
    ["2024-09-15T04:17:16+03:00", "2024-09-15T04:17:16", "0001-01-01T00:00+01:00"]
)
JSON_RECORD = st.fixed_dictionaries(
    {"title": st.text(max_size=20), "body": st.text(max_size=40), "published": DATES},
    optional={k: PLAUSIBLE for k in ["id", "tags", "category", "source", "language", "url"]},
)
JSON_LIKE = st.builds(
    lambda records, blank: blank.join(json.dumps(r) for r in records).encode("utf-8"),
    st.lists(JSON_RECORD | st.dictionaries(st.text(max_size=8), JSON_VALUES), max_size=3),
    st.sampled_from(["\n", "\r\n", "\n\n \n"]),
)
ANY_CONTENT = (
    st.binary(max_size=300) | st.text(max_size=300).map(str.encode) | ARTICLE_LIKE | JSON_LIKE
)


@settings(max_examples=200, deadline=None)
@given(content=ANY_CONTENT)
def test_iter_sources_never_raises(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name in ["a.txt", "b.jsonl", "c.ndjson.gz", "d.txt.gz"]:
            write(root / name, content)
        write(root / "e.txt.gz", gzip.compress(content))
        write(root / "f.jsonl.gz", gzip.compress(content))
        items = [*iter_sources([root]), *iter_sources([root / "a.txt", root / "f.jsonl.gz"])]
        assert items
        for item in items:
            assert isinstance(item, Article | ArticleError)
            if isinstance(item, Article):
                # Everything downstream needs these to work.
                assert item.title.strip() and item.body.strip()
                assert item.content_hash and item.published_utc.tzinfo is UTC
            else:
                assert item.line >= 1 and item.message


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "data:text/html,x", "ftp://example.org/a", "//example.org", "http://"],
)
def test_jsonl_url_must_be_http_or_https(tmp_path: Path, url: str) -> None:
    path = tmp_path / "a.jsonl"
    good = jsonl_record(id="a", url="https://example.org/a")
    bad = jsonl_record(id="b", url=url)
    path.write_text(good + "\n" + bad + "\n", encoding="utf-8")
    items = list(read_source(path))
    assert isinstance(items[0], Article) and items[0].url == "https://example.org/a"
    assert isinstance(items[1], ArticleError)
    assert items[1].line == 2 and "url" in items[1].message, items[1]
