"""Property tests of the query language on real indexes: whatever a user types ends in a
SearchPage or a typed SearchError, never another exception; prefix and fuzzy words expand to
at most MAX_EXPANSIONS terms; boolean queries match what set algebra over their words says.
The exact switch (``=``) is among the fragments, and each query runs in any ``MatchMode``."""

from __future__ import annotations

import html
import re
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from whoosh import query as wq

from bench.corpora import write_jsonl
from newsearch.indexer.build import build
from newsearch.search import compile as compile_module
from newsearch.search.compile import MAX_EXPANSIONS, CompiledWords, compile_query
from newsearch.search.engine import Engine
from newsearch.search.exact import EXACT_FIELD
from newsearch.search.model import Article
from newsearch.search.querylang import MAX_QUERY_CHARS, Fuzzy, Prefix, leaves, parse_query
from newsearch.search.storage.whoosh import to_whoosh
from newsearch.search.types import Interval, MatchMode, SearchError, SearchPage, SearchRequest

EXAMPLES = 400
"""Examples per property (each runs a real search on the demo index)."""

SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same examples every run: a failure is reproducible
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

RAN: Counter[str] = Counter()
"""Outcomes per property, printed at the end of the module (``pytest -s`` shows them)."""

FRAGMENTS = [
    *('"', "(", ")", "OR", "AND", "NOT", "-", "*", "~", "~1", "~2", "~3", ":", "?", "\\"),
    *("title:", "body:", "tag:", "category:", "source:", "language:", "Title:", "foo:"),
    *(" ", " ", " ", "\t", "\n", "\x00", "\x1f", "\u00a0", "\u2003", "\u200d"),
    *("energy", "markets", "war", "with", "Russia", "mob", "mobili", "mobilizaton", "x", "e"),
    *("армії", "армія", "мигрантов", "мобілізацыя", "мʼясо", "м’ясо", "ещё", "Україна", "я"),
    *("'", "’", "é", "e\u0301", "🙂", "👩\u200d💻", "𝔘", "١٢", "ß", "İ", "ǅ", "\ufeff"),
    *("<b>", "&lt;", "&", ";", "ab*", "title:mob*", '"war with', 'Russia"', "a~2"),
    *("=", "=", "==", "=war", "=армії", "title:=", '="', "-=", "=(", "=Russia", "tag:="),
]
MODES = st.sampled_from(list(MatchMode))


def grammarish() -> st.SearchStrategy[str]:
    """Queries glued from operators, fields, quotes and (Cyrillic) words, spaces optional."""
    return st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)


def anything(max_size: int = 300) -> st.SearchStrategy[str]:
    """Any text: every code point but surrogates, control characters included."""
    return st.text(st.characters(exclude_categories=["Cs"]), max_size=max_size)


def run(engine: Engine, query: str, mode: MatchMode = MatchMode.ANY_SCRIPT) -> str:
    """Search; check the outcome is a sound SearchPage or a syntax SearchError."""
    try:
        page = engine.search(
            SearchRequest(query=query, first=5, histogram=Interval.YEAR, match=mode)
        )
    except SearchError as exc:
        assert exc.kind == "syntax", (query, exc.kind)
        assert isinstance(exc.position, int) and 0 <= exc.position <= len(query), exc.position
        assert exc.message and exc.hint
        return "syntax error"
    assert isinstance(page, SearchPage)
    assert len(page.hits) <= 5 and page.total >= len(page.hits)
    for warning in page.warnings:  # about the query: placed in it, explained
        assert warning.position is not None and 0 <= warning.position < len(query), warning
        assert warning.message and warning.hint
    RAN["pages with warnings"] += bool(page.warnings)
    assert sum(b.count for b in page.histogram) == page.total
    for hit in page.hits:
        hl = hit.highlights
        assert hl is not None
        for text in (hl.title, *(f.html for f in hl.fragments)):
            assert "<" not in re.sub(r"</?mark>", "", text)
        assert html.unescape(re.sub(r"</?mark>", "", hl.title)) == hit.article.title
        for span in hl.body_spans:
            assert 0 <= span.start < span.end <= len(hit.article.body)
    if page.did_you_mean is not None:
        assert page.did_you_mean != query
        better = engine.search(
            SearchRequest(query=page.did_you_mean, first=0, facets=(), match=mode)
        )
        assert better.total > page.total
    return "page" if page.total else "empty page"


