"""Date histograms by day, week (ISO, from Monday), month or year in an IANA time zone.

Bucket edges are computed as local midnights in the zone (so a DST change
makes a 23- or 25-hour day, as a reader there would expect), then every hit
is placed with one ``searchsorted`` over the published column.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from newsearch.search.filters import instant_us
from newsearch.search.model import datetime_from_us
from newsearch.search.types import Bucket, Interval, SearchError

MAX_BUCKETS = 5000


def _floor(moment: datetime, interval: Interval) -> datetime:
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    if interval is Interval.WEEK:
        day -= timedelta(days=day.weekday())
    elif interval is Interval.MONTH:
        day = day.replace(day=1)
    elif interval is Interval.YEAR:
        day = day.replace(month=1, day=1)
    return day


def _next(start: datetime, interval: Interval) -> datetime:
    if interval is Interval.DAY:
        return start + timedelta(days=1)
    if interval is Interval.WEEK:
        return start + timedelta(days=7)
    if interval is Interval.MONTH:
        return start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
    return start.replace(year=start.year + 1)


def _key(start: datetime, interval: Interval) -> str:
    if interval is Interval.YEAR:
        return f"{start.year:04d}"
    if interval is Interval.MONTH:
        return f"{start.year:04d}-{start.month:02d}"
    return start.date().isoformat()


def histogram(
    published_us: npt.NDArray[np.int64], interval: Interval, tz: ZoneInfo
) -> list[Bucket]:
    """Buckets from the first to the last hit, empty ones included."""
    if published_us.size == 0:
        return []
    lo = datetime_from_us(int(published_us.min()), 0).astimezone(tz)
    hi = datetime_from_us(int(published_us.max()), 0).astimezone(tz)
    spans, edges = _buckets(_floor(lo, interval), _floor(hi, interval), interval, tz)
    which = np.searchsorted(edges, published_us, side="right") - 1
    per_bucket = np.bincount(which, minlength=len(spans))
    return [
        Bucket(key=key, start=start, end=end, count=int(per_bucket[i]))
        for i, (key, start, end) in enumerate(spans)
    ]


@lru_cache(maxsize=16)  # an entry holds every bucket's datetimes: large for a decade of days
def _buckets(
    first: datetime, last: datetime, interval: Interval, tz: ZoneInfo
) -> tuple[tuple[tuple[str, datetime, datetime], ...], npt.NDArray[np.int64]]:
    """(key, start, end) of each bucket from local ``first`` to ``last``, and the edges as
    epoch microseconds (cached: requests repeat the same ranges, the whole archive most
    often, and building a decade of month edges in a time zone costs more than the rest
    of the histogram; a few entries only, since each holds every bucket's datetimes and
    varied requests would otherwise grow the server's memory)."""
    starts: list[datetime] = []
    local = first
    while local <= last:
        starts.append(local)
        if len(starts) > MAX_BUCKETS:
            raise SearchError(
                "filter",
                f"the date histogram would have more than {MAX_BUCKETS} buckets",
                hint="use a larger interval or a narrower date filter",
            )
        local = _next(local, interval)
    edges_local = [*starts, local]
    edges = np.asarray([instant_us(e.replace(tzinfo=tz), tz) for e in edges_local], dtype=np.int64)
    edges.setflags(write=False)
    spans = tuple(
        (_key(start, interval), start.replace(tzinfo=tz), edges_local[i + 1].replace(tzinfo=tz))
        for i, start in enumerate(starts)
    )
    return spans, edges
