"""Opaque cursors: which generation, which request, which position.

A cursor is ``base64url(json)`` of ``{"g": generation, "k": request key,
"o": offset}``.  Pages of one generation are a fixed order, so offsets are
stable; a cursor of another request is refused, and one from an older
generation still pages by position (results may have shifted).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import fields

from newsearch.search.types import Filters, MatchMode, SearchError, SearchRequest, Sort

_FILTER_FIELDS = tuple(f.name for f in fields(Filters))


def request_key(req: SearchRequest, sort: Sort) -> str:
    """A short digest of everything that determines the order of a result list."""
    # The filters as dataclasses.asdict gives them (every field is flat), without its
    # recursive deep copy, which is a visible part of a short search.
    filters = {name: getattr(req.filters, name) for name in _FILTER_FIELDS}
    parts: list[object] = [req.query, filters, sort.value, req.time_zone]
    if req.match is not MatchMode.ANY_SCRIPT:  # the default keeps the keys it always had
        parts.append(req.match.value)
    payload = json.dumps(parts, default=str, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def cursor_encoder(generation: str, key: str) -> Callable[[int], str]:
    """The cursor of the hit at an offset, for one page: the JSON around the offset is made once."""
    raw = json.dumps({"g": generation, "k": key, "o": 0}, separators=(",", ":"))
    head = raw[: -len("0}")].encode("ascii")

    def encode(offset: int) -> str:
        data = head + b"%d}" % offset
        return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")

    return encode


def decode_cursor(cursor: str, key: str) -> int:
    """The offset after ``cursor``; SearchError(kind="cursor") when it is not ours."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        offset = data["o"]
        their_key = data["k"]
        if not isinstance(offset, int) or offset < 0 or not isinstance(their_key, str):
            raise ValueError
    except (ValueError, KeyError, TypeError, UnicodeError):
        raise SearchError(
            "cursor", "the cursor is malformed", hint="pass an endCursor or cursor from a result"
        ) from None
    if their_key != key:
        raise SearchError(
            "cursor",
            "the cursor belongs to another query, filter or sort",
            hint="page with the same arguments",
        )
    return offset + 1
