"""The one article model shared by the indexer, the search engine and the GraphQL schema."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class Article:
    """A news article exactly as its source gave it.

    ``published`` is time-zone aware and keeps the offset the source wrote
    (``2024-09-15T04:17:16+03:00`` stays ``+03:00``); ``published_utc`` is the
    same instant in UTC.  ``language`` is an ISO 639-1 code, either given by
    the source or detected by the indexer; ``language_detected`` says which.
    """

    id: str
    title: str
    body: str
    published: datetime
    category: str = ""
    source: str = ""
    tags: tuple[str, ...] = ()
    language: str = ""
    language_detected: bool = False
    url: str | None = None
    headline: str | None = None

    def __post_init__(self) -> None:
        if self.url is not None:
            check_url(self.url)
        if self.published.tzinfo is None or self.published.utcoffset() is None:
            raise ValueError("published must carry a UTC offset")
        try:
            self.published.astimezone(UTC)
        except OverflowError:
            raise ValueError(
                f"published {self.published.isoformat()} is out of range in UTC"
            ) from None

    @property
    def published_utc(self) -> datetime:
        """The publication instant in UTC."""
        return self.published.astimezone(UTC)

    @property
    def utc_offset_seconds(self) -> int:
        """The source's UTC offset in seconds (``+03:00`` -> 10800)."""
        offset = self.published.utcoffset()
        assert offset is not None
        return int(offset.total_seconds())

    @property
    def published_us(self) -> int:
        """Microseconds since the Unix epoch: the exact instant, as stored in columns."""
        delta = self.published_utc - datetime(1970, 1, 1, tzinfo=UTC)
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds

    @property
    def content_hash(self) -> str:
        """A SHA-256 over every field but the id: equal hashes mean nothing changed."""
        payload = json.dumps(
            [
                self.title,
                self.body,
                self.published.isoformat(),
                self.category,
                self.source,
                list(self.tags),
                self.language if not self.language_detected else "",
                self.url,
                self.headline,
            ],
            ensure_ascii=False,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def with_language(self, language: str, detected: bool) -> Article:
        """A copy with the language set."""
        return replace(self, language=language, language_detected=detected)


def datetime_from_us(us: int, offset_seconds: int) -> datetime:
    """Rebuild an aware datetime from epoch microseconds and the original offset."""
    tz = UTC if offset_seconds == 0 else timezone(timedelta(seconds=offset_seconds))
    utc = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)
    return utc.astimezone(tz)


@dataclass(frozen=True, slots=True)
class ArticleError:
    """A problem with one input article: where it is and what is wrong."""

    path: str
    line: int
    message: str
    details: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def check_url(url: str) -> None:
    """Refuse anything but an absolute http(s) URL: a client renders it as a link, and
    ``javascript:`` or ``data:`` there would run in a journalist's browser."""
    parts = urlsplit(url)
    if (
        parts.scheme.lower() not in ("http", "https")
        or not parts.netloc
        or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url)
    ):
        raise ValueError(f"url must be an absolute http or https URL, found {url[:80]!r}")
