"""The date scalars, with errors that name the argument and the accepted formats.

``DateOrDateTime`` is a publication-date filter bound: a date (2005-03-31) means that whole
day in the request's time zone, a date and time that instant.  ``DateTime`` (an article's
``published``) replaces strawberry's own scalar.

strawberry's own scalar answered a bad value with the parser's words alone (``Value cannot
represent a DateTime: "yesterday". Expected 4 digits, got 'yest'``), not saying which argument
held it nor what to write instead.  This one accepts exactly what strawberry's does
(``dateutil.parser.isoparse``, ISO 8601) and serializes the same way (``isoformat``); only
its errors differ:

* in a variable, graphql-core puts the variable and the path inside it before the message
  (``Variable '$f' has invalid value at .publishedTo: "yesterday" is not ...``);
* in the document itself, :func:`name_arguments` (run by validation, schema/limits.py) puts the
  field and the argument path before it (``search(filter.publishedFrom): "yesterday" is not
  ...``), and the error points at the value's line and column.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import Any, NewType, TypeVar, cast

import dateutil.parser  # type: ignore[import-untyped]  # strawberry's own parser
import strawberry
from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    GraphQLError,
    ListValueNode,
    Node,
    ObjectFieldNode,
    StringValueNode,
    ValueNode,
    Visitor,
    print_ast,
    visit,
)
from strawberry.types.scalar import ScalarDefinition

ACCEPTED = (
    "Accepted (ISO 8601): a date and time with a UTC offset, 2024-09-15T04:17:16+03:00 or "
    "2024-09-15T01:17:16Z."
)
"""What an article's ``published`` takes (a time without an offset is refused by the model)."""
ACCEPTED_BOUNDS = (
    "Accepted (ISO 8601): a date, 2024-09-15 (that whole day in facets.timeZone); a date and "
    "time with a UTC offset, 2024-09-15T04:17:16+03:00 or 2024-09-15T01:17:16Z; or one "
    "without an offset, 2024-09-15T04:17:16 (read in facets.timeZone)."
)
"""What a publication-date filter bound takes."""
DateOrDateTime = NewType("DateOrDateTime", dt.date)
"""A filter bound as parsed: a ``date`` (a whole day) or a ``datetime`` (an instant)."""
_DAY = re.compile(r"\d{4}-?\d{2}-?\d{2}")
"""A calendar date alone (2005-03-31, or 20050331)."""
_INSTANT = re.compile(r"\d{4}-?\d{2}-?\d{2}[T ]\d{2}")
"""A calendar date with a time."""
T = TypeVar("T")


class DateTimeError(GraphQLError):
    """A value that is not an ISO 8601 date or date-time, with the formats that are."""


def _error(shown: str, detail: str, accepted: str, node: Node | None = None) -> DateTimeError:
    return DateTimeError(f"{shown} is not a date or date-time ({detail}). {accepted}", node)


def parse_value(value: object) -> dt.datetime:
    """A variable's value: an ISO 8601 string (strawberry's parser), else a DateTimeError."""
    if not isinstance(value, str):
        raise _error(repr(value), "not a string", ACCEPTED)
    try:
        return cast(dt.datetime, dateutil.parser.isoparse(value))
    except (ValueError, OverflowError) as exc:
        raise _error(f'"{value}"', str(exc), ACCEPTED) from None


def parse_bound(value: object) -> DateOrDateTime:
    """A filter bound: ``2005-03-31`` is a ``date`` (a whole day), a date with a time a
    ``datetime`` (read as ``DateTime`` reads it); anything else (``2005``, ``2005-03``,
    ``yesterday``) is refused rather than read as a single instant."""
    if not isinstance(value, str):
        raise _error(repr(value), "not a string", ACCEPTED_BOUNDS)
    text = value.strip()
    try:
        if _DAY.fullmatch(text):
            return DateOrDateTime(dt.date.fromisoformat(text))
        parsed = cast(dt.datetime, dateutil.parser.isoparse(text))
    except (ValueError, OverflowError) as exc:
        raise _error(f'"{value}"', str(exc), ACCEPTED_BOUNDS) from None
    if not _INSTANT.match(text):
        raise _error(f'"{value}"', "a year or a month is not a day", ACCEPTED_BOUNDS)
    return DateOrDateTime(parsed)


def _literal(parse: Callable[[object], T]) -> Callable[[ValueNode, dict[str, Any] | None], T]:
    """``parse`` for a value written in the document: its errors carry the node (a line and
    column), and what is not a string is shown as written."""

    def parse_literal(node: ValueNode, variables: dict[str, Any] | None = None) -> T:
        try:
            return parse(node.value if isinstance(node, StringValueNode) else node)
        except DateTimeError as exc:
            message = exc.message
            if not isinstance(node, StringValueNode):
                message = message.replace(repr(node), print_ast(node), 1)
            raise DateTimeError(message, node) from None

    return parse_literal


parse_literal = _literal(parse_value)


DATETIME = ScalarDefinition(
    name="DateTime",
    description="Date with time (isoformat)",
    specified_by_url=None,
    serialize=dt.datetime.isoformat,
    parse_value=parse_value,
    parse_literal=parse_literal,
    origin=dt.datetime,
)
"""The definition to give ``strawberry.Schema(scalar_overrides={datetime: DATETIME})``."""
SCALAR_MAP: dict[object, ScalarDefinition] = {
    DateOrDateTime: strawberry.scalar(
        name="DateOrDateTime",
        description=(
            "A publication-date filter bound: a date (2005-03-31) means that whole day in "
            "facets.timeZone, a date and time (ISO 8601, 2005-03-31T14:30:00+03:00) that "
            "instant (without an offset: in facets.timeZone)."
        ),
        serialize=dt.date.isoformat,
        parse_value=parse_bound,
        parse_literal=_literal(parse_bound),
    )
}
"""Our own scalars, for the schema's ``StrawberryConfig(scalar_map=...)``."""


class _Finder(Visitor):
    """Finds where in the document a value node is: its field and its argument path."""

    def __init__(self, target: Node) -> None:
        super().__init__()
        self.target = target
        self.found: str | None = None

    def enter(self, node: Node, key: Any, parent: Any, path: Any, ancestors: Any) -> Any:
        if node is not self.target:
            return None
        # graphql-core's ``ancestors`` stop before ``parent``; lists appear among them too.
        chain = [a for a in (*ancestors, parent) if isinstance(a, Node)] + [node]
        field, steps = "", ""
        for i, step in enumerate(chain):
            if isinstance(step, FieldNode):
                field, steps = step.name.value, ""
            elif isinstance(step, ArgumentNode):
                steps = step.name.value
            elif isinstance(step, ObjectFieldNode):
                steps += f".{step.name.value}"
            elif isinstance(step, ListValueNode) and i + 1 < len(chain):
                index = next(n for n, v in enumerate(step.values) if v is chain[i + 1])
                steps += f"[{index}]"
        self.found = f"{field}({steps})"
        return self.BREAK


def name_arguments(errors: Sequence[GraphQLError], document: DocumentNode) -> list[GraphQLError]:
    """``errors`` with each DateTimeError of a literal prefixed by its field and argument."""
    named: list[GraphQLError] = []
    for error in errors:
        if isinstance(error, DateTimeError) and error.nodes:
            finder = _Finder(error.nodes[0])
            visit(document, finder)
            if finder.found is not None:
                error = DateTimeError(f"{finder.found}: {error.message}", error.nodes)
        named.append(error)
    return named
