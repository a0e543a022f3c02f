"""Tests for newsearch.search.highlight: matching, marking, snippets and HTML safety."""

from __future__ import annotations

import html
import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsearch.search.analysis import field_language, terms, tokens_with_chars
from newsearch.search.highlight import (
    Fragment,
    MatchTerms,
    Span,
    _continues,
    fragments,
    mark,
    match_spans,
)


def words_of(language: str, text: str, match: MatchTerms) -> list[str]:
    return [text[s.start : s.end] for s in match_spans(text, language, match)]


def query(
    language: str, *words: str, phrase: str = "", prefixes: tuple[str, ...] = ()
) -> MatchTerms:
    analyzed = frozenset(t for w in words for t in terms(language, w))
    phrases = (tuple(terms(language, phrase)),) if phrase else ()
    return MatchTerms(analyzed, phrases, prefixes)


def highlighted(language: str, text: str, match: MatchTerms) -> str:
    return mark(text, match_spans(text, language, match))


def unmarked(markup: str) -> str:
    return html.unescape(markup.replace("<mark>", "").replace("</mark>", ""))


# --- matching -----------------------------------------------------------------


def test_ukrainian_lemma_marks_inflected_forms() -> None:
    text = "Армії бракує зброї. Разом з Армією — армійський."
    match = MatchTerms(frozenset({"армія"}), ())
    assert highlighted("uk", text, match) == (
        "<mark>Армії</mark> бракує зброї. Разом з <mark>Армією</mark> — армійський."
    )


def test_russian_stem_marks_inflected_forms() -> None:
    match = query("ru", "мигрантов")
    assert match.terms == frozenset({"мигрант"})
    text = "Мигранты прибыли. Мигрантов встретили, миграция растёт."
    assert highlighted("ru", text, match) == (
        "<mark>Мигранты</mark> прибыли. <mark>Мигрантов</mark> встретили, миграция растёт."
    )


def test_english_stem_marks_plural() -> None:
    text = "Migrants arrived; the migrants' camp and a migration office."
    assert words_of("en", text, MatchTerms(frozenset({"migrant"}), ())) == ["Migrants", "migrants"]


def test_apostrophe_variants_match_the_ascii_term() -> None:
    text = "м’ясо, мʼясо і м'ясо"
    assert highlighted("uk", text, MatchTerms(frozenset({"м'ясо"}), ())) == (
        "<mark>м’ясо</mark>, <mark>мʼясо</mark> і <mark>м&#x27;ясо</mark>"
    )


def test_phrase_marks_only_consecutive_occurrence() -> None:
    text = "The war began. Talks with Russia failed; the war with Russia goes on."
    match = query("en", phrase="war with russia")
    assert match.phrases == (("war", "with", "russia"),)
    assert highlighted("en", text, match) == (
        "The war began. Talks with Russia failed; the <mark>war with Russia</mark> goes on."
    )


def test_phrase_and_term_overlap_merge() -> None:
    text = "war with Russia, Russia"
    match = MatchTerms(frozenset({"russia"}), (("war", "with", "russia"),))
    assert words_of("en", text, match) == ["war with Russia", "Russia"]


def test_prefix_marks_word_starts() -> None:
    text = "Мобілізація і мобілізаційний резерв, а не мобільний зв'язок."
    match = MatchTerms(frozenset(), (), ("мобіліз",))
    assert highlighted("uk", text, match) == (
        "<mark>Мобілізація</mark> і <mark>мобілізаційний</mark> резерв, "
        "а не мобільний зв&#x27;язок."
    )


def test_prefix_normalizes_apostrophes() -> None:
    match = MatchTerms(frozenset(), (), ("зв'яз",))
    assert words_of("uk", "Зв’язок і звук", match) == ["Зв’язок"]


def test_offsets_are_surface_words() -> None:
    text = "  Армії,\n«Армією» і армія!"
    spans = match_spans(text, "uk", MatchTerms(frozenset({"армія"}), ()))
    assert spans == [Span(2, 7), Span(10, 16), Span(20, 25)]
    assert [text[s.start : s.end] for s in spans] == ["Армії", "Армією", "армія"]


def test_combining_marks_stay_inside_the_span() -> None:
    text = "cafe\u0301 ok"
    assert words_of("other", text, MatchTerms(frozenset({"cafe"}), ())) == ["cafe\u0301"]