def ids(engine: Engine, query: str) -> set[str]:
    return {h.article.id for h in engine.search(SearchRequest(query=query, first=100)).hits}


def expansion_terms(engine: Engine, query: str) -> set[tuple[str, str]]:
    """The distinct (language, term) pairs that the prefix/fuzzy words of ``query`` expand to."""
    node = parse_query(query)
    assert node is not None
    gen = engine.reader.generation()
    compiled = compile_query(node, gen.columns, gen.vocabulary)
    text_fields = re.compile(r"^(title|body|tags)_(\w+)$")
    found = set()
    for fieldname, text in to_whoosh(compiled.query).iter_all_terms():
        m = text_fields.match(fieldname)
        if m:
            found.add((m.group(2), text.decode() if isinstance(text, bytes) else text))
    return found


def check_bound(engine: Engine, query: str) -> int:
    """For each prefix or fuzzy word of ``query`` alone: at most MAX_EXPANSIONS terms."""
    try:
        node = parse_query(query)
    except ValueError:
        return 0
    checked = 0
    for leaf in leaves(node) if node is not None else []:
        if isinstance(leaf, Prefix | Fuzzy) and leaf.field not in (
            "category",
            "source",
            "language",
        ):
            word = leaf.text + ("*" if isinstance(leaf, Prefix) else f"~{leaf.distance}")
            try:
                terms = expansion_terms(engine, word)
            except ValueError:  # the word alone is not a query (``"*``)
                continue
            assert len(terms) <= MAX_EXPANSIONS
            checked += 1
    return checked


@SETTINGS
@given(query=anything(), mode=MODES)
def test_any_text_is_a_page_or_a_syntax_error(
    demo_engine: Engine, query: str, mode: MatchMode
) -> None:
    RAN[f"any text: {run(demo_engine, query, mode)}"] += 1


@SETTINGS
@given(query=grammarish(), mode=MODES)
def test_operator_soup_is_a_page_or_a_syntax_error(
    demo_engine: Engine, query: str, mode: MatchMode
) -> None:
    RAN[f"operator soup: {run(demo_engine, query, mode)}"] += 1
    RAN["operator soup: prefix/fuzzy words bounded"] += check_bound(demo_engine, query)
    RAN[f"operator soup: with = ({mode.name})"] += "=" in query


@SETTINGS
@given(query=st.lists(st.sampled_from(FRAGMENTS), max_size=12).map(" ".join), mode=MODES)
def test_spaced_operator_soup_is_a_page_or_a_syntax_error(
    demo_engine: Engine, query: str, mode: MatchMode
) -> None:
    RAN[f"spaced soup: {run(demo_engine, query, mode)}"] += 1
    RAN["spaced soup: prefix/fuzzy words bounded"] += check_bound(demo_engine, query)


# A boolean query is rendered from a tree of these words; its hits must be what set algebra
# over the words' own hits says.
WORDS = ["energy", "markets", "war", "армії", "мигрантов", "migrant", "Ukraine", "культура"]
WORDS += ["the", "prices", '"war with Russia"', "mobili*", "tag:energy", "category:war", "biatlon~"]
WORDS += ["=war", "=армії", '"=war with Russia"', '="war with"', "title:=Ukraine"]

Tree = str | tuple[str, list["Tree"]]


