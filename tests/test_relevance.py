"""The relevance suite (``bench/relevance.py``, ``scripts/relevance``): judgments and metrics on
tiny handmade ner-uk/factRuEval/BBC snippets, and one end-to-end run on the real corpora."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest

from bench import relevance
from bench.corpora import all_corpus_articles, entity_key, require_shared
from bench.peers import tantivy_version
from bench.relevance_explain import in_context
from bench.relevance_judgments import (
    DocTokens,
    Query,
    alternation_key,
    english_queries,
    entities,
    entity_queries,
    query_text,
    sample,
    title_queries,
)

TANTIVY = tantivy_version() is not None
"""tantivy comes with the ``bench`` extra; without it the suite runs with FTS5 alone."""
A = "ner-uk/ng/a.txt"
B = "ner-uk/ng/b.txt"
C = "ner-uk/bruk/c.txt"
RU = "factrueval/devset/book_1.txt"
EN1 = "bbc/politics/001.txt"
EN2 = "bbc/politics/002.txt"


def _brat(text: str, entities: list[tuple[str, str]]) -> str:
    """brat lines for the first occurrence of each (type, surface) in ``text``."""
    lines = []
    for n, (kind, surface) in enumerate(entities, 1):
        start = text.index(surface)
        lines.append(f"T{n}\t{kind}\t{start}\t{start + len(surface)}\t{surface}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """A data folder in the shared layout: 3 ner-uk texts, 1 factRuEval article, 2 BBC ones."""
    ng, bruk = tmp_path / "ner-uk" / "ng", tmp_path / "ner-uk" / "bruk"
    ng.mkdir(parents=True)
    bruk.mkdir(parents=True)
    a = "Рінат Ахметов приїхав до Києва .\nКиїв зустрів його у Києві ."
    (ng / "a.txt").write_text(a, encoding="utf-8")
    (ng / "a.ann").write_text(
        _brat(a, [("PERS", "Рінат Ахметов"), ("LOC", "Києва"), ("LOC", "Київ"), ("LOC", "Києві")])
        + "T9\tDATE\t0\t5\tРінат\n",  # not a person, place or organization: ignored
        encoding="utf-8",
    )
    b = "Компанія Ахметова працює у Львові разом з Ахметовим ."
    (ng / "b.txt").write_text(b, encoding="utf-8")
    (ng / "b.ann").write_text(
        _brat(b, [("PERS", "Ахметова"), ("LOC", "Львові"), ("PERS", "Ахметовим")]), "utf-8"
    )
    # Not annotated, but it has an annotated form of Київ as a word: relevant to it.
    (bruk / "c.txt").write_text("Вчора у Києві було тепло й сонячно .", encoding="utf-8")
    ru = tmp_path / "factrueval-ru" / "devset"
    ru.mkdir(parents=True)
    text = "Ринат Ахметов прилетел в Киев в понедельник."
    (ru / "book_1.txt").write_text(text, encoding="utf-8")
    spans = [("name", "Ринат"), ("surname", "Ахметов"), ("loc_name", "Киев")]
    (ru / "book_1.spans").write_text(
        "".join(
            f"{10 + i} {kind} {text.index(s)} {len(s)} {100 + i} 1  # {100 + i} {s}\n"
            for i, (kind, s) in enumerate(spans)
        ),
        encoding="utf-8",
    )
    (ru / "book_1.objects").write_text(
        "1 Person 10 11 # Ринат Ахметов\n2 Location 12 # Киев\n", encoding="utf-8"
    )
    bbc = tmp_path / "bbc-news" / "news" / "politics"
    bbc.mkdir(parents=True)
    (bbc / "001.txt").write_text(
        "Brown speech\n\nIn London, Gordon Brown said the Labour Party would win.\n", "utf-8"
    )
    (bbc / "002.txt").write_text(
        "Budget plans\n\nIn London the budget was set by Gordon Brown today.\n", "utf-8"
    )
    (bbc / "003.txt").write_text(
        "Harbour cranes stand idle\n\nThe harbour cranes stood idle all week.\n", "utf-8"
    )
    return tmp_path


def _judged(data: Path) -> dict[tuple[str, str, str], frozenset[str]]:
    docs = DocTokens(all_corpus_articles(data))
    queries, skipped = entity_queries(entities(data), docs)
    assert skipped == 0
    out = {(q.language, q.kind, q.text): q.relevant for q in queries}
    assert len(out) == len(queries)  # no query twice
    return out


def test_alternation_key_joins_the_cases_and_scripts_of_a_name() -> None:
    keys = {alternation_key(entity_key(w)) for w in ("Київ", "Києва", "Києві", "Киев", "Киеве")}
    assert keys == {("ки*в",)}
    assert alternation_key(entity_key("Львів")) == alternation_key(entity_key("Львова"))
    assert alternation_key(entity_key("Львів")) != alternation_key(entity_key("Київ"))
    assert alternation_key(entity_key("Ахметовим")) == alternation_key(entity_key("Ахметов"))
    assert alternation_key(entity_key("Донецкой")) != alternation_key(entity_key("Донецке"))
    # A noun's instrumental in -ией is no adjective: Россией is Россия, Марией is Мария.
    assert alternation_key(entity_key("Россией")) == alternation_key(entity_key("России"))
    assert alternation_key(entity_key("Марией")) == alternation_key(entity_key("Мария"))
    # Short stems are kept as they are: too little left to tell names apart.
    assert alternation_key(("лев",)) == ("лев",)


def test_entity_judgments_on_handmade_annotations(tiny: Path) -> None:
    both = frozenset({A, RU})
    kyiv = frozenset({A, C, RU})
    assert _judged(tiny) == {
        # One entity in both corpora: Рінат/Ринат Ахметов (the keys agree).
        ("uk", "base", "Рінат Ахметов"): both,
        ("uk", "latin", "Rinat Akhmetov"): both,
        ("ru", "base", "Ринат Ахметов"): both,
        ("ru", "latin", "Rinat Akhmetov"): both,
        # A one-word surname is another key: its own entity (the instrumental joins it).
        ("uk", "base", "Ахметова"): frozenset({B}),
        ("uk", "inflected", "Ахметовим"): frozenset({B}),
        ("uk", "latin", "Akhmetova"): frozenset({B}),
        # Київ: the nominative is the form with the fewest letters; c.txt is not annotated
        # but has the annotated form Києві as a word.
        ("uk", "base", "Київ"): kyiv,
        ("uk", "inflected", "Києва"): kyiv,
        ("uk", "inflected", "Києві"): kyiv,
        ("uk", "latin", "Kyiv"): kyiv,
        ("ru", "base", "Киев"): kyiv,
        ("ru", "latin", "Kiev"): kyiv,
        ("uk", "base", "Львові"): frozenset({B}),
        ("uk", "latin", "Lvovi"): frozenset({B}),
    }


def test_a_latin_query_counts_the_documents_holding_its_own_text(tiny: Path) -> None:
    """The Latin spelling is a form of the entity too: a BBC article with ``Kiev`` is
    relevant to the Latin query ``Kiev`` (and not to ``Киев``, which it does not hold)."""
    (tiny / "bbc-news" / "news" / "politics" / "004.txt").write_text(
        "Talks end\n\nThe leaders met in Kiev on Monday.\n", "utf-8"
    )
    kyiv = frozenset({A, C, RU})
    judged = _judged(tiny)
    assert judged[("ru", "latin", "Kiev")] == kyiv | {"bbc/politics/004.txt"}
    assert judged[("ru", "base", "Киев")] == kyiv
    assert judged[("uk", "latin", "Kyiv")] == kyiv


def test_a_latin_query_made_too_frequent_by_its_own_text_is_left_out(
    tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tiny / "bbc-news" / "news" / "politics" / "004.txt").write_text(
        "Talks end\n\nThe leaders met in Kiev on Monday.\n", "utf-8"
    )
    monkeypatch.setattr("bench.relevance_judgments.MAX_RELEVANT", 3)
    judged = _judged(tiny)
    assert ("ru", "latin", "Kiev") not in judged
    assert judged[("ru", "base", "Киев")] == frozenset({A, C, RU})


def test_query_text_leaves_out_query_syntax() -> None:
    assert query_text("Всесвітнього фонду природи (WWF)") == "Всесвітнього фонду природи WWF"
    assert query_text("ДП «НАЕК «Енергоатом»") == "ДП НАЕК Енергоатом"
    assert query_text("вул. Лаврська") == "вул. Лаврська"
    assert query_text("Івано-Франківськ") == "Івано-Франківськ"


def test_too_frequent_entities_are_skipped(tiny: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bench.relevance_judgments.MAX_RELEVANT", 2)
    docs = DocTokens(all_corpus_articles(tiny))
    queries, skipped = entity_queries(entities(tiny), docs)
    assert skipped == 1  # Київ: 3 relevant documents
    assert not [q for q in queries if q.entity in ("Київ", "Киев")]


def test_english_names(tiny: Path) -> None:
    articles = all_corpus_articles(tiny)
    # "In London" starts a sentence, "Labour Party" is in one article only.
    assert english_queries(articles, DocTokens(articles)) == [
        Query("en", "base", "Gordon Brown", frozenset({EN1, EN2}), "Gordon Brown")
    ]


def test_english_titles(tiny: Path) -> None:
    """Titles of 3+ words (``tokens``: casefolded), each judged by its own article."""
    assert title_queries(all_corpus_articles(tiny)) == [
        Query(
            "en",
            "title",
            "harbour cranes stand idle",
            frozenset({"bbc/politics/003.txt"}),
            "harbour cranes stand idle",
        )
    ]


def test_metrics_exact_values() -> None:
    relevant = frozenset({"a", "b", "c"})
    ranked = ["x", "a", "y", "b"]
    assert relevance.recall_at(ranked, relevant) == pytest.approx(2 / 3)
    assert relevance.recall_at(ranked, relevant, k=2) == pytest.approx(1 / 2)
    # Fewer than 10 relevant: precision over the top |relevant| = 3 (x, a, y).
    assert relevance.precision_at(ranked, relevant) == pytest.approx(1 / 3)
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    expected = (1 / math.log2(3) + 1 / math.log2(5)) / ideal
    assert relevance.ndcg_at(ranked, relevant) == pytest.approx(expected)
    many = frozenset(str(i) for i in range(20))
    top = [str(i) for i in range(5)] + ["x"] * 5 + [str(i) for i in range(5, 20)]
    assert relevance.precision_at(top, many) == pytest.approx(0.5)
    assert relevance.recall_at(top, many) == pytest.approx(1.0)
    assert relevance.score([], relevant) == {"recall@100": 0, "precision@10": 0, "ndcg@10": 0}


def test_sample_is_stable_and_capped() -> None:
    queries = [Query("uk", "base", f"q{i}", frozenset({"d"}), f"q{i}") for i in range(10)]
    first = sample(queries, 4)
    assert len(first) == 4
    assert sample(list(reversed(queries)), 4) == first
    everything = sample(queries, None)
    assert everything[:4] == first
    assert sorted(q.text for q in everything) == sorted(q.text for q in queries)


def _row(language: str, kind: str, queries: int, **ndcg: float) -> dict[str, object]:
    metrics = {"recall@100": 1.0, "precision@10": 1.0}
    return {
        "language": language,
        "kind": kind,
        "queries": queries,
        **{system: {**metrics, "ndcg@10": value} for system, value in ndcg.items()},
    }


def test_goals_and_ranking_lines_weigh_rows_by_queries() -> None:
    result = {
        "systems": ["newsearch", "fts5"],
        "rows": [
            _row("uk", "base", 30, newsearch=0.9, fts5=0.8),
            _row("uk", "inflected", 10, newsearch=0.5, fts5=0.9),
            _row("en", "base", 5, newsearch=0.7, fts5=0.7),
        ],
    }
    assert relevance.ranking_lines(result) == [
        "- ranking uk, nDCG@10: base: newsearch 0.900, best peer fts5 0.800 (ahead); "
        "base + inflected: newsearch 0.800, best peer fts5 0.825 (behind)",
        "- ranking en, nDCG@10: base: newsearch 0.700, best peer fts5 0.700 (even)",
    ]
    checks = relevance.goal_checks(result["rows"])  # type: ignore[arg-type]
    assert [(c["goal"], c["metric"], c["value"]) for c in checks] == [
        ("own script", "recall@100", 1.0),
        ("own script", "precision@10", 1.0),
    ]


def test_run_end_to_end_on_handmade_data(tiny: Path) -> None:
    """Real indexes (newsearch, FTS5, tantivy) of the six snippets; FTS5's figures are exact:
    it matches words as written, so only Ахметова and Львові find all their documents."""
    result = relevance.run(tiny, per_kind=None, explain=1)
    rows = {(r["language"], r["kind"]): r for r in result["rows"]}
    assert {k: r["queries"] for k, r in rows.items()} == {
        ("uk", "base"): 4,
        ("uk", "inflected"): 3,
        ("uk", "latin"): 4,
        ("ru", "base"): 2,
        ("ru", "latin"): 2,
        ("en", "base"): 1,
        ("en", "title"): 1,
    }
    fts5 = rows[("uk", "base")]["fts5"]
    # Рінат Ахметов 1/2, Ахметова 1, Київ 1/3 (a.txt only), Львові 1.
    assert fts5["recall@100"] == pytest.approx((1 / 2 + 1 + 1 / 3 + 1) / 4)
    assert fts5["failed"] == 0
    assert rows[("uk", "latin")]["fts5"]["no_hits"] == 4
    for row in result["rows"]:
        if TANTIVY:
            assert row["tantivy"]["recall@100"] == pytest.approx(row["fts5"]["recall@100"])
        for metric in ("recall@100", "precision@10", "ndcg@10"):
            assert 0 <= row["newsearch"][metric] <= 1
    assert rows[("en", "base")]["newsearch"]["recall@100"] == 1
    # The title's words, OR'ed, in the bodies only: every system finds its article first.
    for name in result["systems"]:
        assert rows[("en", "title")][name]["precision@10"] == 1, name
    assert [c["goal"] for c in result["goals"]] == ["own script"] * 2 + ["other script"] * 2
    assert "| uk | base | 4 |" in relevance.table(result)
    # --worst 1: each group's worst query with its hits, judged, and the words they matched.
    explained = "\n".join(result["explain"])
    assert explained.count("\n## ") == len(rows) - 1
    assert "## uk base: 'Ахметова' (entity 'Ахметова', 1 judged relevant)" in explained
    assert "   1 + ner-uk/ng/b.txt  Компанія Ахметова працює у Львові" in explained
    assert "         Компанія [Ахметова] працює у Львові" in explained


def test_in_context_marks_the_word_and_trims_the_rest() -> None:
    text = "На засіданні у Києві відбулася зустріч делегацій"
    start = text.index("Києві")
    assert in_context(text, start, start + 5, context=8) == "…данні у [Києві] відбула…"
    assert in_context("Київ", 0, 4) == "[Київ]"


FLOORS: dict[tuple[str, str], dict[str, float]] = {
    ("uk", "base"): {"recall@100": 1.000, "precision@10": 0.975},
    ("ru", "base"): {"recall@100": 1.000, "precision@10": 0.933},
    ("uk", "inflected"): {"recall@100": 1.000, "precision@10": 0.978},
    ("ru", "inflected"): {"recall@100": 1.000, "precision@10": 0.952},
    ("uk", "latin"): {"recall@100": 0.950, "precision@10": 0.937},
    ("ru", "latin"): {"recall@100": 0.976, "precision@10": 0.906},
    ("en", "base"): {"recall@100": 1.000, "precision@10": 0.950},
    ("en", "title"): {"precision@10": 0.650},
}
"""newsearch on the 40-query sample once a capitalized Cyrillic word preferred the articles
writing it as a name, coarse name keys weighed a tenth of spelling keys and a Latin word no
article holds ranked its Cyrillic spelling first (ru base stays at its earlier 0.933: this
sample's 0.917 is within the margin, the 400-query run rose from 0.933 to 0.955); before issue
#15's analysis work (5d4ff9b) it was uk base recall@100 1.000, ru base 0.963, uk inflected 0.975, ru
inflected 0.950, en precision@10 0.892, and Latin queries found nothing (0.000 uk, 0.025 ru)."""
MARGIN = 0.03


@pytest.mark.corpus
def test_suite_on_the_real_corpora() -> None:
    """40 queries per language x kind on the real corpora, with the peers, within 5 minutes.

    Floors (``FLOORS``) are newsearch's recall@100 and precision@10 on this sample as measured
    when they were last raised, minus ``MARGIN`` (one query of 40 is 0.025): no change may make
    names harder to find, or rank them worse, than that.  Issue #15's goals are printed by
    ``scripts/relevance`` (400 queries per row), not asserted here.
    """
    data = require_shared()
    started = time.perf_counter()
    result = relevance.run(data, per_kind=40)
    assert time.perf_counter() - started < 300
    rows = {(r["language"], r["kind"]): r for r in result["rows"]}
    assert sorted(rows) == sorted(
        [(lang, kind) for lang in ("uk", "ru") for kind in ("base", "inflected", "latin")]
        + [("en", "base"), ("en", "title")]
    )
    assert all(r["queries"] == 40 for r in rows.values())
    assert result["systems"] == ["newsearch", "fts5", *(["tantivy"] if TANTIVY else [])]
    assert all(r[s]["failed"] == 0 for r in rows.values() for s in result["systems"])
    for group, floors in FLOORS.items():
        for metric, floor in floors.items():
            assert rows[group]["newsearch"][metric] >= floor - MARGIN, (group, metric)
    # The peers match words as written: an inflected form misses the other forms.
    for language in ("uk", "ru"):
        assert rows[(language, "inflected")]["fts5"]["recall@100"] < 0.8
