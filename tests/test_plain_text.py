"""Plain-text sources (title line, then body) beside the article format, on real indexes and on
the real corpora; the README's JSON Lines example parses as documented."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from bench.corpora import require_shared
from newsearch.indexer.build import build
from newsearch.indexer.maintenance import verify
from newsearch.indexer.parse import iter_sources
from newsearch.indexer.plain import ReadOptions, ReadReport
from newsearch.schema.cli import main
from newsearch.search.engine import Engine
from newsearch.search.model import Article, ArticleError
from newsearch.search.storage.layout import Layout
from newsearch.search.types import SearchRequest
from tests.conftest import DEMO, REPO

STORY = "Storm closes Lviv airport\n\nFlights were cancelled on Monday as the storm hit.\n"
MTIME = 1_700_000_000  # 2023-11-14T22:13:20Z


def _plain_folder(root: Path) -> Path:
    """Two plain-text stories in a folder tree, plus annotation files beside them."""
    (root / "weather").mkdir(parents=True)
    (root / "weather" / "storm.txt").write_text(STORY, encoding="utf-8")
    (root / "weather" / "storm.ann").write_text("T1\tLOC 20 24\tLviv\n", encoding="utf-8")
    (root / "economy.txt").write_text(
        "\ufeffГривня зміцнилася\r\n\r\nНацбанк повідомив про зміцнення гривні.\r\n",
        encoding="utf-8",
    )
    (root / "SOURCE.md").write_text("where it came from\n", encoding="utf-8")
    for path in (root / "weather" / "storm.txt", root / "economy.txt"):
        os.utime(path, (MTIME, MTIME))
    return root


def test_plain_text_folder_is_indexed_and_reported(tmp_path: Path) -> None:
    src = _plain_folder(tmp_path / "plain")
    report = ReadReport()
    items = list(iter_sources([src], report=report))
    assert [i.id for i in items if isinstance(i, Article)] == ["economy.txt", "weather/storm.txt"]
    [economy, storm] = items
    assert isinstance(economy, Article) and isinstance(storm, Article)
    assert (storm.title, storm.body) == (
        "Storm closes Lviv airport",
        "Flights were cancelled on Monday as the storm hit.",
    )
    assert economy.title == "Гривня зміцнилася"
    assert storm.published == datetime.fromtimestamp(MTIME, UTC)
    assert (storm.category, storm.source, storm.language) == ("", "", "")
    assert report.describe() == [
        "read 2 plain-text files",
        "skipped 2 files of other types (.ann 1, .md 1)",
    ]
    # Built and searched; the language is detected; the CLI says what it read and skipped.
    index_dir = tmp_path / "ix"
    published = "2024-09-15T04:17:16+03:00"
    args = ["index", "build", str(src), "--index", str(index_dir), "--published", published]
    result = CliRunner().invoke(main, [*args, "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "read 2 plain-text files" in result.output
    assert "skipped 2 files of other types (.ann 1, .md 1)" in result.output
    engine = Engine(index_dir)
    [hit] = engine.search(SearchRequest(query="гривні")).hits
    assert hit.article.id == "economy.txt" and hit.article.language == "uk"
    assert hit.article.published.isoformat() == published
    assert Layout(index_dir).manifest("g000001").read_options == {
        "text_format": "auto",
        "published": published,
    }
    # verify reads the sources as the build did (with its --published), so all agree.
    report_ok = verify([src], index_dir)
    assert (report_ok["missing"], report_ok["changed"], report_ok["extra"]) == ([], [], [])


@pytest.mark.parametrize(
    ("published", "problem"),
    [
        ("0001-01-01T00:00:00+03:00", "date out of range"),
        ("2024-09-15T04:17:16", "date has no UTC offset"),
        ("yesterday", "bad date"),
    ],
)
def test_a_bad_published_option_is_a_usage_error(
    tmp_path: Path, published: str, problem: str
) -> None:
    """``--published`` is read as an article's date is: a clear usage error, no traceback."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "story.txt").write_text(STORY, encoding="utf-8")
    args = ["index", "build", str(src), "--index", str(tmp_path / "ix"), "--published", published]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert "Invalid value for '--published'" in result.output
    assert problem in result.output
    assert not (tmp_path / "ix").exists()


