"""Date-only filter bounds: ``2005-03-31`` is that whole day in the request's time zone,
DST days (23 and 25 hours in Europe/Kyiv) included; through the engine and through GraphQL."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from newsearch.schema.dates import ACCEPTED_BOUNDS, parse_bound
from newsearch.search.engine import Engine
from newsearch.search.model import Article
from newsearch.search.types import MAX_FIRST, Filters, SearchError, SearchRequest
from tests.test_api import Client
from tests.test_search import build_index

KYIV = ZoneInfo("Europe/Kyiv")
SPRING = date(2022, 3, 27)
"""Kyiv's clocks go from 03:00 to 04:00: a day of 23 hours."""
AUTUMN = date(2022, 10, 30)
"""Kyiv's clocks go from 04:00 back to 03:00: a day of 25 hours."""
ZONES = ("Europe/Kyiv", "UTC", "America/New_York", "America/Sao_Paulo", "Pacific/Kiritimati")

EXACT = {
    # The case: three articles on 2005-03-31 (UTC), one just before, one just after.
    "mar30-late": datetime(2005, 3, 30, 23, 59, 59, 999999, tzinfo=UTC),
    "mar31-first": datetime(2005, 3, 31, tzinfo=UTC),
    "mar31-noon": datetime(2005, 3, 31, 15, 30, tzinfo=ZoneInfo("Europe/Moscow")),
    "mar31-last": datetime(2005, 3, 31, 23, 59, 59, 999999, tzinfo=UTC),
    "apr01-first": datetime(2005, 4, 1, tzinfo=UTC),
    # Around Kyiv's DST days, written with the offsets Kyiv had.
    "spring-before": datetime(2022, 3, 26, 23, 59, 59, tzinfo=KYIV),
    "spring-first": datetime(2022, 3, 27, 0, 0, tzinfo=KYIV),
    "spring-last": datetime(2022, 3, 27, 23, 59, 59, 999999, tzinfo=KYIV),
    "spring-after": datetime(2022, 3, 28, 0, 0, tzinfo=KYIV),
    "autumn-first": datetime(2022, 10, 30, 0, 0, tzinfo=KYIV),
    "autumn-0330-summer": datetime(2022, 10, 30, 3, 30, tzinfo=KYIV),
    "autumn-0330-winter": datetime(2022, 10, 30, 3, 30, fold=1, tzinfo=KYIV),
    "autumn-last": datetime(2022, 10, 30, 23, 59, 59, tzinfo=KYIV),
    "autumn-after": datetime(2022, 10, 31, 0, 0, tzinfo=KYIV),
}