def trees() -> st.SearchStrategy[Tree]:
    return st.recursive(
        st.sampled_from(WORDS),
        lambda kids: st.one_of(
            st.tuples(st.sampled_from(["AND", "OR"]), st.lists(kids, min_size=2, max_size=3)),
            st.tuples(st.sampled_from(["-", "NOT"]), kids.map(lambda k: [k])),
        ),
        max_leaves=7,
    )


def render(tree: Tree) -> str:
    if isinstance(tree, str):
        return tree
    op, kids = tree
    if op in ("-", "NOT"):
        inner = render(kids[0])
        inner = inner if isinstance(kids[0], str) else f"({inner})"
        return f"-{inner}" if op == "-" else f"NOT {inner}"
    glue = " OR " if op == "OR" else _and_glue(kids)
    return "(" + glue.join(render(k) for k in kids) + ")"


def _and_glue(kids: list[Tree]) -> str:
    return " AND " if len(kids) % 2 else " "  # both spellings of AND, deterministically


def evaluate(tree: Tree, leaf: dict[str, set[str]], everything: set[str]) -> set[str]:
    if isinstance(tree, str):
        return leaf[tree]
    op, kids = tree
    sets = [evaluate(k, leaf, everything) for k in kids]
    if op == "AND":
        return set.intersection(*sets)
    if op == "OR":
        return set.union(*sets)
    return everything - sets[0]


@pytest.fixture(scope="module")
def leaf_hits(demo_engine: Engine) -> dict[str, set[str]]:
    return {w: ids(demo_engine, w) for w in [*WORDS, "-energy"]}


@SETTINGS
@given(tree=trees())
def test_boolean_queries_match_set_algebra(
    demo_engine: Engine, leaf_hits: dict[str, set[str]], tree: Tree
) -> None:
    everything = leaf_hits["energy"] | leaf_hits["-energy"]
    assert len(everything) == 36
    query = render(tree)
    expected = evaluate(tree, leaf_hits, everything)
    assert ids(demo_engine, query) == expected, query
    RAN["boolean trees: matched set algebra" + (" (non-empty)" if expected else "")] += 1


def exact_docs(gen: Any) -> Any:
    """The documents holding an exact form, from the generation's postings (as the engine
    gives them to the compiler)."""
    postings = gen.postings
    assert postings is not None
    return lambda term: postings.lookup(EXACT_FIELD, term)[0]


def compiled_both_ways(engine: Engine, query: str) -> list[Any]:
    """The compiled plan of ``query`` as a Whoosh query, with and without the postings'
    pruning."""
    node = parse_query(query)
    assert node is not None
    gen = engine.reader.generation()
    assert gen.postings is not None
    return [
        to_whoosh(
            compile_query(
                node, gen.columns, gen.vocabulary, present, exact_docs=exact_docs(gen)
            ).query
        )
        for present in (None, gen.postings.has)
    ]


@SETTINGS
@given(tree=trees())
def test_compiled_queries_are_normalized_already(demo_engine: Engine, tree: Tree) -> None:
    """The compiler flattens and deduplicates as it builds: Whoosh's normalize, which it
    no longer calls, would leave every compiled tree as it is (a purely negative query's
    anchor on every document aside: normalize would make all of it Every)."""
    for q in compiled_both_ways(demo_engine, render(tree)):
        if isinstance(q, wq.And) and isinstance(q.subqueries[0], wq.Every):
            assert len(q.subqueries) == 2
            q = q.subqueries[1]
        assert q == q.normalize(), q
    RAN["boolean trees: compiled normalized"] += 1


_SHARED_MEMO: CompiledWords = {}
"""One memo across examples, as a generation's is across requests: a word is often met
first in another tree, another polarity (``-war``) or another field (``title:war``)."""


