"""One JSON Lines record as an article: its fields, their types and what each must hold.

Reading a ``.jsonl``/``.ndjson`` file line by line (size limit, gzip, decoding, blank lines)
is ``indexer/parse.py``'s; this module turns one decoded line into an ``Article``.
"""

from __future__ import annotations

import json
import re

from newsearch.indexer.article_format import clean_tags, parse_datetime
from newsearch.indexer.plain import ArticleFormatError
from newsearch.indexer.textfile import lf_line_ends
from newsearch.search.model import Article, check_url

_JSON_TYPES = {"NoneType": "null", "bool": "a boolean", "int": "a number", "float": "a number"}
_JSON_TYPES |= {"str": "a string", "list": "an array", "dict": "an object"}


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
    body = lf_line_ends(string("body") or "").strip("\n")
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
    return clean_tags(value)


def _json_type(value: object) -> str:
    return _JSON_TYPES.get(type(value).__name__, type(value).__name__)
