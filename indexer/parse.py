"""Read article sources (article text files, plain text and JSON Lines, optionally gzipped).

Every problem with an input becomes an ``ArticleError`` in the output stream, never an
exception: one bad file must not stop the indexing of a whole archive.

Plain-text files and how a ``.txt`` file's kind is chosen: see ``indexer/plain.py``.

Article text layout (README.md, "Article files"): line 1 ``<category> <datetime>``, line 2
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
import gzip
import json
import os
import re
import stat
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from indexer.plain import ArticleFormatError as ArticleFormatError
from indexer.plain import (
    ReadOptions,
    ReadReport,
    first_line,
    modified_at,
    parse_plain_text,
    text_kind,
)
from search.model import Article, ArticleError, check_url

MAX_FILE_BYTES = 5 * 1024 * 1024
"""An article file over this is refused with an error, not read whole.  JSON Lines files are
streamed, so for them the limit applies to each line (record) instead of the whole file."""

_FORMATS = {".txt": "text", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_BOM = "\ufeff"
# Failures gzip raises on corrupt or truncated input (BadGzipFile is an OSError).
_READ_ERRORS = (OSError, EOFError, zlib.error)

_MAX_TAG_WORDS = 6
_MAX_TAG_CHARS = 64
_HEADLINE_SIMILARITY = 0.6
_SENTENCE_END = re.compile(r"[.!?…:;][\"'’”»)\]]*$")
_HEADLINE_END = re.compile(r"[.:;][\"'’”»)\]]*$")
_SENTENCE_BREAK = re.compile(r"[.!?…][\"'’”»)\]]*\s")
_JSON_TYPES = {"NoneType": "null", "bool": "a boolean", "int": "a number", "float": "a number"}
_JSON_TYPES |= {"str": "a string", "list": "an array", "dict": "an object"}


@dataclass(frozen=True)
class Parsed:
    """Articles and errors collected from sources (see ``collect``)."""

    articles: list[Article]
    errors: list[ArticleError]


class _LineReader(Protocol):
    def readline(self, size: int, /) -> bytes: ...


def collect(items: Iterable[Article | ArticleError]) -> Parsed:
    """Split an ``iter_sources``/``read_source`` stream into articles and errors."""
    articles: list[Article] = []
    errors: list[ArticleError] = []
    for item in items:
        if isinstance(item, Article):
            articles.append(item)
        else:
            errors.append(item)
    return Parsed(articles, errors)


def parse_article_text(text: str, *, article_id: str, path: str) -> Article:
    """Parse one article in the text format into an Article with id ``article_id``.

    ``path`` is the source's display path; the caller reports errors with it, since the raised
    ``ArticleFormatError`` carries only the line number and message.
    """
    # A BOM and CR/CRLF line ends are encoding artifacts, not content.
    text = text.removeprefix(_BOM).replace("\r\n", "\n").replace("\r", "\n")
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
    """Comma-separated tags: trimmed, empty ones and exact duplicates dropped, order kept."""
    return tuple(dict.fromkeys(t for t in (part.strip() for part in line.split(",")) if t))


def parse_jsonl_line(line: str, *, path: str, lineno: int, default_id: str) -> Article:
    """Parse one JSON Lines record; ``default_id`` is used when the record has no ``id``.

    Required: ``title``, ``body``, ``published``.  Optional (absent or null): ``id``, ``tags``,
    ``category``, ``source``, ``language``, ``url``; unknown fields are ignored.  ``path`` is
    the source's display path, used by the caller when it reports the raised error.
    """
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ArticleFormatError(lineno, f"invalid JSON: {exc.msg} at column {exc.colno}") from None
    except (ValueError, RecursionError) as exc:  # e.g. an integer too long, nesting too deep
        raise ArticleFormatError(lineno, f"invalid JSON: {exc}") from None
    if not isinstance(record, dict):
        raise ArticleFormatError(
            lineno, f"record is not a JSON object (found {_json_type(record)})"
        )

    if "\\u" in line:  # only \uXXXX escapes can make unpaired surrogates, unstorable as UTF-8
        try:
            json.dumps(record, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ArticleFormatError(
                lineno, "record contains an unpaired surrogate escape"
            ) from None
    missing = [name for name in ("title", "body", "published") if record.get(name) is None]
    if missing:
        names = ", ".join(repr(name) for name in missing)
        raise ArticleFormatError(lineno, f"missing required field(s): {names}")

    def string(name: str) -> str | None:
        value = record.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            raise ArticleFormatError(
                lineno, f"field {name!r} must be a string, found {_json_type(value)}"
            )
        return value

    title = (string("title") or "").strip()
    if not title:
        raise ArticleFormatError(lineno, "no title: field 'title' is empty")
    body = (string("body") or "").replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    if not body.strip():
        raise ArticleFormatError(lineno, "empty body: field 'body' is empty")
    published = parse_datetime(string("published") or "", lineno, "published")
    article_id = string("id")
    if article_id is not None and not article_id.strip():
        raise ArticleFormatError(lineno, "field 'id' must not be empty")
    language = (string("language") or "").strip().lower()
    if language and not re.fullmatch(r"[a-z]{2}", language):
        raise ArticleFormatError(
            lineno, f"field 'language' must be an ISO 639-1 code such as 'uk', found {language!r}"
        )
    url = (string("url") or "").strip() or None
    if url is not None:
        try:
            check_url(url)
        except ValueError as exc:
            raise ArticleFormatError(lineno, f"field 'url': {exc}") from None
    return Article(
        id=article_id.strip() if article_id is not None else default_id,
        title=title,
        body=body,
        published=published,
        category=(string("category") or "").strip(),
        source=(string("source") or "").strip(),
        tags=_json_tags(record.get("tags"), lineno),
        language=language,
        language_detected=False,
        url=url,
    )


def read_source(
    path: Path,
    root: Path | None = None,
    *,
    text: str = "article",
    published: datetime | None = None,
) -> Iterator[Article | ArticleError]:
    """Yield the articles of one file, and an ArticleError for each problem found.

    With ``root`` (which must contain ``path``), ids and error paths are ``path`` relative to
    ``root`` with POSIX separators; without it the id is the file name and errors name ``path``
    as given.  A ``.txt`` file is read as ``text`` (``article`` or ``plain``; plain text is
    published at ``published``, else at the file's modification time).  A file of unknown type
    is an error here (``iter_sources`` skips those when walking directories, and counts them).
    """
    if root is None:
        rel, display = path.name, str(path)
    else:
        rel = display = path.relative_to(root).as_posix()
    kind, gzipped = _format_of(path.name)
    if kind is None:
        yield ArticleError(display, 1, "unknown file type: expected .txt, .jsonl or .ndjson (.gz)")
        return
    try:
        info = path.stat()
    except OSError as exc:
        yield ArticleError(display, 1, f"cannot read file: {_describe(exc)}")
        return
    if not stat.S_ISREG(info.st_mode):
        yield ArticleError(display, 1, "not a regular file")
        return
    if kind == "jsonl":
        yield from _read_jsonl(path, gzipped, rel, display)
        return
    try:
        data = _read_bounded(path, gzipped, info.st_size)
        if (nul := data.find(b"\x00")) >= 0:
            message = f"binary file: NUL byte at byte offset {nul}"
            raise ArticleFormatError(_line_at(data, nul), message)
        decoded = _decode(data)
        if text == "plain":
            when = published or modified_at(info.st_mtime)
            yield parse_plain_text(decoded, article_id=rel, published=when)
        else:
            yield parse_article_text(decoded, article_id=rel, path=display)
    except ArticleFormatError as exc:
        yield ArticleError(display, exc.line, exc.message)


def iter_sources(
    paths: Sequence[Path], options: ReadOptions | None = None, report: ReadReport | None = None
) -> Iterator[Article | ArticleError]:
    """Yield articles and errors from files and directories, in a deterministic order.

    Directories are walked recursively; their files are read in sorted order of their path
    relative to the directory, which is also their id.  Hidden files and directories (name
    starting with '.') and files of unknown type are skipped there (``report`` counts the
    latter, and the files read per kind); a path named explicitly is always read (see
    ``read_source``).  ``options`` say how ``.txt`` files are read (default: ``auto``, decided
    per path given, see ``indexer/plain.py``).
    """
    options = options or ReadOptions()
    report = report if report is not None else ReadReport()
    for path in paths:
        if not path.is_dir():
            kind, gzipped = _format_of(path.name)
            text = text_kind(options, [first_line(path, gzipped)] if kind == "text" else [])
            if kind is not None:
                report.files[text if kind == "text" else "jsonl"] += 1
            yield from read_source(path, text=text, published=options.published)
            continue
        walk_errors: list[OSError] = []
        found: list[str] = []
        for folder, dirnames, filenames in os.walk(path, onerror=walk_errors.append):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for name in filenames:
                full = os.path.join(folder, name)
                if name.startswith("."):
                    continue
                if _format_of(name)[0] is None:
                    report.skipped[os.path.splitext(name)[1].lower() or name] += 1
                    continue
                if os.path.isfile(full):  # skips FIFOs, sockets and broken links
                    found.append(Path(full).relative_to(path).as_posix())
        for exc in walk_errors:
            where = os.path.relpath(exc.filename, path) if exc.filename else "."
            where = str(path) if where == "." else Path(where).as_posix()
            yield ArticleError(where, 1, f"cannot list directory: {_describe(exc)}")
        texts = [rel for rel in sorted(found) if _format_of(rel)[0] == "text"]
        text = text_kind(options, (first_line(path / r, _format_of(r)[1]) for r in texts))
        for rel in sorted(found):
            report.files[text if _format_of(rel)[0] == "text" else "jsonl"] += 1
            yield from read_source(path / rel, root=path, text=text, published=options.published)


def _format_of(name: str) -> tuple[str | None, bool]:
    """('text' | 'jsonl' | None, gzipped) from a file name; only one '.gz' is stripped."""
    lower = name.lower()
    suffix = os.path.splitext(lower.removesuffix(".gz"))[1]
    return _FORMATS.get(suffix), lower.endswith(".gz")


def _read_bounded(path: Path, gzipped: bool, size: int) -> bytes:
    """A whole article file, refusing one over MAX_FILE_BYTES (decompressed) without reading it."""
    limit = MAX_FILE_BYTES
    if size > limit:
        raise ArticleFormatError(1, f"file is {size} bytes, over the limit of {limit} bytes")
    try:
        with path.open("rb") as raw:
            # Read one byte past the limit: the file may have grown since stat(), and a gzip
            # bomb must be detected, not inflated.
            if not gzipped:
                data = raw.read(limit + 1)
            else:
                with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
                    data = unzipped.read(limit + 1)
    except _READ_ERRORS as exc:
        problem = "corrupt gzip" if gzipped else "cannot read file"
        raise ArticleFormatError(1, f"{problem}: {_describe(exc)}") from None
    if len(data) > limit:
        raise ArticleFormatError(1, f"uncompressed size is over the limit of {limit} bytes")
    return data


def _decode(data: bytes, offset: int = 0, lineno: int = 0) -> str:
    """UTF-8 text of bytes found at byte ``offset`` of a file, on line ``lineno`` if known."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = lineno or _line_at(data, exc.start)
        where = f"byte offset {offset + exc.start} (line {line})"
        raise ArticleFormatError(line, f"invalid UTF-8 at {where}: {exc.reason}") from None


def _line_at(data: bytes, offset: int) -> int:
    """1-based line number of a byte offset, counting CRLF, CR and LF line ends."""
    before = data[:offset]
    return before.count(b"\n") + before.count(b"\r") - before.count(b"\r\n") + 1


def _read_jsonl(
    path: Path, gzipped: bool, rel: str, display: str
) -> Iterator[Article | ArticleError]:
    """Stream a JSON Lines file record by record, so its size isn't bounded by memory."""
    limit = MAX_FILE_BYTES
    lineno = offset = 0
    seen_content = False
    try:
        with path.open("rb") as raw:
            stream: _LineReader = gzip.GzipFile(fileobj=raw, mode="rb") if gzipped else raw
            while chunk := stream.readline(limit + 1):
                lineno += 1
                start = offset
                offset += len(chunk)
                if len(chunk) > limit and not chunk.endswith(b"\n"):
                    while (rest := stream.readline(limit)) and not rest.endswith(b"\n"):
                        offset += len(rest)
                    offset += len(rest)
                    yield ArticleError(display, lineno, f"line is over {limit} bytes")
                    seen_content = True
                    continue
                content = chunk.rstrip(b"\r\n")
                nul = content.find(b"\x00")
                if nul >= 0 and lineno == 1:
                    yield ArticleError(display, 1, f"binary file: NUL byte at byte offset {nul}")
                    return
                try:
                    if nul >= 0:
                        raise ArticleFormatError(
                            lineno, f"NUL byte at byte offset {start + nul} (binary data)"
                        )
                    line = _decode(content, start, lineno)
                    line = line.removeprefix(_BOM) if lineno == 1 else line
                    if not line.strip():
                        continue  # blank lines separate nothing in JSON Lines; skip them
                    seen_content = True
                    yield parse_jsonl_line(
                        line, path=display, lineno=lineno, default_id=f"{rel}#{lineno}"
                    )
                except ArticleFormatError as exc:
                    seen_content = True
                    yield ArticleError(display, exc.line, exc.message)
    except _READ_ERRORS as exc:
        problem = "corrupt gzip" if gzipped else "cannot read file"
        yield ArticleError(display, lineno + 1 if lineno else 1, f"{problem}: {_describe(exc)}")
        return
    if not seen_content:
        yield ArticleError(display, 1, "empty file")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


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


def _json_tags(value: object, lineno: int) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ArticleFormatError(
            lineno, f"field 'tags' must be a list of strings, found {_json_type(value)}"
        )
    for position, item in enumerate(value, 1):
        if not isinstance(item, str):
            raise ArticleFormatError(
                lineno,
                f"field 'tags' must be a list of strings, item {position} is {_json_type(item)}",
            )
    # Same normalization as a tags line; a comma inside one JSON tag is kept as written.
    return tuple(dict.fromkeys(t for t in (item.strip() for item in value) if t))


def _json_type(value: object) -> str:
    return _JSON_TYPES.get(type(value).__name__, type(value).__name__)
