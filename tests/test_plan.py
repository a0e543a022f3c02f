"""The query plan (``search/plan.py``), the one door to Whoosh and the modules' size.

Compiled queries are the project's own typed values; only the Whoosh door
(``search/storage/whoosh.py`` and its ``whoosh_*.py`` siblings) imports Whoosh, and the
plan evaluated by the numpy path matches what Whoosh makes of the same plan.  Each module
is one concept, under about 500 lines (MAX_MODULE_LINES is the hard ceiling).
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import numpy as np
import pytest

from newsearch.search import plan
from newsearch.search.accel import evaluate, evaluate_with_whoosh
from newsearch.search.compile import compile_query
from newsearch.search.engine import Engine
from newsearch.search.querylang import parse_query
from newsearch.search.storage.whoosh import to_whoosh

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("search", "indexer", "schema")
DOOR = "search/storage/whoosh.py"
SIBLINGS = "search/storage/whoosh_*.py"
MAX_MODULE_LINES = 550
"""The project's modules stay under about 500 lines; one past this has grown a second
concept, to be split out (as names' plans were from ``compile.py``)."""


def _imported_modules(path: Path) -> set[str]:
    """Every module an ``import`` or ``from ... import`` of ``path`` names (anywhere in it,
    functions included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def test_only_the_door_imports_whoosh() -> None:
    """No module of search/, indexer/ or schema/ but the door imports ``whoosh``."""
    offenders = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            relative = path.relative_to(REPO)
            if relative.as_posix() == DOOR or relative.match(SIBLINGS):
                continue
            modules = _imported_modules(path)
            if any(m == "whoosh" or m.startswith("whoosh.") for m in modules):
                offenders.append(relative.as_posix())
    assert offenders == []


def test_every_module_stays_small() -> None:
    """No module of search/, indexer/ or schema/ is longer than MAX_MODULE_LINES."""
    long = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            with path.open(encoding="utf-8") as f:
                lines = sum(1 for _ in f)
            if lines > MAX_MODULE_LINES:
                long[path.relative_to(REPO).as_posix()] = lines
    assert long == {}


def _annotations(path: Path) -> list[tuple[str, str]]:
    """(where, annotation source) of every argument, return and class attribute
    annotation of ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            args = node.args
            every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
            every += [a for a in (args.vararg, args.kwarg) if a is not None]
            found += [
                (f"{node.name}({a.arg})", ast.unparse(a.annotation)) for a in every if a.annotation
            ]
            if node.returns is not None:
                found.append((f"{node.name} ->", ast.unparse(node.returns)))
        elif isinstance(node, ast.ClassDef):
            found += [
                (f"{node.name}.{ast.unparse(item.target)}", ast.unparse(item.annotation))
                for item in node.body
                if isinstance(item, ast.AnnAssign)
            ]
    return found


@pytest.mark.parametrize("module", ["plan", "compile", "accel"])
def test_plan_compile_and_accel_are_typed_without_any(module: str) -> None:
    """mypy strict sees every signature of the plan's producers and consumers: none of
    them is typed ``Any``."""
    annotations = _annotations(REPO / "search" / f"{module}.py")
    assert annotations
    untyped = [(where, a) for where, a in annotations if "Any" in a.replace("AnyOf", "")]
    assert untyped == []


def test_plan_nodes_are_frozen_values() -> None:
    """Equal nodes are interchangeable (the compiler drops repeated clauses by equality,
    the word memo keeps them): frozen, hashable, slotted; ``Values`` are equal by what
    they ask, not by their documents."""
    term = plan.Term("body_en", "energi", 2.0)
    assert term == plan.Term("body_en", "energi", 2.0) and hash(term) == hash(
        plan.Term("body_en", "energi", 2.0)
    )
    assert term != plan.Term("body_en", "energi")
    with pytest.raises(dataclasses.FrozenInstanceError):
        term.boost = 1.0  # type: ignore[misc]
    assert not hasattr(term, "__dict__")
    one = plan.Values("category", "war", np.array([1, 2], dtype=np.int64))
    other = plan.Values("category", "war", np.array([3], dtype=np.int64))
    assert one == other and len({one, other}) == 1
    assert plan.AnyOf((term, one)) == plan.AnyOf((term, other))
    either: plan.Plan = plan.AnyOf((term,))
    assert plan.AllOf((term,)) != either


@pytest.mark.parametrize(
    ("query", "kind"),
    [
        ("energy", plan.Term | plan.AnyOf),
        ("energy markets", plan.AllOf),
        ("energy OR war", plan.AnyOf),
        ("-energy", plan.AllOf),
        ('"energy markets"', plan.Phrase | plan.AnyOf),
        ("category:zzzz", plan.Nothing),
        ("-category:zzzz", plan.Every),
    ],
)
def test_queries_compile_to_plans(demo_engine: Engine, query: str, kind: type) -> None:
    """The compiler's output is a plan of our own node types, all the way down."""
    gen = demo_engine.reader.generation()
    node = parse_query(query)
    assert node is not None
    compiled = compile_query(node, gen.columns, gen.vocabulary)
    assert isinstance(compiled.query, kind)
    if query == "-energy":  # a purely negative query is anchored on every document
        assert isinstance(compiled.query, plan.AllOf)
        assert compiled.query.parts[0] == plan.EVERY
        assert isinstance(compiled.query.parts[1], plan.Excluding)
    pending: list[object] = [compiled.query]
    while pending:
        item = pending.pop()
        assert type(item).__module__ == "newsearch.search.plan", item
        assert dataclasses.is_dataclass(item)
        for f in dataclasses.fields(item):
            value = getattr(item, f.name)
            children = value if isinstance(value, tuple) else (value,)
            pending += [c for c in children if dataclasses.is_dataclass(c)]


WITHOUT_PHRASES = [
    "energy",
    "energy markets",
    "energy OR war -markets",
    "Києві",
    "армії OR election",
    "-energy",
    "=energy",
    "category:economy energy",
    "energ*",
    "enrgy~1",
]


@pytest.mark.parametrize("query", WITHOUT_PHRASES)
def test_a_plan_without_phrases_is_evaluated_without_whoosh(
    demo_engine: Engine, query: str
) -> None:
    """Only phrases still go through the door: every other node is answered by the
    postings alone (no searcher at all), with Whoosh's documents and scores."""
    gen = demo_engine.reader.generation()
    assert gen.postings is not None
    postings = gen.postings
    node = parse_query(query)
    assert node is not None
    compiled = compile_query(
        node,
        gen.columns,
        gen.vocabulary,
        postings.has,
        exact_docs=lambda term: postings.lookup("exact", term)[0],
    )
    live = np.asarray(gen.columns.live)
    ours = evaluate(compiled.query, postings, None, live)
    whoosh = evaluate_with_whoosh(compiled.query, gen.searcher(), live)
    assert ours.matched.any()
    assert np.array_equal(ours.matched, whoosh.matched)
    np.testing.assert_allclose(ours.scores[ours.matched], whoosh.scores[whoosh.matched], rtol=1e-6)


def test_the_door_translates_every_node(demo_engine: Engine) -> None:
    """Each plan node has its Whoosh counterpart (the reference path runs any plan)."""
    from whoosh import query as wq

    from newsearch.search.storage.whoosh import AnyLemma, ValuesQuery

    docs = np.array([0, 3], dtype=np.int64)
    term = plan.Term("body_en", "energi", 2.0)
    phrase = plan.Phrase("body_en", ("energi", "market"))
    cases: list[tuple[plan.Plan, object]] = [
        (term, wq.Term("body_en", "energi", boost=2.0)),
        (phrase, wq.Phrase("body_en", ["energi", "market"])),
        (
            plan.BestOf((plan.Term("body_uk", "київ"), plan.Term("body_uk", "кий")), 3.0),
            AnyLemma([wq.Term("body_uk", "київ"), wq.Term("body_uk", "кий")], boost=3.0),
        ),
        (
            plan.AnyOf((term, phrase)),
            wq.Or(
                [
                    wq.Term("body_en", "energi", boost=2.0),
                    wq.Phrase("body_en", ["energi", "market"]),
                ]
            ),
        ),
        (
            plan.AllOf((plan.EVERY, plan.Excluding(term))),
            wq.And([wq.Every(), wq.Not(wq.Term("body_en", "energi", boost=2.0))]),
        ),
        (plan.NOTHING, wq.NullQuery),
        (
            plan.Require(term, plan.Values("exact", "energy", docs)),
            wq.Require(
                wq.Term("body_en", "energi", boost=2.0), ValuesQuery("exact", "energy", docs)
            ),
        ),
    ]
    for ours, theirs in cases:
        assert to_whoosh(ours) == theirs
