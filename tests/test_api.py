"""The GraphQL schema executed directly (strawberry), with exact expected data."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import anyio
import pytest
from graphql import GraphQLInputObjectType, GraphQLObjectType

from newsearch.schema import export
from newsearch.schema.api import make_schema
from newsearch.schema.context import Context, Services
from newsearch.schema.settings import Settings
from newsearch.schema.writes import Writes
from newsearch.search.engine import Engine

TOKEN = "test-write-token"

SEARCH = """
query($q: String!, $filter: SearchFilter, $after: String, $first: Int = 2) {
  search(query: $q, filter: $filter, first: $first, after: $after,
         facets: {fields: [LANGUAGE, CATEGORY], dateHistogram: YEAR, timeZone: "UTC"},
         highlight: {fragments: 1, fragmentSize: 60}) {
    __typename
    ... on ArticleConnection {
      totalCount
      edges { node { id published publishedUtc language tags } highlights { title } }
      facets { field truncated distinct values { value count selected } }
      dateHistogram { key count }
      pageInfo { hasNextPage hasPreviousPage }
    }
    ... on QueryError { kind message position hint }
  }
}
"""


class Client:
    """Executes documents against one schema with a real engine and index."""

    def __init__(self, index_dir: Path, **settings: Any) -> None:
        self.settings = Settings(index_dir=index_dir, write_token=TOKEN, **settings)
        self.schema = make_schema(self.settings)
        self.services = Services(
            settings=self.settings,
            engine=Engine(index_dir),
            writes=Writes(index_dir, ()),
            limiter=anyio.CapacityLimiter(4),
        )

    def execute(
        self, document: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> Any:
        async def run() -> Any:
            ctx = Context(
                services=self.services,
                request_id="test",
                authorization=f"Bearer {token}" if token else None,
                deadline=anyio.current_time() + 30,
            )
            return await self.schema.execute(document, variable_values=variables, context_value=ctx)

        return asyncio.run(run())


@pytest.fixture(scope="module")
def client(demo_index: Path) -> Client:
    return Client(demo_index)


def test_search_exact_data(client: Client) -> None:
    result = client.execute(SEARCH, {"q": "армії"})
    assert result.errors is None
    assert result.data == {
        "search": {
            "__typename": "ArticleConnection",
            "totalCount": 2,
            "edges": [
                {
                    "node": {
                        "id": "uk-002-armiia-bronemashyny.txt",
                        "published": "2015-02-10T08:45:00+02:00",
                        "publishedUtc": "2015-02-10T06:45:00+00:00",
                        "language": "uk",
                        "tags": ["армія", "war with Russia", "бронетехніка", "ремонтні заводи"],
                    },
                    "highlights": {
                        "title": "<mark>Армія</mark> отримала партію відремонтованих бронемашин"
                    },
                },
                {
                    "node": {
                        "id": "uk-009-volontery-armii.txt",
                        "published": "2022-03-08T07:30:00+02:00",
                        "publishedUtc": "2022-03-08T05:30:00+00:00",
                        "language": "uk",
                        "tags": ["волонтери", "mobilization", "war with Russia", "допомога"],
                    },
                    "highlights": {
                        "title": "Волонтери за добу зібрали п&#x27;ять тонн продуктів для "
                        "<mark>армії</mark>"
                    },
                },
            ],
            "facets": [
                {
                    "field": "LANGUAGE",
                    "truncated": False,
                    "distinct": 1,
                    "values": [{"value": "uk", "count": 2, "selected": False}],
                },
                {
                    "field": "CATEGORY",
                    "truncated": False,
                    "distinct": 1,
                    "values": [{"value": "War", "count": 2, "selected": False}],
                },
            ],
            "dateHistogram": [
                {"key": "2015", "count": 1},
                {"key": "2016", "count": 0},
                {"key": "2017", "count": 0},
                {"key": "2018", "count": 0},
                {"key": "2019", "count": 0},
                {"key": "2020", "count": 0},
                {"key": "2021", "count": 0},
                {"key": "2022", "count": 1},
            ],
            "pageInfo": {"hasNextPage": False, "hasPreviousPage": False},
        }
    }


def test_syntax_error_is_typed(client: Client) -> None:
    result = client.execute(SEARCH, {"q": 'war "with'})
    assert result.errors is None
    assert result.data == {
        "search": {
            "__typename": "QueryError",
            "kind": "SYNTAX",
            "message": "unclosed quote",
            "position": 4,
            "hint": 'add a closing " or remove this one',
        }
    }


def test_first_over_cap_is_typed_error(client: Client) -> None:
    result = client.execute(SEARCH, {"q": "war", "first": 101})
    assert result.data["search"]["__typename"] == "QueryError"
    assert result.data["search"]["kind"] == "ARGUMENT"


def test_paging_with_cursors_reaches_the_end(client: Client) -> None:
    query = (
        "{ browse(first: 10, after: AFTER) { ... on ArticleConnection { totalCount"
        " edges { cursor node { id } } pageInfo { hasNextPage endCursor } } } }"
    )
    seen: list[str] = []
    after = "null"
    while True:
        data = client.execute(query.replace("AFTER", after)).data["browse"]
        seen += [e["node"]["id"] for e in data["edges"]]
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = f'"{data["pageInfo"]["endCursor"]}"'
    assert len(seen) == len(set(seen)) == 36 == data["totalCount"]


def test_article_lookups(client: Client) -> None:
    result = client.execute(
        """{ a: article(id: "en-003-bold-claims-xss.txt") {
                 __typename ... on Article { title category } }
             b: article(id: "missing") { __typename ... on NotFound { id message } }
             articles(ids: ["missing", "ru-006-stroyki-migranty.txt"]) { id language } }"""
    )
    assert result.errors is None
    assert result.data == {
        "a": {
            "__typename": "Article",
            "title": "Researchers debunk <b>Bold</b> claims about “unhackable” comment widgets",
            "category": "Technology",
        },
        "b": {"__typename": "NotFound", "id": "missing", "message": "no article with id 'missing'"},
        "articles": [None, {"id": "ru-006-stroyki-migranty.txt", "language": "ru"}],
    }


def test_related_and_suggest(client: Client) -> None:
    result = client.execute(
        """{ related(id: "en-007-migrants-army-contracts.txt", first: 3) {
               __typename ... on RelatedArticles { articles { node { id } } } }
             missing: related(id: "nope") { __typename }
             suggest(prefix: "war w") { tags { tag count } } }"""
    )
    assert result.errors is None
    related = [e["node"]["id"] for e in result.data["related"]["articles"]]
    assert len(related) == 3 and "en-007-migrants-army-contracts.txt" not in related
    assert result.data["missing"] == {"__typename": "NotFound"}
    assert result.data["suggest"]["tags"] == [{"tag": "war with Russia", "count": 5}]


def test_index_info(client: Client) -> None:
    result = client.execute(
        "{ indexInfo { documents languages { language count } dateFrom dateTo } }"
    )
    assert result.data == {
        "indexInfo": {
            "documents": 36,
            "languages": [
                {"language": "en", "count": 12},
                {"language": "ru", "count": 12},
                {"language": "uk", "count": 12},
            ],
            "dateFrom": "2014-05-25T18:10:00+00:00",
            "dateTo": "2026-02-20T10:00:00+00:00",
        }
    }


UPSERT = """
mutation($articles: [ArticleInput!]!) {
  upsertArticles(articles: $articles) {
    __typename
    ... on WriteSuccess { added updated deleted documents }
    ... on QueryError { kind message }
  }
}
"""
NEW = {
    "id": "api-1",
    "title": "Grid operators test new storage batteries",
    "body": "Grid operators began testing storage batteries near Lviv.",
    "published": "2025-06-01T09:00:00+03:00",
    "tags": ["energy", "batteries"],
}


def test_writes_need_the_token(tmp_path: Path) -> None:
    from newsearch.indexer.build import build
    from tests.conftest import DEMO

    build([DEMO], tmp_path / "ix", workers=1)
    client = Client(tmp_path / "ix")
    for token in (None, "wrong", TOKEN[:-1]):
        result = client.execute(UPSERT, {"articles": [NEW]}, token=token)
        assert result.data["upsertArticles"]["kind"] == "UNAUTHORIZED"
    assert (
        client.execute('{ article(id: "api-1") { __typename } }').data["article"]["__typename"]
        == "NotFound"
    )
    result = client.execute(UPSERT, {"articles": [NEW]}, token=TOKEN)
    assert result.data["upsertArticles"] == {
        "__typename": "WriteSuccess",
        "added": 1,
        "updated": 0,
        "deleted": 0,
        "documents": 37,
    }
    found = client.execute(
        '{ search(query: "batteries") { ... on ArticleConnection {'
        " edges { node { id published language } } } } }"
    )
    assert found.data["search"]["edges"] == [
        {"node": {"id": "api-1", "published": "2025-06-01T09:00:00+03:00", "language": "en"}}
    ]
    naive = dict(NEW, published="2025-06-01T09:00:00")
    assert (
        client.execute(UPSERT, {"articles": [naive]}, token=TOKEN).data["upsertArticles"]["kind"]
        == "INPUT"
    )
    deleted = client.execute(
        'mutation { deleteArticles(ids: ["api-1"]) { ... on WriteSuccess { deleted documents } } }',
        token=TOKEN,
    )
    assert deleted.data["deleteArticles"] == {"deleted": 1, "documents": 36}


def test_a_write_the_index_cannot_take_is_a_typed_error(tmp_path: Path) -> None:
    """An index analyzed by an earlier version must be rebuilt before it takes writes, and one
    another writer holds is busy: both are typed INDEX errors, and the generation stays."""
    import json

    from newsearch.indexer.build import build
    from newsearch.indexer.lock import WriterLock
    from newsearch.search.storage.layout import POSTINGS_DIR, Layout
    from tests.conftest import DEMO

    build([DEMO], tmp_path / "ix", workers=1)
    layout = Layout(tmp_path / "ix")
    served = layout.require_current()
    client = Client(tmp_path / "ix")
    with WriterLock(layout.root):
        result = client.execute(UPSERT, {"articles": [NEW]}, token=TOKEN)
    assert result.errors is None
    assert result.data["upsertArticles"]["kind"] == "INDEX"
    meta_file = layout.generation_dir(served) / POSTINGS_DIR / "meta.json"
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    del meta["analysis"]  # as postings written before analysis versions were recorded
    meta_file.write_text(json.dumps(meta), encoding="utf-8")
    result = client.execute(UPSERT, {"articles": [NEW]}, token=TOKEN)
    assert result.errors is None
    assert result.data["upsertArticles"]["kind"] == "INDEX"
    assert "rebuild it with `newsearch index build" in result.data["upsertArticles"]["message"]
    assert layout.require_current() == served


def test_guards_reject_abuse(client: Client) -> None:
    deep = "{ search { ... on ArticleConnection { edges { node { id } } } } }"
    for _ in range(12):
        deep = deep.replace(
            "node { id }", "node { id } highlights { fragments { matches { start } } }", 1
        )
    aliases = "{ " + " ".join(f"a{i}: indexInfo {{ documents }}" for i in range(20)) + " }"
    result = client.execute(aliases)
    assert result.errors and "aliases" in result.errors[0].message
    tokens = "{ " + " ".join("indexInfo { documents }" for _ in range(2000)) + " }"
    result = client.execute(tokens)
    assert result.errors and "token" in result.errors[0].message.lower()
    too_deep = (
        '{ related(id: "x") { ... on RelatedArticles { articles { node { id }'
        " highlights { fragments { matches { start } } } } } } }"
    )
    shallow = Client(client.settings.index_dir, max_depth=4)
    result = shallow.execute(too_deep)
    assert result.errors and "exceeds maximum operation depth" in result.errors[0].message


def test_introspection_switch(demo_index: Path) -> None:
    off = Client(demo_index, introspection=False)
    assert off.execute("{ __schema { types { name } } }").errors
    assert Client(demo_index).execute("{ __schema { queryType { name } } }").errors is None


def test_every_type_and_field_is_described() -> None:
    graphql_schema = make_schema(Settings(index_dir=Path("."))).as_str()
    assert graphql_schema
    schema = make_schema(Settings(index_dir=Path(".")))
    missing = [
        f"{name}.{field}" if field else name
        for name, t in schema._schema.type_map.items()
        if not name.startswith("__") and isinstance(t, GraphQLObjectType | GraphQLInputObjectType)
        for field, f in [("", t), *t.fields.items()]
        if not f.description
    ]
    assert missing == []


def test_committed_schema_matches() -> None:
    assert export.main(["--check"]) == 0, (
        "schema/schema.graphql drifted: run python -m newsearch.schema.export"
    )
