"""Our own analysis pipeline types (``search/pipeline.py``) against Whoosh's, and indexes
whose Whoosh schema was pickled while the analyzers were built of Whoosh's classes."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import analysis as whoosh_analysis
from whoosh.analysis.analyzers import CompositeAnalyzer

from newsearch.indexer.build import build, update
from newsearch.search.analysis import (
    LANGUAGES,
    TAG_SEPARATOR,
    WORD_PATTERN,
    RegexTokenizer,
    TagsTokenizer,
    tags_analyzer,
    text_analyzer,
)
from newsearch.search.engine import Engine
from newsearch.search.storage.whoosh import PipelineAnalyzer, build_schema
from newsearch.search.types import SearchRequest
from tests.conftest import rewrite_toc
from tests.test_accel import _assert_same

OLD_SCHEMA = Path(__file__).parent / "data" / "schema-analysis-4.pickle"
"""``pickle.dumps(build_schema(), 2)`` (as Whoosh's TOC pickles it) by the code before the
pipeline types were our own (commit 973cf7e): Whoosh's ``CompositeAnalyzer`` and
``RegexTokenizer`` around ``newsearch.search.analysis``'s filters and ``TagsTokenizer``."""

_TEXT = st.text(alphabet=st.sampled_from([*"abc Кий’ʼ'`ё\u0301 -.,\n12é", TAG_SEPARATOR]))


@settings(max_examples=200)
@given(text=_TEXT, positions=st.booleans(), chars=st.booleans(), start=st.integers(0, 9))
def test_our_tokenizer_yields_whooshs_tokens(
    text: str, positions: bool, chars: bool, start: int
) -> None:
    """The words, positions and characters of Whoosh's ``RegexTokenizer`` (no gaps)."""
    options: dict[str, Any] = {
        "positions": positions,
        "chars": chars,
        "start_pos": start,
        "start_char": start,
    }

    def seen(tokens: object) -> list[tuple[object, ...]]:
        return [
            (t.text, t.pos if positions else None, (t.startchar, t.endchar) if chars else None)
            for t in tokens  # type: ignore[attr-defined]
        ]

    ours = seen(RegexTokenizer(WORD_PATTERN)(text, **options))
    theirs = seen(whoosh_analysis.RegexTokenizer(WORD_PATTERN)(text, **options))
    assert ours == theirs


@settings(max_examples=100)
@given(text=_TEXT, language=st.sampled_from(LANGUAGES))
def test_our_pipelines_analyze_as_whooshs_composition_of_the_same_parts(
    text: str, language: str
) -> None:
    """Whoosh's ``CompositeAnalyzer`` of Whoosh's tokenizer and our filters (what an old
    schema holds) makes the terms and positions our pipeline makes, for text and tags."""
    for ours in (text_analyzer(language), tags_analyzer(language)):
        whoosh_items = list(ours.items)
        words = whoosh_analysis.RegexTokenizer(WORD_PATTERN)
        if isinstance(ours.tokenizer, RegexTokenizer):
            whoosh_items[0] = words
        else:  # an old TagsTokenizer: Whoosh's tokenizer for each tag
            old = TagsTokenizer.__new__(TagsTokenizer)
            old.words = words
            whoosh_items[0] = old
        composite = CompositeAnalyzer.__new__(CompositeAnalyzer)
        composite.items = whoosh_items
        expected = [(t.text, t.pos) for t in composite(text, positions=True, mode="index")]
        got = [(t.text, t.pos) for t in PipelineAnalyzer(ours)(text, positions=True, mode="index")]
        assert got == expected


def test_the_schema_holds_our_pipelines_through_the_adapter() -> None:
    """Every analyzed field of a new schema holds one of our pipelines, wrapped for Whoosh,
    and pickles and unpickles to an equal one."""
    schema = build_schema()
    analyzers = {name: schema[name].analyzer for name in schema.names() if name.startswith("tags_")}
    analyzers |= {f"body_{lang}": schema[f"body_{lang}"].analyzer for lang in LANGUAGES}
    for name, analyzer in analyzers.items():
        assert isinstance(analyzer, PipelineAnalyzer), name
        assert pickle.loads(pickle.dumps(analyzer, 2)) == analyzer
    assert analyzers["body_uk"].pipeline == text_analyzer("uk")
    assert analyzers["tags_ru"].pipeline == tags_analyzer("ru")


def test_an_index_pickled_with_whooshs_analyzer_classes_is_served_and_updated(
    demo_copy: Path, tmp_path: Path
) -> None:
    """A generation whose TOC holds the schema as the code before our own pipeline types
    pickled it opens, searches alike on both paths, and is updated: Whoosh analyzes the new
    article's tags with the unpickled analyzer (its ``TagsTokenizer`` and lemma filters are
    ours now, fed Whoosh's tokens), so Whoosh's own postings find them."""
    pickled = OLD_SCHEMA.read_bytes()
    assert b"cwhoosh.analysis.analyzers\nCompositeAnalyzer\n" in pickled
    assert b"csearch.analysis\nTagsTokenizer\n" in pickled
    assert b"newsearch.search.pipeline" not in pickled
    index = tmp_path / "index"
    build([demo_copy], index, workers=1)

    def old_schema(toc: Any) -> None:
        toc.schema = pickle.loads(pickled)
        assert type(toc.schema["tags_uk"].analyzer).__name__ == "CompositeAnalyzer"

    rewrite_toc(index, old_schema)
    assert _assert_same(Engine(index), Engine(index, accelerated=False), "армії OR election")

    source = sorted(demo_copy.rglob("uk-001-*.txt"))[0]
    lines = source.read_text(encoding="utf-8").splitlines()
    assert lines[6].startswith("вибори")
    lines[6] = "Кропивницькі зебри, Zanzibar"
    (source.parent / "uk-900-zebry.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert update([demo_copy], index, workers=1).added == 1
    whoosh = Engine(index, accelerated=False)
    for query in ("tag:зебри", "tag:zanzibar", "tag:Кропивницькі"):
        page = whoosh.search(SearchRequest(query=query))
        assert [h.article.tags for h in page.hits] == [("Кропивницькі зебри", "Zanzibar")], query
        assert _assert_same(Engine(index), whoosh, query)


@pytest.mark.parametrize("language", LANGUAGES)
def test_pipelines_compose_like_whooshs(language: str) -> None:
    """``tokenizer | filters`` flattens into one pipeline; ``|`` on it adds a filter."""
    pipeline = text_analyzer(language)
    assert pipeline.items[0] == RegexTokenizer(WORD_PATTERN)
    rebuilt = RegexTokenizer(WORD_PATTERN) | pipeline.filters[0]
    for item in pipeline.filters[1:]:
        rebuilt = rebuilt | item
    assert rebuilt == pipeline
    assert pipeline.has_morph() == (language != "other")
