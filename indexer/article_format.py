"""The article text format: one article per ``.txt`` file (README.md, "Article files").

Layout: line 1 ``<category> <datetime>``, line 2
source, line 3 title, then blocks separated by blank lines: an optional headline, an optional
tags line, and the body paragraphs.  The optional blocks are recognized like this:

* **headline**: the first block, when it is a single line that equals the title or is similar
  to it (difflib ratio >= 0.6, case-insensitive), or when it is a single line that does not look
  like tags and the block after it does look like tags (then its position says it's the
  headline even though it was reworded).
* **tags**: the next block, when it is a single line whose comma-separated items are all short
  (at most 6 words and 64 characters) and contain no sentence punctuation (``. ! ? … : ;`` at
  the end of an item, or ``. ! ? …`` followed by a space inside it).  A line without a comma is
  one tag only right after a headline block; without a headline it must contain a comma
  (``migrants,`` for a single tag), since a short first line may be a subheading or dateline.
  When the line is the last block of the file it must have at least two items, because a lone
  short last line is a one-line body.
* **body**: all remaining blocks, joined with ``"\\n\\n"``; there must be at least one.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from datetime import UTC, datetime

from newsearch.indexer.plain import ArticleFormatError
from newsearch.indexer.textfile import file_text
from newsearch.search.model import Article

_MAX_TAG_WORDS = 6
_MAX_TAG_CHARS = 64
_HEADLINE_SIMILARITY = 0.6
_SENTENCE_END = re.compile(r"[.!?…:;][\"'’”»)\]]*$")
_HEADLINE_END = re.compile(r"[.:;][\"'’”»)\]]*$")
_SENTENCE_BREAK = re.compile(r"[.!?…][\"'’”»)\]]*\s")


def parse_article_text(text: str, *, article_id: str, path: str) -> Article:
    """Parse one article in the text format into an Article with id ``article_id``.

    ``path`` is the source's display path; the caller reports errors with it, since the raised
    ``ArticleFormatError`` carries only the line number and message.
    """
    text = file_text(text)
    if not text.strip():
        raise ArticleFormatError(1, "empty file")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # the final newline ends the last line rather than starting a new one
    category, published = _parse_header(lines[0])
    source = lines[1].strip() if len(lines) > 1 else ""
    title = lines[2].strip() if len(lines) > 2 else ""
    if not title:
        if len(lines) < 3:
            raise ArticleFormatError(len(lines), f"no title: the file ends at line {len(lines)}")
        raise ArticleFormatError(3, "no title: line 3 is empty")

    blocks = _blocks(lines[3:])
    headline: str | None = None
    has_headline = bool(blocks) and _is_headline(blocks, title)
    if has_headline:
        text_line = blocks.pop(0)[0].strip()
        headline = text_line if text_line != title else None
    tags: tuple[str, ...] = ()
    last = len(blocks) == 1
    if blocks and _looks_like_tags(blocks[0], last=last, after_headline=has_headline):
        tags = split_tags(blocks.pop(0)[0])
    if not blocks:
        raise ArticleFormatError(len(lines), "empty body: no paragraphs after the header")
    body = "\n\n".join("\n".join(block) for block in blocks)
    return Article(
        id=article_id,
        title=title,
        body=body,
        published=published,
        category=category,
        source=source,
        tags=tags,
        headline=headline,
    )


def split_tags(line: str) -> tuple[str, ...]:
    """Comma-separated tags, as :func:`clean_tags` keeps them."""
    return clean_tags(line.split(","))


def clean_tags(items: Iterable[str]) -> tuple[str, ...]:
    """Tags trimmed, empty ones and exact duplicates dropped, order kept."""
    return tuple(dict.fromkeys(t for t in (item.strip() for item in items) if t))


def _parse_header(line: str) -> tuple[str, datetime]:
    """Category and publication datetime from line 1: the datetime is the last token."""
    stripped = line.strip()
    if not stripped:
        raise ArticleFormatError(1, "missing date: line 1 is empty")
    *head, token = stripped.rsplit(maxsplit=1)
    category = head[0].strip() if head else ""
    if not any(c.isdigit() for c in token):
        raise ArticleFormatError(1, f"missing date: line 1 is {stripped!r}")
    return category, parse_datetime(token, 1)


def parse_datetime(value: str, lineno: int, field: str | None = None) -> datetime:
    """An offset-aware datetime from ISO 8601; the offset is kept as written."""
    where = f" in field {field!r}" if field else ""
    value = value.strip()
    try:
        parsed = datetime.fromisoformat(value)
    except (ValueError, OverflowError):
        raise ArticleFormatError(
            lineno,
            f"bad date{where}: found {value!r}, expected an ISO 8601 date and time "
            "with UTC offset such as 2024-09-15T04:17:16+03:00",
        ) from None
    if parsed.utcoffset() is None:
        raise ArticleFormatError(lineno, f"date has no UTC offset{where}: found {value!r}")
    try:
        parsed.astimezone(UTC)  # year 1 or 9999 plus an offset falls outside datetime's range
    except OverflowError:
        raise ArticleFormatError(lineno, f"date out of range{where}: found {value!r}") from None
    return parsed


def _blocks(lines: list[str]) -> list[list[str]]:
    """Runs of non-blank lines; whitespace-only lines count as blank."""
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in [*lines, ""]:
        if line.strip():
            current.append(line)
        elif current:
            blocks.append(current)
            current = []
    return blocks


def _is_headline(blocks: list[list[str]], title: str) -> bool:
    first = blocks[0]
    if len(first) != 1:
        return False
    candidate = first[0].strip()
    if candidate == title:
        return True
    # A one-line lede often restates the title; but it is a sentence, and a headline isn't.
    if _HEADLINE_END.search(candidate) or len(candidate) > 2 * len(title) + 20:
        return False
    # SequenceMatcher is quadratic, but the lengths are bounded above.
    matcher = difflib.SequenceMatcher(None, candidate.casefold(), title.casefold(), autojunk=False)
    if matcher.ratio() >= _HEADLINE_SIMILARITY:
        return True
    # A reworded headline still sits right before the tags line.
    return (
        len(blocks) >= 3
        and not _looks_like_tags(first, last=False)
        and _looks_like_tags(blocks[1], last=False)
    )


def _looks_like_tags(block: list[str], *, last: bool, after_headline: bool = False) -> bool:
    """A single line of short comma-separated items without sentence punctuation."""
    # Without a comma, a lone short line is as likely a subheading or a dateline: take it for
    # one tag only in the tags line's own place, right after the headline.
    if len(block) != 1 or ("," not in block[0] and not after_headline):
        return False
    items = [item.strip() for item in block[0].split(",")]
    items = [item for item in items if item]
    if not items or (last and len(items) < 2):
        return False
    return all(
        len(item) <= _MAX_TAG_CHARS
        and len(item.split()) <= _MAX_TAG_WORDS
        and not _SENTENCE_END.search(item)
        and not _SENTENCE_BREAK.search(item)
        for item in items
    )