@SETTINGS
@given(tree=trees(), mode=MODES)
def test_remembered_words_compile_as_new_ones(
    demo_engine: Engine, tree: Tree, mode: MatchMode
) -> None:
    """Compiling with a generation's word memo gives the query and the highlight marks
    that compiling every word afresh gives, whatever the memo met before (in any mode)."""
    node = parse_query(render(tree))
    assert node is not None
    gen = demo_engine.reader.generation()
    assert gen.postings is not None
    present = gen.postings.has
    holding = exact_docs(gen)
    fresh = compile_query(node, gen.columns, gen.vocabulary, present, mode=mode, exact_docs=holding)
    for _ in range(2):  # the second time every word is in the memo
        remembered = compile_query(
            node, gen.columns, gen.vocabulary, present, _SHARED_MEMO, mode=mode, exact_docs=holding
        )
        assert (remembered.query, remembered.marks) == (fresh.query, fresh.marks)
    RAN["boolean trees: compiled alike from the word memo"] += 1


def test_word_memo_is_bounded(demo_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compile_module, "WORD_MEMO_SIZE", 3)
    gen = demo_engine.reader.generation()
    assert gen.postings is not None
    memo: CompiledWords = {}
    for word in ["energy", "markets", "war", "армії", "Ukraine"]:
        node = parse_query(word)
        assert node is not None
        compile_query(node, gen.columns, gen.vocabulary, gen.postings.has, memo)
        assert 1 <= len(memo) <= 3 and (None, word) in memo


@pytest.mark.parametrize(
    ("query", "same_as"),
    [
        ("армії армії", "армії"),
        ("(energy war) markets", "energy war markets"),
        ("energy OR (war OR markets)", "energy OR war OR markets"),
        ("(energy OR war) (energy OR war) markets", "(energy OR war) markets"),
        ("energy AND (markets AND (war AND energy))", "energy markets war"),
        ("-(energy OR (war OR energy))", "-(energy OR war)"),
    ],
)
def test_repeated_and_nested_clauses_compile_like_the_plain_query(
    demo_engine: Engine, query: str, same_as: str
) -> None:
    assert compiled_both_ways(demo_engine, query) == compiled_both_ways(demo_engine, same_as)


@SETTINGS
@given(prefix=anything(max_size=8))
def test_suggest_never_fails(demo_engine: Engine, prefix: str) -> None:
    suggestions = demo_engine.suggest(prefix)
    assert len(suggestions.tags) <= 10 and len(suggestions.titles) <= 10
    RAN["suggest: answered"] += 1


@SETTINGS
@given(cursor=st.one_of(anything(max_size=80), st.binary(max_size=60).map(lambda b: b.hex())))
def test_any_cursor_is_a_page_or_a_cursor_error(demo_engine: Engine, cursor: str) -> None:
    try:
        demo_engine.search(SearchRequest(query="energy", first=2, after=cursor))
    except SearchError as exc:
        assert exc.kind == "cursor"
        RAN["cursor: refused"] += 1
    else:
        assert cursor == ""  # no real cursor comes out of random text
        RAN["cursor: empty, first page"] += 1


LONG = [
    "a" * 10_000,
    "(" * 10_000,
    '"' * 10_000,
    "-" * 10_000,
    "energy " * 1_430,
    "армії OR " * 1_111,
    "mob* " * 2_000,
    "\x00" * 10_000,
    "🙂" * 10_000,
    ("(" * 500 + "energy" + ")" * 500)[:MAX_QUERY_CHARS],
    ("-(" * 300)[:MAX_QUERY_CHARS],
    ("NOT " * 250)[:MAX_QUERY_CHARS],
    ("ab* " * 250)[:MAX_QUERY_CHARS],
    ("energy~2 " * 120)[:MAX_QUERY_CHARS],
    ('"' + "war with Russia " * 62 + '"')[:MAX_QUERY_CHARS],
]


@pytest.mark.parametrize("query", LONG, ids=[f"{q[:12]!r}x{len(q)}" for q in LONG])
def test_long_inputs(demo_engine: Engine, query: str) -> None:
    outcome = run(demo_engine, query)
    if len(query) > MAX_QUERY_CHARS:
        assert outcome == "syntax error"
    RAN[f"long inputs: {outcome}"] += 1