def _articles() -> list[Article]:
    """The exact articles above, and one every 50 minutes across both DST weekends."""
    found = [
        Article(id=key, title=f"dated {key}", body="dated article", published=at, language="en")
        for key, at in EXACT.items()
    ]
    for day in (SPRING, AUTUMN):
        start = datetime.combine(day - timedelta(days=2), datetime.min.time(), tzinfo=UTC)
        for i in range(5 * 24 * 60 // 50):
            at = (start + timedelta(minutes=50 * i)).astimezone(KYIV)
            found.append(
                Article(id=f"{day}-{i}", title="dated", body="dated", published=at, language="en")
            )
    return found


ARTICLES = _articles()


@pytest.fixture(scope="module")
def dated_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_index(tmp_path_factory.mktemp("dated"), ARTICLES)


@pytest.fixture(scope="module")
def dated_engine(dated_index: Path) -> Engine:
    return Engine(dated_index)


def browse(engine: Engine, filters: Filters, zone: str) -> set[str]:
    """Ids of every article the filters admit (asserted to fit on pages of 100)."""
    ids: set[str] = set()
    after = None
    while True:
        req = SearchRequest(filters=filters, first=MAX_FIRST, after=after, time_zone=zone)
        page = engine.search(req)
        ids |= {h.article.id for h in page.hits}
        if not page.has_next_page:
            assert len(ids) == page.total
            return ids
        after = page.end_cursor


def on_days(first: date, last: date, zone: str) -> set[str]:
    """By brute force: the articles whose local date in ``zone`` is in [first, last]."""
    tz = ZoneInfo(zone)
    return {a.id for a in ARTICLES if first <= a.published.astimezone(tz).date() <= last}


def test_a_date_is_the_whole_day(dated_engine: Engine) -> None:
    day = date(2005, 3, 31)
    only = Filters(published_from=day, published_to=day)
    assert browse(dated_engine, only, "UTC") == {"mar31-first", "mar31-noon", "mar31-last"}
    # The same day in Moscow (+04:00 then) starts and ends four hours earlier.
    assert browse(dated_engine, only, "Europe/Moscow") == {
        "mar30-late",
        "mar31-first",
        "mar31-noon",
    }
    assert browse(dated_engine, Filters(published_from=day), "UTC") >= {"apr01-first"}
    assert "mar30-late" not in browse(dated_engine, Filters(published_from=day), "UTC")
    assert "apr01-first" not in browse(dated_engine, Filters(published_to=day), "UTC")


def test_kyiv_dst_days_are_23_and_25_hours(dated_engine: Engine) -> None:
    spring = browse(
        dated_engine, Filters(published_from=SPRING, published_to=SPRING), "Europe/Kyiv"
    )
    assert {"spring-first", "spring-last"} <= spring
    assert not {"spring-before", "spring-after"} & spring
    assert spring == on_days(SPRING, SPRING, "Europe/Kyiv")
    autumn = browse(
        dated_engine, Filters(published_from=AUTUMN, published_to=AUTUMN), "Europe/Kyiv"
    )
    assert {"autumn-first", "autumn-0330-summer", "autumn-0330-winter", "autumn-last"} <= autumn
    assert "autumn-after" not in autumn
    assert autumn == on_days(AUTUMN, AUTUMN, "Europe/Kyiv")
    # 25 hours hold 30 of the articles every 50 minutes (24 hours: 28 or 29).
    assert len(autumn - set(EXACT)) == 25 * 60 // 50


@pytest.mark.parametrize("zone", ZONES)
def test_every_day_and_range_against_brute_force(dated_engine: Engine, zone: str) -> None:
    checked = 0
    for middle in (SPRING, AUTUMN):
        days = [middle + timedelta(days=d) for d in range(-3, 4)]
        for first in days:
            for last in days[days.index(first) :: 2]:
                filters = Filters(published_from=first, published_to=last)
                expected = on_days(first, last, zone)
                assert browse(dated_engine, filters, zone) == expected, (first, last)
                checked += bool(expected)
    assert checked >= 20


def test_dates_mix_with_instants_and_reversed_days_are_refused(dated_engine: Engine) -> None:
    morning = datetime(2005, 3, 31, 11, tzinfo=UTC)
    assert browse(
        dated_engine, Filters(published_from=morning, published_to=date(2005, 3, 31)), "UTC"
    ) == {
        "mar31-noon",
        "mar31-last",
    }
    with pytest.raises(SearchError) as info:
        dated_engine.search(
            SearchRequest(
                filters=Filters(published_from=SPRING, published_to=SPRING - timedelta(1))
            )
        )
    assert info.value.kind == "filter"
    # The first and last representable days are bounds like any other.
    assert len(
        browse(
            dated_engine,
            Filters(published_from=date.min, published_to=date.max),
            "Pacific/Kiritimati",
        )
    ) == len(ARTICLES)


DATED = """
query($from: DateOrDateTime, $to: DateOrDateTime, $zone: String! = "UTC") {
  search(query: "dated", filter: {publishedFrom: $from, publishedTo: $to}, first: 100,
         sort: OLDEST, facets: {fields: [], timeZone: $zone}, highlight: {enabled: false}) {
    ... on ArticleConnection { totalCount edges { node { id } } }
    ... on QueryError { kind message }
  }
}
"""


@pytest.fixture(scope="module")
def dated_client(dated_index: Path) -> Client:
    return Client(dated_index)


def test_graphql_literal_dates_cover_the_day(dated_client: Client) -> None:
    result = dated_client.execute(
        """{ search(query: "dated", sort: OLDEST, facets: {fields: []},
                    filter: {publishedFrom: "2005-03-31", publishedTo: "2005-03-31"}) {
               ... on ArticleConnection { totalCount edges { node { id } } } } }"""
    )
    assert result.errors is None
    assert result.data == {
        "search": {
            "totalCount": 3,
            "edges": [
                {"node": {"id": "mar31-first"}},
                {"node": {"id": "mar31-noon"}},
                {"node": {"id": "mar31-last"}},
            ],
        }
    }


def test_graphql_variables_dates_and_instants(dated_client: Client) -> None:
    def ids(**variables: str) -> list[str]:
        result = dated_client.execute(DATED, variables)
        assert result.errors is None, result.errors
        return [e["node"]["id"] for e in result.data["search"]["edges"]]

    autumn = ids(**{"from": "2022-10-30", "to": "2022-10-30", "zone": "Europe/Kyiv"})
    assert len(autumn) == len(set(autumn))
    assert set(autumn) == on_days(AUTUMN, AUTUMN, "Europe/Kyiv")
    # A date and time is that instant (naive: in the zone), as before.
    assert ids(**{"from": "2005-03-31T14:30:00+03:00", "to": "2005-03-31T11:30"}) == ["mar31-noon"]
    assert ids(**{"from": "2005-03-31T11:30", "to": "2005-03-31T11:30:00Z"}) == ["mar31-noon"]


@pytest.mark.parametrize("value", ["2005", "2005-03", "yesterday", "2005-02-30", "31.03.2005", ""])
def test_graphql_refuses_what_is_not_a_day_or_an_instant(dated_client: Client, value: str) -> None:
    refused = f"{json.dumps(value)} is not a date or date-time ("
    result = dated_client.execute(DATED, {"from": value})
    assert result.errors is not None and result.data is None
    message = result.errors[0].message
    assert message.startswith("Variable '$from' has invalid value: " + refused), message
    assert message.endswith(ACCEPTED_BOUNDS), message
    literal = "{ search(filter: {publishedTo: VALUE}) { __typename } }"
    result = dated_client.execute(literal.replace("VALUE", json.dumps(value)))
    assert result.errors is not None and result.data is None
    message = result.errors[0].message  # named and not masked
    assert message.startswith("search(filter.publishedTo): " + refused), message
    assert message.endswith(ACCEPTED_BOUNDS), message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2005-03-31", date(2005, 3, 31)),
        ("20050331", date(2005, 3, 31)),
        ("2005-03-31T11:30:00Z", datetime(2005, 3, 31, 11, 30, tzinfo=UTC)),
        ("2005-03-31T14:30:00.000+0300", datetime(2005, 3, 31, 11, 30, tzinfo=UTC)),
        ("20050331T1130", datetime(2005, 3, 31, 11, 30)),
        ("2005-03-31 11:30", datetime(2005, 3, 31, 11, 30)),
    ],
)
def test_days_and_instants_as_written(text: str, expected: date) -> None:
    """A date alone is a ``date``; with a time it is read as the DateTime scalar reads it."""
    parsed = parse_bound(text)
    assert type(parsed) is type(expected) and parsed == expected