def test_article_files_never_read_as_plain_text(tmp_path: Path) -> None:
    """The article format parses as before, and in a folder of article files a file without
    a header is a broken article (an error), not a plain-text one."""
    before = list(iter_sources([DEMO], ReadOptions(text_format="article")))
    assert list(iter_sources([DEMO])) == before
    src = tmp_path / "mixed"
    src.mkdir()
    (src / "en-001.txt").write_bytes((DEMO / "en-001-volunteers-supply.txt").read_bytes())
    (src / "note.txt").write_text(STORY, encoding="utf-8")
    report = ReadReport()
    items = list(iter_sources([src], report=report))
    assert isinstance(items[0], Article) and items[0].category == "War"
    assert items[1] == ArticleError(
        "note.txt", 1, "missing date: line 1 is 'Storm closes Lviv airport'"
    )
    assert report.describe() == ["read 2 article files"]
    # A file named alone is decided by itself; a broken date stays an article error.
    (src / "broken.txt").write_text("War 2024-09-15\nSource\nTitle\n\nBody.\n", encoding="utf-8")
    [alone] = iter_sources([src / "note.txt"])
    assert isinstance(alone, Article) and alone.title == "Storm closes Lviv airport"
    [broken] = iter_sources([src / "broken.txt"])
    assert isinstance(broken, ArticleError) and "date has no UTC offset" in broken.message
    # Asked for, plain text is what every .txt file is read as.
    [forced] = iter_sources([src / "en-001.txt"], ReadOptions(text_format="plain"))
    assert isinstance(forced, Article) and forced.title.startswith("War 2014-08-24")


def _bbc() -> Path:
    return require_shared() / "bbc-news"


@pytest.mark.corpus
def test_bbc_news_plain_text_corpus_builds_and_searches(tmp_path: Path) -> None:
    """The real BBC corpus, read in place: 2,095 plain-text articles, its SOURCE.md and license
    reported as skipped, English detected, and its stories found."""
    src = _bbc()
    summary = build([src], tmp_path / "ix")
    assert summary.errors == []
    assert summary.documents == 2095
    assert summary.read.describe() == [
        "read 2095 plain-text files",
        "skipped 2 files of other types (.md 1, license 1)",
    ]
    engine = Engine(tmp_path / "ix")
    found = engine.search(SearchRequest(query='"trusted platform module"'))
    assert "news/tech/what-price-for-trusted-pc-security.txt" in {h.article.id for h in found.hits}
    [article] = engine.get(["news/tech/what-price-for-trusted-pc-security.txt"])
    assert article is not None and article.title == "What price for 'trusted PC security'?"
    assert article.language == "en"
    info = engine.info()
    assert info.documents == 2095
    assert info.languages.get("en", 0) >= 2090, info.languages


@pytest.mark.corpus
def test_annotated_corpus_reports_skipped_annotations(tmp_path: Path) -> None:
    factrueval = require_shared() / "factrueval-ru"
    report = ReadReport()
    articles = [a for a in iter_sources([factrueval], report=report) if isinstance(a, Article)]
    assert len(articles) == 255  # 254 articles and testset/list.txt, a list of file names
    # Four are one paragraph long: all body, titled with their first sentence.
    [single] = [a for a in articles if a.id == "devset/book_294.txt"]
    assert single.body.startswith(single.title.removesuffix(" …"))
    assert len(single.title.split()) <= 13 and "\n" not in single.body
    assert report.describe() == [
        "read 255 plain-text files",
        "skipped 510 files of other types (.md 1, .objects 254, .spans 254, LICENSE 1)",
    ]


def _readme_example() -> str:
    """The example line of README.md's JSON Lines section."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("### JSON Lines", 1)[1]
    match = re.search(r"```jsonl\n(.*?)\n```", section, re.S)
    assert match is not None, "README.md: no ```jsonl example in the JSON Lines section"
    return match.group(1)


def test_readme_jsonl_example_parses_as_documented(tmp_path: Path) -> None:
    line = _readme_example()
    assert "\n" not in line
    source = tmp_path / "articles.jsonl"
    source.write_text(line + "\n", encoding="utf-8")
    [article] = iter_sources([source])
    assert isinstance(article, Article), article
    record = json.loads(line)
    assert article.id == record["id"]
    assert article.title == record["title"]
    assert article.published == datetime.fromisoformat(record["published"])
    assert article.tags == tuple(record["tags"])
    assert (article.category, article.source, article.language, article.url) == (
        record["category"],
        record["source"],
        record["language"],
        record["url"],
    )


def test_demo_readme_names_only_files_of_the_repository() -> None:
    """It pointed to a format description outside the repository."""
    text = (DEMO / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`([^`\s]+\.(?:txt|md|py))`", text))
    assert named, "the demo README names its files"
    for name in named:
        assert (DEMO / name).is_file() or (REPO / name).is_file(), name
    assert "/work/" not in text and "../shared" not in text
    assert '"Article files"' in text and "### Article files" in (REPO / "README.md").read_text()