def ten_thousand() -> st.SearchStrategy[str]:
    """Any text repeated to 10,000 characters."""
    return anything(max_size=40).filter(bool).map(lambda s: (s * (10_000 // len(s) + 1))[:10_000])


@SETTINGS
@given(query=ten_thousand())
def test_random_10k_inputs(demo_engine: Engine, query: str) -> None:
    assert len(query) == 10_000
    assert run(demo_engine, query) == "syntax error"
    RAN["10k text: syntax error"] += 1


# ----------------------------------------------------------------------------- the bound

WIDE = 300


@pytest.fixture(scope="module")
def wide_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """An index where ``zz*`` has 2 x WIDE + 1 words (English and Ukrainian articles, tags):
    ``zza000`` .. ``zza009`` in two documents each, ``zzc999`` (in one document) last."""
    when = datetime(2024, 1, 1, tzinfo=UTC)

    def doc(i: str, lang: str, words: list[str], tags: tuple[str, ...] = ()) -> Article:
        return Article(
            id=i, title=f"List {i}", body=" ".join(words), published=when, language=lang, tags=tags
        )

    docs = [
        doc("en", "en", [f"zza{i:03d}" for i in range(WIDE)], tags=("zzt tag",)),
        doc("uk", "uk", [f"zzu{i:03d}" for i in range(WIDE)] + ["армія"]),
        doc("twice", "en", [f"zza{i:03d}" for i in range(10)] + ["zzc999"]),
        doc("last", "ru", ["zzc999", "армия"]),
        doc("tagged", "en", ["nothing", "here"], tags=("zzq tag",)),
    ]
    directory = tmp_path_factory.mktemp("wide")
    build([write_jsonl(docs, directory / "wide.jsonl")], directory / "index", workers=1)
    return Engine(directory / "index")


def test_prefix_expansion_is_capped_to_the_most_frequent(wide_engine: Engine) -> None:
    terms = expansion_terms(wide_engine, "zz*")
    assert len(terms) == MAX_EXPANSIONS
    assert {("en", f"zza{i:03d}") for i in range(10)} <= terms  # in two documents: kept first
    assert ("ru", "zzc999") not in terms and ("en", "zzc999") not in terms
    # Equally frequent terms are kept in (language, term) order: en before uk, and
    # "last" (zzc999 only) is not found by zz*, though by a longer prefix.
    assert ids(wide_engine, "zz*") == {"en", "twice"}
    assert ids(wide_engine, "zzu*") == {"uk"}
    assert ids(wide_engine, "zzc*") == {"twice", "last"}
    assert ids(wide_engine, "zzq*") == {"tagged"}  # a tag word
    # The bound is per prefix word: two words, two bounded expansions.
    assert MAX_EXPANSIONS < len(expansion_terms(wide_engine, "zz* OR zzu*")) <= 2 * MAX_EXPANSIONS
    for query in ("zzu*", "zza*", "zza0~2", "zza000~2", "zzu000~2", "tag:zz*"):
        assert 0 < len(expansion_terms(wide_engine, query)) <= MAX_EXPANSIONS


@SETTINGS
@given(
    prefix=st.text(st.sampled_from("zaucq0123456789t~*"), min_size=2, max_size=6),
)
def test_expansions_never_exceed_the_bound(wide_engine: Engine, prefix: str) -> None:
    for query in (f"zz{prefix}*", f"zz{prefix}", f"tag:zz{prefix}*"):
        RAN["bound: prefix/fuzzy words checked"] += check_bound(wide_engine, query)
        run(wide_engine, query)


def test_report_examples(capsys: pytest.CaptureFixture[str]) -> None:
    """Prints how many examples each property ran (run with ``-s`` to see them)."""
    with capsys.disabled():
        print("\nquery fuzz examples:", dict(sorted(RAN.items())))
    assert sum(RAN.values()) > 0
