"""Our own GraphQL scalars: ``DateOrDateTime``, the publication-date filter bound."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import NewType, cast

import dateutil.parser  # type: ignore[import-untyped]  # strawberry's own DateTime parser
import strawberry
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.types.scalar import ScalarDefinition

DateOrDateTime = NewType("DateOrDateTime", date)
"""A filter bound as parsed: a ``date`` (a whole day) or a ``datetime`` (an instant)."""
_DAY = re.compile(r"\d{4}-?\d{2}-?\d{2}")
"""A calendar date alone (2005-03-31, or 20050331)."""
_INSTANT = re.compile(r"\d{4}-?\d{2}-?\d{2}[T ]\d{2}")
"""A calendar date with a time: the rest is read by strawberry's DateTime parser."""
DATE_OR_DATETIME_FORMATS = (
    "a date (2005-03-31: that whole day) or a date and time "
    "(2005-03-31T14:30:00+03:00; without an offset: in facets.timeZone)"
)


def parse_date_or_datetime(value: object) -> DateOrDateTime:
    """A filter bound: ``2005-03-31`` is a ``date`` (a whole day), a date with a time a
    ``datetime`` (read as strawberry's DateTime reads it); anything else (``2005``,
    ``2005-03``, ``yesterday``) is refused rather than read as a single instant (as a
    GraphQL error, which is the client's to see)."""
    problem = "is not a date"
    if isinstance(value, str):
        text = value.strip()
        try:
            if _DAY.fullmatch(text):
                return DateOrDateTime(date.fromisoformat(text))
            if _INSTANT.match(text):
                return DateOrDateTime(cast(datetime, dateutil.parser.isoparse(text)))
        except (ValueError, OverflowError) as exc:
            problem = f"is not a valid date ({exc})"
    raise StrawberryInputCoercionError(f"{value!r} {problem}: use {DATE_OR_DATETIME_FORMATS}")


SCALARS: dict[object, ScalarDefinition] = {
    DateOrDateTime: strawberry.scalar(
        name="DateOrDateTime",
        description=(
            "A publication-date filter bound: a date (2005-03-31) means that whole day in "
            "facets.timeZone, a date and time (ISO 8601, 2005-03-31T14:30:00+03:00) that "
            "instant (without an offset: in facets.timeZone)."
        ),
        serialize=date.isoformat,
        parse_value=parse_date_or_datetime,
    )
}
"""Our own scalars, for the schema's ``scalar_map``."""
