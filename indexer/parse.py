"""Read article sources (article text files, plain text and JSON Lines, optionally gzipped).

Every problem with an input becomes an ``ArticleError`` in the output stream, never an
exception: one bad file must not stop the indexing of a whole archive.

This module finds the files, bounds their size, decompresses and decodes them and streams JSON
Lines; what a file's text means is said by ``indexer/article_format.py`` (the article text
format), ``indexer/jsonl.py`` (one JSON Lines record) and ``indexer/plain.py`` (plain text, and
how a ``.txt`` file's kind is chosen).
"""

from __future__ import annotations

import gzip
import os
import stat
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from newsearch.indexer.article_format import parse_article_text
from newsearch.indexer.jsonl import parse_jsonl_line
from newsearch.indexer.plain import ArticleFormatError as ArticleFormatError
from newsearch.indexer.plain import (
    ReadOptions,
    ReadReport,
    first_line,
    modified_at,
    parse_plain_text,
    text_kind,
)
from newsearch.indexer.textfile import BOM
from newsearch.search.model import Article, ArticleError

MAX_FILE_BYTES = 5 * 1024 * 1024
"""An article file over this is refused with an error, not read whole.  JSON Lines files are
streamed, so for them the limit applies to each line (record) instead of the whole file."""

_FORMATS = {".txt": "text", ".jsonl": "jsonl", ".ndjson": "jsonl"}
# Failures gzip raises on corrupt or truncated input (BadGzipFile is an OSError).
_READ_ERRORS = (OSError, EOFError, zlib.error)


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
                    line = line.removeprefix(BOM) if lineno == 1 else line
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
