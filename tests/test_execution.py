"""schema/execution.py: the short path for plain objects answers exactly as graphql-core does."""

from __future__ import annotations

import asyncio
import enum
import json
from pathlib import Path
from typing import Any

import anyio
import pytest
import strawberry
from hypothesis import HealthCheck, given, settings
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from bench.http_bench import FULL_QUERY
from newsearch.schema.api import make_schema
from newsearch.schema.app import create_app
from newsearch.schema.context import Context
from newsearch.schema.examples import EXAMPLE_QUERY, EXAMPLE_VARIABLES
from newsearch.schema.execution import PlainObjectsExecutionContext
from newsearch.schema.settings import Settings
from tests.conftest import REPO

_hg = pytest.importorskip("hypothesis_graphql", reason="pip install -e '.[test]'")
SDL = (REPO / "schema" / "schema.graphql").read_text(encoding="utf-8")


def _pair(index_dir: Path) -> tuple[strawberry.Schema, strawberry.Schema, Any]:
    """Our schema with the short path, the same with graphql-core's plain context."""
    configured = Settings(index_dir=index_dir)
    services = create_app(configured).state.services
    fast = make_schema(configured)
    slow = make_schema(configured)
    slow.execution_context_class = StrawberryGraphQLCoreExecutionContext
    assert fast.execution_context_class is PlainObjectsExecutionContext
    return fast, slow, services


def _run(schema: strawberry.Schema, services: Any, document: str, variables: Any) -> Any:
    async def go() -> Any:
        context = Context(
            services=services,
            request_id="test",
            authorization=None,
            deadline=anyio.current_time() + 30,
        )
        return await schema.execute(document, variable_values=variables, context_value=context)

    result = asyncio.run(go())
    data = result.data
    for field in ("search", "browse"):
        if isinstance(data, dict) and isinstance(data.get(field), dict):
            data[field].pop("tookMs", None)  # a duration: differs between any two runs
    errors = [(e.message, e.path) for e in result.errors or []]
    return data, errors


def test_example_and_journalist_queries_answer_alike(demo_index: Path) -> None:
    fast, slow, services = _pair(demo_index)
    example = json.loads(EXAMPLE_VARIABLES)
    cases = [
        (EXAMPLE_QUERY, example),
        *(
            (FULL_QUERY, {"q": q, "filter": None})
            for q in ("армії", "energy OR уряд", '"climate change"', "-energy", "zzzzqx")
        ),
    ]
    for document, variables in cases:
        expected = _run(slow, services, document, variables)
        assert expected[0] and not expected[1]
        assert _run(fast, services, document, variables) == expected


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(document=_hg.queries(SDL, mode=_hg.Mode.POSITIVE))
def test_generated_queries_answer_alike(demo_index: Path, document: str) -> None:
    fast, slow, services = _pair(demo_index)
    assert _run(fast, services, document, None) == _run(slow, services, document, None)


# A toy schema for what the demo index never produces: nulls in non-null fields, values a
# scalar cannot serialize, aliases, __typename, nullable items and enums in lists.


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Item:
    name: str
    size: int
    colour: Colour
    note: str | None = None
    labels: list[str] = strawberry.field(default_factory=lambda: ["x", "y"])
    maybe: list[str | None] | None = None


def _items() -> list[Item | None]:
    return [
        Item(name="a", size=1, colour=Colour.RED),
        None,
        Item(name="b", size=2, colour=Colour.BLUE, note="n", labels=[], maybe=["m", None]),
    ]


@strawberry.type
class Toy:
    @strawberry.field
    def items(self) -> list[Item | None]:
        return _items()

    @strawberry.field
    def strict(self) -> list[Item]:
        return [Item(name="a", size=1, colour=Colour.RED), None]  # type: ignore[list-item]

    @strawberry.field
    def broken_name(self) -> list[Item]:
        return [Item(name=None, size=1, colour=Colour.RED)]  # type: ignore[arg-type]

    @strawberry.field
    def huge(self) -> Item:
        return Item(name="h", size=2**40, colour=Colour.RED)

    @strawberry.field
    def broken_labels(self) -> list[Item]:
        return [Item(name="l", size=1, colour=Colour.RED, labels=["ok", None])]  # type: ignore[list-item]

    @strawberry.field
    def wrong_enum(self) -> list[Item]:
        return [Item(name="w", size=1, colour="green")]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "document",
    [
        "{ items { name size colour note labels maybe } }",
        "{ brokenLabels { name labels } }",
        "{ items { __typename n: name s: size name } }",
        "{ strict { name } }",
        "{ brokenName { name size } }",
        "{ huge { name size } }",
        "{ wrongEnum { name colour } }",
        "{ items { name ... on Item { size } } }",
        "query($skip: Boolean!) { items { name size @skip(if: $skip) } }",
    ],
)
def test_toy_schema_answers_and_errors_alike(document: str) -> None:
    fast = strawberry.Schema(query=Toy, execution_context_class=PlainObjectsExecutionContext)
    slow = strawberry.Schema(query=Toy)
    variables = {"skip": True}
    a = fast.execute_sync(document, variable_values=variables)
    b = slow.execute_sync(document, variable_values=variables)
    assert a.data == b.data
    assert [(e.message, e.path) for e in a.errors or []] == [
        (e.message, e.path) for e in b.errors or []
    ]


def test_short_path_is_taken_for_plain_lists() -> None:
    """The equality above must not hold only because the short path never runs."""
    taken: list[str] = []

    class Counting(PlainObjectsExecutionContext):
        def _complete(self, plan: Any, parent_type: Any, source: Any) -> Any:
            taken.append(parent_type.name)
            return super()._complete(plan, parent_type, source)

    schema = strawberry.Schema(query=Toy, execution_context_class=Counting)
    result = schema.execute_sync("{ items { name size colour labels maybe } }")
    assert result.errors is None
    assert taken == ["Item", "Item"]  # both items in one loop; the null needs no fields


def test_a_failing_plan_falls_back_to_graphql_core(caplog: pytest.LogCaptureFixture) -> None:
    """Other graphql-core internals (a field detail without an attribute we read) must cost
    speed, never answers."""

    class Broken(PlainObjectsExecutionContext):
        def _make_plan(self, parent_type: Any, grouped_field_set: Any) -> Any:
            raise AttributeError("no such attribute in this graphql-core")

    document = "{ items { name size colour labels } }"
    broken = strawberry.Schema(query=Toy, execution_context_class=Broken)
    plain = strawberry.Schema(query=Toy)
    with caplog.at_level("WARNING", logger="newsearch.server"):
        a = broken.execute_sync(document)
    b = plain.execute_sync(document)
    assert a.errors is None and a.data == b.data
    assert "plain-object completion unavailable" in caplog.text
