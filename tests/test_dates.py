"""A bad date names its argument and the accepted formats (schema/dates.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dateutil.parser  # type: ignore[import-untyped]
import httpx
import pytest
from graphql import GraphQLScalarType

from newsearch.schema.api import make_schema
from newsearch.schema.app import create_app
from newsearch.schema.dates import ACCEPTED, ACCEPTED_BOUNDS, parse_value
from newsearch.schema.settings import Settings
from tests.server import live_server

SCHEMA = make_schema(Settings(index_dir=Path("unused")))
UPSERT = (
    'mutation { upsertArticles(articles: [{id: "a", title: "t", body: "b", '
    'published: "2024-09-15T04:17:16+03:00"}, {id: "b", title: "t", body: "b", '
    'published: "2024-13-01"}]) { __typename } }'
)


def errors(document: str, variables: dict[str, object] | None = None) -> list[str]:
    """The messages of ``document`` (these fail before any resolver runs)."""
    result = SCHEMA.execute_sync(document, variable_values=variables)
    return [e.message for e in result.errors or []]


@pytest.mark.parametrize(
    ("document", "variables", "expected", "accepted"),
    [
        (
            '{ search(filter: {publishedFrom: "yesterday"}) { __typename } }',
            None,
            'search(filter.publishedFrom): "yesterday" is not a date or date-time '
            "(Expected 4 digits, got 'yest').",
            ACCEPTED_BOUNDS,
        ),
        (
            "{ browse(filter: {publishedTo: 20240915}) { __typename } }",
            None,
            "browse(filter.publishedTo): 20240915 is not a date or date-time (not a string).",
            ACCEPTED_BOUNDS,
        ),
        (
            UPSERT,
            None,
            'upsertArticles(articles[1].published): "2024-13-01" is not a date or date-time '
            "(month must be in 1..12).",
            ACCEPTED,
        ),
        (
            "query($f: SearchFilter) { search(filter: $f) { __typename } }",
            {"f": {"publishedTo": "31.03.2005"}},
            "Variable '$f' has invalid value at .publishedTo: \"31.03.2005\" is not a date or "
            "date-time (Expected 4 digits, got '31.0').",
            ACCEPTED_BOUNDS,
        ),
        (
            "query($d: DateOrDateTime) { search(filter: {publishedFrom: $d}) { __typename } }",
            {"d": 5},
            "Variable '$d' has invalid value: 5 is not a date or date-time (not a string).",
            ACCEPTED_BOUNDS,
        ),
        (
            '{ search(filter: {publishedTo: "2005-03"}) { __typename } }',
            None,
            'search(filter.publishedTo): "2005-03" is not a date or date-time '
            "(a year or a month is not a day).",
            ACCEPTED_BOUNDS,
        ),
    ],
)
def test_bad_datetime_names_the_argument_and_the_formats(
    document: str, variables: dict[str, object] | None, expected: str, accepted: str
) -> None:
    assert errors(document, variables) == [f"{expected} {accepted}"]


def test_the_formats_are_listed() -> None:
    assert ACCEPTED == (
        "Accepted (ISO 8601): a date and time with a UTC offset, 2024-09-15T04:17:16+03:00 or "
        "2024-09-15T01:17:16Z."
    )
    assert ACCEPTED_BOUNDS == (
        "Accepted (ISO 8601): a date, 2024-09-15 (that whole day in facets.timeZone); a date "
        "and time with a UTC offset, 2024-09-15T04:17:16+03:00 or 2024-09-15T01:17:16Z; or one "
        "without an offset, 2024-09-15T04:17:16 (read in facets.timeZone)."
    )


@pytest.mark.parametrize(
    "text",
    [
        "2024-09-15",
        "2024-09-15T04:17:16+03:00",
        "2024-09-15T01:17:16Z",
        "2024-09-15T04:17:16",
        "2024-09-15T04:17:16.250+0300",
        "2024-09",
        "20240915T0417",
    ],
)
def test_accepted_values_are_unchanged(text: str) -> None:
    """The same parser as strawberry's own DateTime: only the errors differ."""
    expected = dateutil.parser.isoparse(text)
    assert isinstance(expected, dt.datetime)
    scalar = SCHEMA._schema.type_map["DateTime"]
    assert isinstance(scalar, GraphQLScalarType)
    assert parse_value(text) == scalar.parse_value(text) == expected
    assert scalar.serialize(expected) == expected.isoformat()


def test_over_http_with_the_value_position(demo_index: Path) -> None:
    with live_server(create_app(Settings(index_dir=demo_index))) as base:
        document = '{\n  search(filter: {publishedFrom: "yesterday"}) { __typename }\n}'
        body = httpx.post(f"{base}/graphql", json={"query": document}, timeout=30).json()
    [error] = body["errors"]
    assert error["message"].startswith('search(filter.publishedFrom): "yesterday" is not a date')
    assert error["message"].endswith(ACCEPTED_BOUNDS)
    assert error["locations"] == [{"line": 2, "column": 34}]
