"""Limits on a document's expansion: depth, aliases and fields, fragments expanded.

* Fragments that spread the previous one twice per level (a "fragment bomb") are measured in
  time linear in the document and refused before execution with an error naming the count and
  the limit; cycles, unknown fragments and long fragment chains neither loop nor recurse.
* GraphiQL's introspection query and the README's example pass the limits comfortably.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from graphql import get_introspection_query, parse

from schema.api import make_schema
from schema.examples import EXAMPLE_QUERY
from schema.limits import Cost, fragment_costs, operation_costs
from schema.settings import Settings

SETTINGS = Settings(index_dir=Path("unused"))


def bomb(levels: int) -> str:
    """``F0`` selects one field under ``indexInfo``; each ``Fi`` spreads ``F(i-1)`` twice."""
    parts = ["fragment F0 on Query { indexInfo { documents } }"]
    parts += [f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, levels)]
    parts.append(f"query {{ ...F{levels - 1} }}")
    return "\n".join(parts)


def expanded_fields(levels: int) -> int:
    """What :func:`bomb` expands to: 2^(levels-1) copies of ``indexInfo { documents }``."""
    return 2 * 2 ** (levels - 1)


def messages(document: str, settings: Settings = SETTINGS) -> list[str]:
    """The errors of ``document`` (validation only: no resolver runs for a refused one)."""
    result = make_schema(settings).execute_sync(document)
    return [e.message for e in result.errors or []]


@pytest.mark.parametrize("levels", [24, 30])
def test_fragment_bomb_is_refused_quickly_with_its_count(levels: int) -> None:
    document = bomb(levels)
    assert len(document) < 1300
    started = time.monotonic()
    found = messages(document)
    assert time.monotonic() - started < 1.0
    count = expanded_fields(levels)
    assert found == [
        f"the anonymous operation selects {count:,} fields with its fragments expanded; "
        "the limit is 2,000: split it into smaller requests"
    ]


def test_counts_follow_fragments_and_inline_fragments() -> None:
    document = parse(
        """
        fragment Hit on ArticleEdge { score node { id title } }
        fragment Page on ArticleConnection { totalCount edges { ...Hit } more: edges { ...Hit } }
        query Q { a: search { ... on ArticleConnection { ...Page } } b: search { ...Both } }
        fragment Both on ArticleConnection { ...Page ...Page }
        """
    )
    assert fragment_costs(document) == {
        "Hit": Cost(fields=4, depth=1, aliases=0),  # score node id title
        "Page": Cost(fields=1 + 5 + 5, depth=2, aliases=1),
        "Both": Cost(fields=22, depth=2, aliases=2),
    }
    [(operation, cost)] = operation_costs(document)
    assert cost == Cost(fields=1 + 11 + 1 + 22, depth=3, aliases=2 + 1 + 2)
    assert operation.name is not None and operation.name.value == "Q"


def test_aliases_are_counted_at_every_spread() -> None:
    document = "fragment A on Query { a: indexInfo { documents } b: indexInfo { documents } }\n"
    document += "fragment B on Query { ...A ...A ...A ...A }\n{ ...B ...B }"
    assert messages(document) == [
        "the anonymous operation has 16 aliases with its fragments expanded; the limit is 15"
    ]


def test_depth_counts_through_fragments() -> None:
    document = (
        "fragment N on Article { id } fragment E on ArticleEdge { node { ...N } } "
        "query Deep { search { ... on ArticleConnection { edges { ...E } } } }"
    )
    assert messages(document, Settings(index_dir=Path("unused"), max_depth=2)) == [
        "'Deep' exceeds maximum operation depth of 2: it is 3 levels deep"
    ]


def test_cycles_unknown_fragments_and_long_chains_end() -> None:
    cycle = "fragment A on Query { ...B } fragment B on Query { ...A } { ...A }"
    assert messages(cycle) == ["Cannot spread fragment 'A' within itself via 'B'."]
    assert fragment_costs(parse(cycle)) == {"A": Cost(), "B": Cost()}
    assert messages("{ ...Nowhere }") == ["Unknown fragment 'Nowhere'."]
    # A chain longer than Python's recursion limit allows to follow by recursion.
    chain = [f"fragment C{i} on Query {{ ...C{i + 1} }}" for i in range(1500)]
    chain.append("fragment C1500 on Query { indexInfo { documents } }")
    costs = fragment_costs(parse("\n".join(chain) + "\n{ ...C0 }"))
    assert costs["C0"] == Cost(fields=2, depth=1)


def test_introspection_and_the_example_pass_comfortably() -> None:
    introspection = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )
    [(_, graphiql)] = operation_costs(parse(introspection))
    [(_, example)] = operation_costs(parse(EXAMPLE_QUERY))
    assert graphiql.fields * 4 < SETTINGS.max_fields, graphiql
    assert example.fields * 20 < SETTINGS.max_fields, example
    assert example.depth * 2 < SETTINGS.max_depth
    result = make_schema(SETTINGS).execute_sync(introspection)
    assert result.errors is None
