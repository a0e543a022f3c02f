"""The ``DateTime`` scalar with errors that name the argument and the accepted formats.

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
from collections.abc import Sequence
from typing import Any, cast

import dateutil.parser  # type: ignore[import-untyped]  # strawberry's own parser
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
    "Accepted (ISO 8601): a date, 2024-09-15; a date and time with a UTC offset, "
    "2024-09-15T04:17:16+03:00 or 2024-09-15T01:17:16Z; or one without an offset, "
    "2024-09-15T04:17:16 (filters read it in facets.timeZone)."
)


class DateTimeError(GraphQLError):
    """A value that is not an ISO 8601 date or date-time, with the formats that are."""


def _error(shown: str, detail: str, node: Node | None = None) -> DateTimeError:
    return DateTimeError(f"{shown} is not a date or date-time ({detail}). {ACCEPTED}", node)


def parse_value(value: object) -> dt.datetime:
    """A variable's value: an ISO 8601 string (strawberry's parser), else a DateTimeError."""
    if not isinstance(value, str):
        raise _error(repr(value), "not a string")
    try:
        return cast(dt.datetime, dateutil.parser.isoparse(value))
    except (ValueError, OverflowError) as exc:
        raise _error(f'"{value}"', str(exc)) from None


def parse_literal(node: ValueNode, variables: dict[str, Any] | None = None) -> dt.datetime:
    """A value written in the document; its errors carry the node (a line and column)."""
    if not isinstance(node, StringValueNode):
        raise _error(print_ast(node), "not a string", node)
    try:
        return parse_value(node.value)
    except DateTimeError as exc:
        raise DateTimeError(exc.message, node) from None


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
