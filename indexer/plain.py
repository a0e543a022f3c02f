"""Plain-text article files, and how a ``.txt`` source is told apart from the article format.

A ``.txt`` file is one of two kinds:

* **article**: the article format (line 1 ``<category> <ISO datetime with offset>``, line 2
  source, line 3 title, ...; see ``indexer/article_format.py``);
* **plain**: line 1 is the title and the rest is the body; nothing else is in the file (a
  file of one paragraph is all body, titled with its first sentence).  The
  publication time is given for the whole run (``ReadOptions.published``) or is the file's
  modification time; the language is detected, category and source are empty.

``ReadOptions.text_format`` chooses: ``article`` or ``plain`` read every ``.txt`` file so, and
``auto`` (the default) decides per source (each path given to a build): a source is an
article source when any of its ``.txt`` files starts with an article header, that is when the
last word of its first line starts like a date (``YYYY-MM-DD``), and a plain-text source
otherwise.  So in a folder of article files a file with a broken header is reported as a broken
article (never indexed as plain text), and a headline never reads as a header (no title in the
three real corpora ends in such a word).
"""

from __future__ import annotations

import gzip
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from newsearch.indexer.textfile import BOM, file_text
from newsearch.search.model import Article

TEXT_FORMATS = ("auto", "article", "plain")
"""How ``.txt`` files are read (see the module docstring)."""
_HEADER = re.compile(r"(?:^|\s)\d{4}-\d{2}-\d{2}\S*\s*$")
_FIRST_LINE_BYTES = 4096
_SENTENCE = re.compile(r"(?<=[.!?…])\s+")
_TITLE_MAX_WORDS = 16
_TITLE_CUT_WORDS = 12


class ArticleFormatError(ValueError):
    """An article that can't be parsed: the 1-based ``line`` at fault and what is wrong."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


@dataclass(frozen=True)
class ReadOptions:
    """How sources are read: the kind of ``.txt`` files, and plain text's publication time."""

    text_format: str = "auto"
    published: datetime | None = None
    """The publication time of every plain-text article; None: each file's modification time."""

    def __post_init__(self) -> None:
        if self.text_format not in TEXT_FORMATS:
            raise ValueError(f"text format must be one of {', '.join(TEXT_FORMATS)}")
        if self.published is not None and self.published.utcoffset() is None:
            raise ValueError("the publication time of plain text needs a UTC offset")

    def to_json(self) -> dict[str, str]:
        """A JSON-ready dict (recorded in a generation's manifest, for ``reindex``)."""
        found = {"text_format": self.text_format}
        if self.published is not None:
            found["published"] = self.published.isoformat()
        return found

    @staticmethod
    def from_json(data: dict[str, Any]) -> ReadOptions:
        """The options ``to_json`` wrote (an empty dict: the defaults)."""
        published = data.get("published")
        return ReadOptions(
            text_format=str(data.get("text_format", "auto")),
            published=datetime.fromisoformat(published) if published else None,
        )


@dataclass
class ReadReport:
    """What reading sources found besides articles and errors, for a build's summary."""

    files: Counter[str] = field(default_factory=Counter)
    """Files read, per kind: ``article``, ``plain`` (text files) and ``jsonl``."""
    skipped: Counter[str] = field(default_factory=Counter)
    """Files in folders skipped for their type, per extension (``.ann``; the whole name of a
    file without one, such as ``license``)."""

    def describe(self) -> list[str]:
        """Summary lines: the kinds of files read, and the files skipped for their type."""
        lines: list[str] = []
        if self.files:
            names = {"article": "article files", "plain": "plain-text files", "jsonl": "JSON Lines"}
            parts = [f"{self.files[k]} {names[k]}" for k in names if self.files[k]]
            lines.append("read " + ", ".join(parts))
        if self.skipped:
            total = sum(self.skipped.values())
            kinds = ", ".join(f"{ext} {n}" for ext, n in sorted(self.skipped.items()))
            files = "file" if total == 1 else "files"
            lines.append(f"skipped {total} {files} of other types ({kinds})")
        return lines


def is_article_header(first_line: str) -> bool:
    """Whether a file's first line is (or tries to be) an article header: its last word
    starts like a date (``2024-09-15T04:17:16+03:00``, also a broken ``2024-09-15``)."""
    return bool(_HEADER.search(first_line))


def first_line(path: Path, gzipped: bool) -> str:
    """The first line of a text file (BOM removed), read from its first bytes only; empty
    when it can't be read (reading it in full reports the problem)."""
    if not path.is_file():  # a FIFO would block; reading the file reports what it is
        return ""
    try:
        with path.open("rb") as raw:
            if gzipped:
                with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
                    head = unzipped.read(_FIRST_LINE_BYTES)
            else:
                head = raw.read(_FIRST_LINE_BYTES)
    except (OSError, EOFError, ValueError):
        return ""
    line = head.split(b"\n", 1)[0].split(b"\r", 1)[0]
    return line.decode("utf-8", errors="replace").removeprefix(BOM)


def text_kind(options: ReadOptions, first_lines: Iterable[str]) -> str:
    """``article`` or ``plain``: how to read the ``.txt`` files of one source, given the first
    lines of its ``.txt`` files (asked for lazily, so a folder of articles is decided at its
    first article)."""
    if options.text_format != "auto":
        return options.text_format
    return "article" if any(is_article_header(line) for line in first_lines) else "plain"


def modified_at(mtime: float) -> datetime:
    """A file's modification time as the publication time of its plain text (UTC, seconds)."""
    return datetime.fromtimestamp(int(mtime), UTC)


def parse_plain_text(text: str, *, article_id: str, published: datetime) -> Article:
    """A plain-text article: the first non-blank line is the title, the rest the body.

    ``text`` is decoded already; a BOM and CR/CRLF line ends are dropped, the body keeps its
    lines as written (leading and trailing blank lines removed).  A file of one line (a
    single paragraph) is all body, titled with its first sentence (its first 12 words and
    ``…`` when that is over 16 words).
    """
    lines = file_text(text).split("\n")
    start = next((n for n, line in enumerate(lines) if line.strip()), None)
    if start is None:
        raise ArticleFormatError(1, "empty file")
    rest = lines[start + 1 :]
    while rest and not rest[-1].strip():
        rest.pop()
    body = "\n".join(rest[next((n for n, line in enumerate(rest) if line.strip()), 0) :])
    title = lines[start].strip()
    if not body:  # one paragraph only: it is the body, and its first sentence the title
        title, body = _first_sentence(title), title
    return Article(id=article_id, title=title, body=body, published=published)


def _first_sentence(text: str) -> str:
    """The first sentence of ``text``, cut to its first words when longer than a title."""
    sentence = _SENTENCE.split(text, maxsplit=1)[0]
    words = sentence.split()
    if len(words) > _TITLE_MAX_WORDS:
        return " ".join(words[:_TITLE_CUT_WORDS]) + " …"
    return sentence