def test_analyzer_failure_does_not_raise() -> None:
    # pymorphy3 raises ValueError on Tangut letters (no Unicode name on Python 3.11).
    text = "𗀀 армії"
    assert words_of("uk", text, MatchTerms(frozenset({"армія"}), ())) == ["армії"]


def test_no_terms_no_spans() -> None:
    assert match_spans("", "uk", query("uk", "армія")) == []
    assert match_spans("армія", "uk", MatchTerms(frozenset(), (), ("",))) == []


# --- escaping -----------------------------------------------------------------


def test_script_is_escaped() -> None:
    text = "<script>alert(1)</script> армія"
    assert highlighted("uk", text, query("uk", "армія")) == (
        "&lt;script&gt;alert(1)&lt;/script&gt; <mark>армія</mark>"
    )


def test_img_onerror_is_escaped_even_inside_a_mark() -> None:
    text = "<img src=x onerror=alert(2)>"
    assert mark(text, [Span(0, 4), Span(5, 8)]) == (
        "<mark>&lt;img</mark> <mark>src</mark>=x onerror=alert(2)&gt;"
    )
    assert highlighted("en", text, query("en", "alert")) == (
        "&lt;img src=x onerror=<mark>alert</mark>(2)&gt;"
    )


def test_entities_and_quotes_are_escaped() -> None:
    text = "&lt;b&gt; \"армії\" 'армія'"
    assert highlighted("uk", text, query("uk", "армія")) == (
        "&amp;lt;b&amp;gt; &quot;<mark>армії</mark>&quot; &#x27;<mark>армія</mark>&#x27;"
    )


def test_mark_normalizes_spans() -> None:
    assert mark("abcdef", [Span(3, 5), Span(0, 2), Span(1, 3), Span(4, 99), Span(5, 5)]) == (
        "<mark>abc</mark><mark>def</mark>"
    )


# --- fragments ----------------------------------------------------------------

FILLER = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. "
LONG = (
    FILLER * 4
    + "One migrant came. "
    + FILLER * 4
    + "The migrant crisis: migrants and more migrants at the border. "
    + FILLER * 4
    + "A migrant left. "
    + FILLER * 4
)


def test_fragment_picks_the_densest_window() -> None:
    spans = match_spans(LONG, "en", query("en", "migrant"))
    assert len(spans) == 5
    (best,) = fragments(LONG, spans, count=1, size=100)
    assert best.text == (
        "adipiscing elit. The migrant crisis: migrants and more migrants at the border. Lorem ipsum"
    )
    assert best.html == (
        "…adipiscing elit. The <mark>migrant</mark> crisis: <mark>migrants</mark> and more "
        "<mark>migrants</mark> at the border. Lorem ipsum…"
    )
    assert LONG[best.start : best.end] == best.text
    assert [LONG[s.start : s.end] for s in best.spans] == ["migrant", "migrants", "migrants"]


def test_fragments_respect_count_size_and_order() -> None:
    spans = match_spans(LONG, "en", query("en", "migrant"))
    frags = fragments(LONG, spans, count=2, size=60)
    assert len(frags) == 2
    assert all(len(f.text) <= 60 for f in frags)
    assert frags[0].end <= frags[1].start
    assert "The migrant crisis" in frags[0].text or "The migrant crisis" in frags[1].text
    assert len(fragments(LONG, spans, count=10, size=60)) == 3
    assert fragments(LONG, spans, count=0) == []


def test_fragments_do_not_cut_words() -> None:
    spans = match_spans(LONG, "en", query("en", "migrant"))
    for f in fragments(LONG, spans, count=3, size=47):
        assert f.start == 0 or not LONG[f.start - 1].isalnum()
        assert f.end == len(LONG) or not LONG[f.end].isalnum()
        assert not f.text[0].isspace() and not f.text[-1].isspace()


def test_fragment_without_spans_is_the_beginning() -> None:
    text = "  Київ — столиця України. " + "Слово " * 50
    (frag,) = fragments(text, [], size=30)
    assert frag == Fragment(
        html="Київ — столиця України. Слово…",
        text="Київ — столиця України. Слово",
        start=2,
        end=31,
        spans=(),
    )
    assert fragments("", []) == []
    assert fragments(" \n ", []) == []


