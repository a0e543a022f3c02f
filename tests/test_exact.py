"""The exact switch: ``=word`` in the query language and ``match: FORMS | EXACT | ANY_SCRIPT``.

Parsing of every form and every stray ``=`` (typed errors with their position), then a real
index built in tmp_path with Львів/Львова/Львові, Київ/Києві, Путін/Путин/Putin: what each
form and mode finds, on both scoring paths alike, through the engine, GraphQL and HTTP;
highlights of exact words; did-you-mean keeping the ``=``; an index built without the
exact field answering ``=`` with a typed error that says to rebuild.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from bench.corpora import write_jsonl
from newsearch.indexer.build import OutdatedAnalysis, build, update
from newsearch.indexer.prepare import analyzed_document, prepare, run_numbers
from newsearch.schema.app import create_app
from newsearch.schema.settings import Settings
from newsearch.search.compile import compile_query
from newsearch.search.engine import Engine
from newsearch.search.exact import EXACT_FIELD, exact_form, marked
from newsearch.search.highlight import MatchTerms, match_spans
from newsearch.search.model import Article
from newsearch.search.querylang import And, Not, Or, Phrase, QuerySyntaxError, Word, parse_query
from newsearch.search.storage.layout import POSTINGS_DIR, Layout
from newsearch.search.storage.postings import FIELD_INDEX
from newsearch.search.types import MatchMode, SearchError, SearchRequest
from tests.server import live_server
from tests.test_api import Client

# -- the query language -------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "node"),
    [
        ("=Львова", Word("Львова", None, 1, True)),
        ("title:=Львова", Word("Львова", "title", 7, True)),
        ("body:=Львова", Word("Львова", "body", 6, True)),
        ("tag:=Львова", Word("Львова", "tag", 5, True)),
        ("-=Львова", Not(Word("Львова", None, 2, True), 0)),
        ("NOT =Львова", Not(Word("Львова", None, 5, True), 0)),
        ("=Львова OR Київ", Or((Word("Львова", None, 1, True), Word("Київ", None, 11)))),
        (
            "a AND (=b OR c)",
            And((Word("a", None, 0), Or((Word("b", None, 8, True), Word("c", None, 13))))),
        ),
        ('"=Львова університет"', Phrase("=Львова університет", None, 0, (True, False))),
        ('"університет =Львова"', Phrase("університет =Львова", None, 0, (False, True))),
        ('="Львова університет"', Phrase("Львова університет", None, 1, (True, True))),
        ('title:"=Львова університет"', Phrase("=Львова університет", "title", 6, (True, False))),
        ('title:="Львова університет"', Phrase("Львова університет", "title", 7, (True, True))),
        ('-"=Львова університет"', Not(Phrase("=Львова університет", None, 1, (True, False)), 0)),
        # A piece starting with = makes all its words exact (a hyphenated name is two words).
        ("=Івано-Франківськ", Word("Івано-Франківськ", None, 1, True)),
        (
            '"=Івано-Франківськ місто"',
            Phrase("=Івано-Франківськ місто", None, 0, (True, True, False)),
        ),
        ("=OR", Word("OR", None, 1, True)),  # a word, not the operator
        ("=п’ять", Word("п’ять", None, 1, True)),
        # = inside a word is punctuation, as it always was.
        ("E=mc2", Word("E=mc2", None, 0)),
        ("a=", Word("a=", None, 0)),
        ('"E=mc2 формула"', Phrase("E=mc2 формула", None, 0)),
    ],
)
def test_exact_forms_parse(query: str, node: object) -> None:
    assert parse_query(query) == node


@pytest.mark.parametrize(
    ("query", "position", "message"),
    [
        ("=", 0, "= needs a word right after it"),
        ("Львова =", 7, "= needs a word right after it"),
        ("= Львова", 0, "= needs a word right after it"),
        ("(=)", 1, "= needs a word right after it"),
        ("-=", 1, "= needs a word right after it"),
        ("==Львова", 0, "== is not an operator"),
        ("title:==Львова", 6, "== is not an operator"),
        ("=(a b)", 0, "= applies to a word or a quoted phrase, not to parentheses"),
        ("=*", 0, "= followed by '*', not a word"),
        ("=-Львова", 0, "= followed by '-', not a word"),
        ("=Льв*", 0, "= does not apply to a prefix"),
        ("=Львова~", 0, "= does not apply to a fuzzy word"),
        ("=Львова~2", 0, "= does not apply to a fuzzy word"),
        ("x =title:Львова", 2, "= before a field name"),
        ("title:=", 6, "= needs a word right after it"),
        ("category:=war", 9, "= does not apply to category:"),
        ("source:=bbc", 7, "= does not apply to source:"),
        ("language:=uk", 9, "= does not apply to language:"),
        ('="Львова', 1, "unclosed quote"),
        ('"a = b"', 3, "= needs a word right after it"),
        ('"Львова =="', 8, "== is not an operator"),
        ('"=* x"', 1, "= followed by '*', not a word"),
        ('title:"x =!"', 9, "= followed by '!', not a word"),
    ],
)
def test_stray_equals_is_a_typed_error_with_its_position(
    query: str, position: int, message: str
) -> None:
    with pytest.raises(QuerySyntaxError) as raised:
        parse_query(query)
    assert (raised.value.position, raised.value.message) == (position, message)
    assert raised.value.hint


def test_the_same_form_is_compared_without_case_apostrophes_stress_and_yo() -> None:
    assert exact_form("ЛЬВОВА") == "львова"
    assert exact_form("м’ясо") == exact_form("мʼясо") == exact_form("м'ясо") == "м'ясо"
    assert exact_form("моло\u0301ко") == "молоко"
    assert exact_form("Ещё") == exact_form("Еще") == "еще"
    assert exact_form("Львові") != exact_form("Львова")


# -- a real index ---------------------------------------------------------------

_WHEN = datetime.fromisoformat("2024-05-01T10:00:00+03:00")
_ROWS = [
    ("l1", "uk", "Новини Львова", "Мер Львова заявив, що у Львові ремонтують дороги.", ()),
    ("l2", "uk", "Свято у Львові", "Учора у Львові відкрили музей. Львів радіє.", ()),
    ("l3", "uk", "Нагорода", "Місту Львову вручили нагороду.", ()),
    ("t1", "uk", "Прем'єра", "Театр показав нову виставу.", ("Оперний театр Львова",)),
    ("k1", "uk", "Зустріч у Києві", "Учора у Києві відбулася зустріч.", ()),
    ("k2", "uk", "Столиця", "Київ готується до зими.", ()),
    ("p1", "uk", "Заява", "Учора Путін заявив про переговори.", ()),
    ("p2", "ru", "Заявление", "Вчера Путин заявил о переговорах.", ()),
    ("p3", "en", "Statement", "Yesterday President Putin said talks go on.", ()),
    ("u1", "uk", "Ректор", "Ректор Львівського університету виступив.", ()),
    ("u2", "uk", "Курси", "Львівський університет відкрив курси.", ()),
]


def _build(root: Path) -> Path:
    articles = [
        Article(id=i, title=t, body=b, published=_WHEN, language=lang, tags=tags)
        for i, lang, t, b, tags in _ROWS
    ]
    build([write_jsonl(articles, root / "articles.jsonl")], root / "index", workers=1)
    return root / "index"


@pytest.fixture(scope="module")
def exact_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build(tmp_path_factory.mktemp("exact"))


def _ids(engine: Engine, query: str, mode: MatchMode = MatchMode.ANY_SCRIPT) -> set[str]:
    page = engine.search(SearchRequest(query=query, match=mode, highlight=False, first=50))
    return {h.article.id for h in page.hits}


_ANY, _FORMS, _EXACT = MatchMode.ANY_SCRIPT, MatchMode.FORMS, MatchMode.EXACT
_FOUND = [
    ("Львова", _ANY, {"l1", "l2", "l3", "t1"}),
    ("=Львова", _ANY, {"l1", "t1"}),
    ("Львова", _EXACT, {"l1", "t1"}),
    ("=Львова", _FORMS, {"l1", "t1"}),
    ("Львові", _EXACT, {"l1", "l2"}),
    ("=Львову", _ANY, {"l3"}),
    ("title:=Львова", _ANY, {"l1"}),
    ("title:Львова", _EXACT, {"l1"}),
    ("body:=Львова", _ANY, {"l1"}),
    ("tag:=Львова", _ANY, {"t1"}),
    ("=Львова -=Львові", _ANY, {"t1"}),
    ("=Львова OR =Львову", _ANY, {"l1", "l3", "t1"}),
    ("(=Львова OR =Львову) театр", _ANY, {"t1"}),
    ("=ЛЬВОВА", _ANY, {"l1", "t1"}),  # case is ignored
    ("Києві", _ANY, {"k1", "k2"}),
    ("Києві", _FORMS, {"k1", "k2"}),
    ("Києві", _EXACT, {"k1"}),
    ("=Київ", _ANY, {"k2"}),
    ("Путін", _ANY, {"p1", "p2", "p3"}),
    ("Путін", _FORMS, {"p1"}),
    ("Putin", _FORMS, {"p3"}),
    ("Путін", _EXACT, {"p1"}),
    ("=Путин", _ANY, {"p2"}),
    ('"Львівського університету"', _ANY, {"u1", "u2"}),
    ('"=Львівського університету"', _ANY, {"u1"}),
    ('="Львівський університет"', _ANY, {"u2"}),
    ('"Львівський університет"', _EXACT, {"u2"}),
    ('"університет Львівського"', _EXACT, set()),  # an exact phrase keeps its order
    ('title:"=Львівського університету"', _ANY, set()),
]


@pytest.mark.parametrize("accelerated", [True, False])
@pytest.mark.parametrize(("query", "mode", "found"), _FOUND)
def test_exact_words_and_modes_find_their_forms(
    exact_index: Path, accelerated: bool, query: str, mode: MatchMode, found: set[str]
) -> None:
    assert _ids(Engine(exact_index, accelerated=accelerated), query, mode) == found


@pytest.mark.parametrize("mode", list(MatchMode))
def test_both_paths_score_exact_words_alike(exact_index: Path, mode: MatchMode) -> None:
    fast, slow = Engine(exact_index), Engine(exact_index, accelerated=False)
    for query in [q for q, _, _ in _FOUND] + ["Львова Мер", "Мер =Львова", "-Львова"]:
        request = SearchRequest(query=query, match=mode, highlight=False, first=50)
        a, b = fast.search(request), slow.search(request)
        assert [h.article.id for h in a.hits] == [h.article.id for h in b.hits], query
        for x, y in zip(a.hits, b.hits, strict=True):
            assert x.score == pytest.approx(y.score, rel=1e-5), query


def test_the_exact_field_holds_each_form_once_outside_whoosh() -> None:
    """Each distinct form of title, body and tags, by part, in our postings; Whoosh's
    document has no exact field, and a parallel build's chunks (``Prepared.postings``, the
    postings Whoosh keeps in memory) do not count them."""
    article = Article(
        id="x",
        title="Львів і Львова",
        body="Мер Львова. Мер ЛЬВОВА!",
        published=_WHEN,
        language="uk",
        tags=("Оперний театр", "театр"),
    )
    prepared = prepare(article, run_numbers("test-exact"))
    (held,) = [s for f, *s in analyzed_document(article).stats if f == FIELD_INDEX[EXACT_FIELD]]
    terms, frequencies, length, positions = held
    assert positions == b""
    assert terms == ["t:львів", "t:і", "t:львова", "b:мер", "b:львова", "g:оперний", "g:театр"]
    assert frequencies == [1] * len(terms) and length == len(terms)
    text = [t for f, t, *_ in prepared.stats if f != FIELD_INDEX[EXACT_FIELD]]
    assert prepared.postings == len(prepared.document) + sum(len(t) // 4 for t in text)


def test_exact_words_on_an_index_of_several_segments(tmp_path: Path) -> None:
    """An update adds a segment: the forms are looked up in each, at its document offset."""
    first = [Article(id="a", title="Новини", body="Мер Львова.", published=_WHEN, language="uk")]
    more = [
        Article(
            id="b", title="Свято", body="Гості Львова у Львові.", published=_WHEN, language="uk"
        ),
        Article(id="c", title="Музей", body="Музей у Львові.", published=_WHEN, language="uk"),
    ]
    build([write_jsonl(first, tmp_path / "a.jsonl")], tmp_path / "ix", workers=1)
    update([write_jsonl(more, tmp_path / "b.jsonl")], tmp_path / "ix", workers=1)
    for accelerated in (True, False):
        engine = Engine(tmp_path / "ix", accelerated=accelerated)
        assert len(engine.reader.generation().searcher().leaf_searchers()) == 2
        assert _ids(engine, "=Львова") == {"a", "b"}
        assert _ids(engine, "=Львові") == {"b", "c"}
        assert _ids(engine, "=Львова =Львові") == {"b"}
        assert _ids(engine, "Львова -=Львові") == {"a"}


def test_an_exact_word_is_scored_as_its_forms_without_other_scripts(exact_index: Path) -> None:
    """The exact clause only filters: scores are those of the word under FORMS."""
    engine = Engine(exact_index)

    def scores(query: str, mode: MatchMode) -> dict[str, float | None]:
        page = engine.search(SearchRequest(query=query, match=mode, highlight=False))
        return {h.article.id: h.score for h in page.hits}

    forms = scores("Львова", _FORMS)
    assert scores("=Львова", _ANY) == {k: forms[k] for k in ("l1", "t1")}
    assert scores("Львова", _EXACT) == {k: forms[k] for k in ("l1", "t1")}


def test_a_cursor_belongs_to_its_mode(exact_index: Path) -> None:
    engine = Engine(exact_index)
    page = engine.search(SearchRequest(query="Львова", first=1))
    with pytest.raises(SearchError) as raised:
        engine.search(SearchRequest(query="Львова", first=1, after=page.end_cursor, match=_EXACT))
    assert raised.value.kind == "cursor"


def _marks(engine: Engine, query: str, mode: MatchMode = _ANY) -> dict[str, set[str]]:
    page = engine.search(SearchRequest(query=query, match=mode, first=50))
    found = {}
    for hit in page.hits:
        assert hit.highlights is not None
        spans = hit.highlights.body_spans
        found[hit.article.id] = {hit.article.body[s.start : s.end] for s in spans}
    return found


def test_highlights_mark_only_the_exact_form(exact_index: Path) -> None:
    engine = Engine(exact_index)
    assert _marks(engine, "Львова")["l1"] == {"Львова", "Львові"}
    assert _marks(engine, "=Львова")["l1"] == {"Львова"}
    assert _marks(engine, "Львові", _EXACT) == {"l1": {"Львові"}, "l2": {"Львові"}}
    assert _marks(engine, "Путін", _EXACT) == {"p1": {"Путін"}}
    assert _marks(engine, '"=Львівського університету"') == {"u1": {"Львівського університету"}}


def test_highlight_of_a_phrase_with_an_exact_word() -> None:
    text = "Львівський університет і Львівського університету"
    match = MatchTerms(terms=frozenset(), phrases=((marked("Львівського"), "університет"),))
    assert [text[s.start : s.end] for s in match_spans(text, "uk", match)] == [
        "Львівського університету"
    ]


def test_highlight_of_a_phrase_whose_exact_word_is_not_its_first() -> None:
    text = "Ми у Львові та у Львова."
    match = MatchTerms(terms=frozenset(), phrases=(("у", marked("Львові")),))
    assert [text[s.start : s.end] for s in match_spans(text, "uk", match)] == ["у Львові"]


def test_did_you_mean_keeps_the_equals(exact_index: Path) -> None:
    page = Engine(exact_index).search(SearchRequest(query="=Львва театр"))
    assert page.total == 0
    assert page.did_you_mean == "=Львова театр"


def test_suggest_completes_a_word_typed_with_equals(exact_index: Path) -> None:
    engine = Engine(exact_index)
    assert engine.suggest("=Новини =Льв").titles == engine.suggest("Новини Льв").titles
    assert engine.suggest("Новини Льв").titles == (("l1", "Новини Львова"),)
    assert engine.suggest("=").titles == ()


# -- GraphQL and HTTP -------------------------------------------------------------

_SEARCH = """
query($q: String!, $match: MatchMode!) {
  search(query: $q, match: $match, first: 10) {
    __typename
    ... on ArticleConnection { totalCount edges { node { id } highlights { title } } }
    ... on QueryError { kind message position hint }
  }
}
"""


@pytest.mark.parametrize(
    ("query", "mode", "data"),
    [
        (
            "Путін",
            "ANY_SCRIPT",
            {
                "totalCount": 3,
                "ids": ["p1", "p2", "p3"],
                "titles": ["Заява", "Заявление", "Statement"],
            },
        ),
        ("Путін", "FORMS", {"totalCount": 1, "ids": ["p1"], "titles": ["Заява"]}),
        (
            "Львові",
            "EXACT",
            {
                "totalCount": 2,
                "ids": ["l2", "l1"],
                "titles": ["Свято у <mark>Львові</mark>", "Новини Львова"],
            },
        ),
        (
            "=Львова",
            "FORMS",
            {
                "totalCount": 2,
                "ids": ["l1", "t1"],
                "titles": ["Новини <mark>Львова</mark>", "Прем&#x27;єра"],
            },
        ),
    ],
)
def test_match_argument_through_graphql(
    exact_index: Path, query: str, mode: str, data: dict[str, object]
) -> None:
    result = Client(exact_index).execute(_SEARCH, {"q": query, "match": mode})
    assert result.errors is None
    found = result.data["search"]
    assert found["__typename"] == "ArticleConnection"
    assert {
        "totalCount": found["totalCount"],
        "ids": [e["node"]["id"] for e in found["edges"]],
        "titles": [e["highlights"]["title"] for e in found["edges"]],
    } == data


def test_stray_equals_through_graphql_is_a_query_error(exact_index: Path) -> None:
    result = Client(exact_index).execute(_SEARCH, {"q": "війна ==Львова", "match": "EXACT"})
    assert result.errors is None
    assert result.data == {
        "search": {
            "__typename": "QueryError",
            "kind": "SYNTAX",
            "message": "== is not an operator",
            "position": 6,
            "hint": "write a single =: =Львова",
        }
    }


def test_match_argument_over_http(exact_index: Path) -> None:
    with live_server(create_app(Settings(index_dir=exact_index))) as base:
        response = httpx.post(
            f"{base}/graphql",
            json={"query": _SEARCH, "variables": {"q": "Києві", "match": "EXACT"}},
            timeout=30,
        )
        wrong = httpx.post(
            f"{base}/graphql",
            json={"query": _SEARCH, "variables": {"q": "Києві", "match": "LEMMAS"}},
            timeout=30,
        )
    assert response.status_code == 200
    assert response.json() == {
        "data": {
            "search": {
                "__typename": "ArticleConnection",
                "totalCount": 1,
                "edges": [
                    {"node": {"id": "k1"}, "highlights": {"title": "Зустріч у <mark>Києві</mark>"}}
                ],
            }
        }
    }
    assert wrong.status_code == 200  # GraphQL's own validation error, not a 5xx
    assert "MatchMode" in wrong.json()["errors"][0]["message"]


# -- an index built without the exact field --------------------------------------


def test_an_index_without_exact_forms_asks_for_a_rebuild(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A generation of analysis 3 (its postings have no exact field, so they are not read)
    is served by Whoosh with a warning and answers every other query; ``=`` and EXACT say
    to rebuild, at the word's position; an update is refused."""
    index = _build(tmp_path)
    layout = Layout(index)
    served = layout.require_current()
    meta_file = layout.generation_dir(served) / POSTINGS_DIR / "meta.json"
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    fields = [f for f in meta["fields"] if f != EXACT_FIELD]
    meta_file.write_text(json.dumps({**meta, "analysis": 3, "fields": fields}), encoding="utf-8")
    with caplog.at_level("WARNING", logger="newsearch.search.reader"):
        engine = Engine(index)
        assert engine.reader.generation().postings is None
    assert f"generation {served} was analyzed by an earlier version" in caplog.text
    assert "nor in the form typed (=word)" in caplog.text
    assert _ids(engine, "Львова", _FORMS) == {"l1", "l2", "l3", "t1"}
    for query, mode, position in [("Мер =Львова", _ANY, 5), ("Мер Львова", _EXACT, 0)]:
        with pytest.raises(SearchError) as raised:
            engine.search(SearchRequest(query=query, match=mode))
        assert raised.value.kind == "syntax"
        assert raised.value.position == position
        assert "without exact word forms" in raised.value.message
        assert "newsearch index build" in (raised.value.hint or "")
    with pytest.raises(OutdatedAnalysis, match="analysis 3, now 4"):
        update([tmp_path / "articles.jsonl"], index, workers=1)


def test_compiling_for_an_index_without_exact_forms_refuses_exact_words(
    exact_index: Path,
) -> None:
    gen = Engine(exact_index).reader.generation()
    plain, exact = parse_query("Київ Львова"), parse_query("Київ =Львова")
    assert plain is not None and exact is not None
    compile_query(plain, gen.columns, mode=_FORMS)  # no exact word: no exact_docs needed
    for node, mode in [(exact, _ANY), (plain, _EXACT)]:
        with pytest.raises(QuerySyntaxError, match="without exact word forms"):
            compile_query(node, gen.columns, mode=mode)