def test_short_text_has_no_ellipsis() -> None:
    text = "Армія <b>&amp;</b>"
    (frag,) = fragments(text, match_spans(text, "uk", query("uk", "армія")))
    assert frag.html == "<mark>Армія</mark> &lt;b&gt;&amp;amp;&lt;/b&gt;"
    assert (frag.start, frag.end) == (0, len(text))


def test_fragments_never_split_characters_without_spaces() -> None:
    text = "e\u0301" * 100 + "👍🏽" * 50 + "🇺🇦" * 50
    for frag in fragments(text, [Span(150, 151)], size=40) + fragments(text, [], size=41):
        assert not _continues(text, frag.start) and not _continues(text, frag.end)
        assert 0 < len(frag.text) <= 60


# --- properties ---------------------------------------------------------------

TEXT = st.text(
    alphabet=st.one_of(
        st.characters(),
        st.sampled_from("<>&\"';= \n\t’ʼ\u0301\u200d🇺🇦🏽"),
        st.sampled_from("армія мигрант war їЁё"),
    ),
    max_size=300,
)


@st.composite
def text_and_spans(draw: st.DrawFn) -> tuple[str, list[Span]]:
    text = draw(TEXT)
    bound = st.integers(min_value=0, max_value=len(text))
    pairs = draw(st.lists(st.tuples(bound, bound), max_size=12))
    return text, [Span(min(a, b), max(a, b)) for a, b in pairs]


def no_markup(markup: str) -> bool:
    return "<" not in re.sub("</?mark>", "", markup)


@settings(max_examples=300, deadline=None)
@given(text_and_spans())
def test_mark_round_trips_and_emits_no_markup(case: tuple[str, list[Span]]) -> None:
    text, spans = case
    out = mark(text, spans)
    assert unmarked(out) == text
    assert no_markup(out)


@settings(max_examples=300, deadline=None)
@given(
    text_and_spans(),
    st.integers(min_value=0, max_value=4),
    st.integers(min_value=1, max_value=120),
)
def test_fragments_round_trip(case: tuple[str, list[Span]], count: int, size: int) -> None:
    text, spans = case
    frags = fragments(text, spans, count=count, size=size)
    assert len(frags) <= max(count, 0)
    if count and text.strip():
        assert frags
    previous_end = 0
    for f in frags:
        assert previous_end <= f.start < f.end <= len(text)
        previous_end = f.end
        assert f.text == text[f.start : f.end]
        before = "…" if text[: f.start].strip() else ""
        after = "…" if text[f.end :].strip() else ""
        assert unmarked(f.html) == before + f.text + after
        assert no_markup(f.html)
        assert not _continues(text, f.start) and not _continues(text, f.end)
        assert all(f.start <= s.start < s.end <= f.end for s in f.spans)


@pytest.mark.parametrize("language", ["uk", "ru", "en", "other"])
@settings(max_examples=150, deadline=None)
@given(text=TEXT, data=st.data())
def test_match_spans_are_sorted_and_in_bounds(
    language: str, text: str, data: st.DataObject
) -> None:
    words = [term for term, _, _ in tokens_with_chars(field_language(language), text)]
    chosen = data.draw(st.lists(st.sampled_from(words), max_size=4) if words else st.just([]))
    phrase = tuple(words[:2])
    prefix = data.draw(st.text(max_size=3))
    match = MatchTerms(frozenset(chosen), (phrase,) if phrase else (), (prefix.lower(),))
    spans = match_spans(text, language, match)
    assert all(0 <= s.start < s.end <= len(text) for s in spans)
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))
    if chosen:
        assert spans
    out = mark(text, spans)
    assert unmarked(out) == text and no_markup(out)


def test_distinct_terms_outrank_repeats() -> None:
    text = "War, war and war. " + FILLER * 4 + "Migrants fled the war. " + FILLER * 4
    spans = match_spans(text, "en", query("en", "war", "migrant"))
    (best,) = fragments(text, spans, count=1, size=30)
    assert best.text == "Migrants fled the war."
    # With the language, inflected forms count as one term: "migrants"/"Migrant" repeat.
    text = "Migrant, migrants. " + FILLER * 4 + "A migrant and a war. " + FILLER * 4
    spans = match_spans(text, "en", query("en", "war", "migrant"))
    (best,) = fragments(text, spans, count=1, size=30, language="en")
    assert best.text == "A migrant and a war. Lorem"
    (best,) = fragments(text, spans, count=1, size=30)
    assert best.text == "Migrant, migrants. Lorem ipsum"
