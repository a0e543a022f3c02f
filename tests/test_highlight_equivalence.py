"""The fast highlighter gives exactly what the straightforward one gave, for every input.

``reference_match_spans`` below is ``match_spans`` as it was before it was made fast (a copy
of its logic): it re-analyzed the whole text through the language's Whoosh analyzer
(``tokens_with_chars``) and walked every token.  The copy lives only here, as the oracle.
Compared: the spans (marked titles and fragments are made from them by unchanged code), on
arbitrary text (Cyrillic, Latin, apostrophe variants, stress marks, markup, emoji, combining
marks) with match terms drawn from the text's own words, and on every article of the real
corpora (skipped when ``../shared/data`` is absent).
"""

from __future__ import annotations

import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import newsearch.search.highlight as highlight
from newsearch.search import analysis
from newsearch.search.analysis import field_language, normalize_apostrophes
from newsearch.search.highlight import MatchTerms, Span, match_spans

# --------------------------------------------------------------------------- the reference

_ELLIPSIS = "…"
_ZWJ = "\u200d"
_APOSTROPHE_CHARS = "'’ʼ`´‘"


def reference_tokens(language: str, text: str) -> list[tuple[str, int, int]]:
    """(position term, start, end) of every word: the whole text through the analyzer (an
    ambiguous word's lemma tokens, which share its characters, joined again)."""
    try:
        words: list[tuple[str, int, int]] = []
        for term, start, end in analysis.tokens_with_chars(language, text):
            if words and words[-1][1:] == (start, end):
                words[-1] = (words[-1][0] + analysis.LEMMA_SEPARATOR + term, start, end)
            else:
                words.append((term, start, end))
        return words
    except ValueError:
        pass
    found = []
    for m in highlight._WORD.finditer(text):
        try:
            term = analysis.terms(language, m.group())[0]
        except (ValueError, IndexError):
            term = normalize_apostrophes(m.group().lower())
        found.append((term, m.start(), m.end()))
    return found


def reference_match_spans(text: str, language: str, match: MatchTerms) -> list[Span]:
    """``match_spans`` as it was: every token of the re-analyzed text, one by one."""
    if not text:
        return []
    lang = field_language(language)
    # Each word as the set of its lemmas; a word matches a query word sharing a lemma.
    tokens = [
        (set(term.split(analysis.LEMMA_SEPARATOR)), start, end)
        for term, start, end in reference_tokens(lang, text)
    ]
    singles = set(match.terms)
    for phrase in match.phrases:
        if len(phrase) == 1:
            singles |= set(phrase[0].split(analysis.LEMMA_SEPARATOR))
    phrases = [
        [set(t.split(analysis.LEMMA_SEPARATOR)) for t in p] for p in match.phrases if len(p) > 1
    ]
    prefixes = tuple({highlight._surface(lang, p) for p in match.prefixes if p})
    found: list[Span] = []
    for i, (lemmas, start, end) in enumerate(tokens):
        if lemmas & singles or (
            prefixes and highlight._surface(lang, text[start:end]).startswith(prefixes)
        ):
            found.append(Span(start, end))
        for words in phrases:
            last = i + len(words) - 1
            if last < len(tokens) and all(tokens[i + k][0] & words[k] for k in range(len(words))):
                found.append(Span(start, tokens[last][2]))
    widened = []
    for span in found:
        start, end = span.start, span.end
        while highlight._continues(text, start):
            start -= 1
        while highlight._continues(text, end):
            end += 1
        widened.append(Span(start, end))
    return highlight._normalized(widened, len(text))


# --------------------------------------------------------------------------- comparing


def assert_same(text: str, language: str, match: MatchTerms) -> list[Span]:
    """Spans agree with the reference (``mark`` and ``fragments`` did not change and take
    the spans, so equal spans give equal marked titles and fragments); spans returned."""
    spans = match_spans(text, language, match)
    expected = reference_match_spans(text, language, match)
    assert spans == expected, (text, language, match)
    return spans


LANGUAGES = ("uk", "ru", "en", "other", "de")
_WORDS_TEXT = (
    "Армії армія Армією армійський бракує зброї Мигранты мигрантов миграция растёт ёлка Ёлка "
    "елка м’ясо мʼясо м'ясо м`ясо зв’язок Зв'язок моло́ко Моло\u0301ко мобілізація мобилизация "
    "war with Russia migrants migrant's don't café cafe\u0301 İstanbul ǅemal ﬁnance naïve "
    "Київ Києва Їжак ґанок x2 2024 COVID-19 U.S. e-mail"
)
WORDS = _WORDS_TEXT.split()
PIECES = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(" \n\t,.;:!?«»—-()[]<>&\"'’ʼ`´‘=/"),
    st.sampled_from(
        ["<script>", "</mark>", "<mark>", "&amp;", "\u0301", "\u200d", "🇺🇦", "🏽", "\r\n", "\ud800"]
    ),
    st.text(max_size=4),
    st.text(alphabet="абвгґдеєжзиіїйклмнопрстуфхцчшщьюяёыэъ'’ʼ ", max_size=8),
)
TEXT = st.lists(PIECES, max_size=60).map("".join)


@st.composite
def case(draw: st.DrawFn) -> tuple[str, str, MatchTerms]:
    """A text, a language and match terms drawn mostly from the text's own words."""
    text = draw(TEXT)
    language = draw(st.sampled_from(LANGUAGES))
    tokens = reference_tokens(field_language(language), text)
    found = [t for t, _, _ in tokens]
    surfaces = [text[s:e] for _, s, e in tokens]
    some_terms = st.sampled_from(found) if found else st.nothing()
    chosen = draw(st.lists(st.one_of(some_terms, st.sampled_from(WORDS)), max_size=4))
    phrases = []
    for _ in range(draw(st.integers(0, 3))):
        if draw(st.booleans()) and found:
            i = draw(st.integers(0, len(found) - 1))
            phrases.append(tuple(found[i : i + draw(st.integers(1, 4))]))
        else:
            phrases.append(tuple(draw(st.lists(st.one_of(some_terms, st.just("war")), max_size=3))))
    prefixes = []
    for _ in range(draw(st.integers(0, 2))):
        if draw(st.booleans()) and surfaces:
            word = draw(st.sampled_from(surfaces))
            prefixes.append(word[: draw(st.integers(0, len(word)))].lower())
        else:
            prefixes.append(draw(st.text(alphabet="мзвarwéё'’\u0301", max_size=3)))
    return text, language, MatchTerms(frozenset(chosen), tuple(phrases), tuple(prefixes))


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case())
def test_same_as_reference_on_arbitrary_text(drawn: tuple[str, str, MatchTerms]) -> None:
    assert_same(*drawn)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200), st.data())
def test_same_as_reference_on_any_characters(text: str, data: st.DataObject) -> None:
    language = data.draw(st.sampled_from(LANGUAGES))
    found = [t for t, _, _ in reference_tokens(field_language(language), text)]
    chosen = data.draw(st.lists(st.sampled_from(found), max_size=3)) if found else []
    phrase = tuple(found[:3])
    prefix = data.draw(st.text(max_size=2)).lower()
    assert_same(text, language, MatchTerms(frozenset(chosen), (phrase,), (prefix,)))


def test_examples_with_every_kind_of_match() -> None:
    text = (
        "М’ясо, мʼясо і м'ясо. Армії бракує зброї; «Армією» — армійський. Моло́ко e café. "
        "The war with Russia; war, Russia. <script>alert('x')</script> 🇺🇦🇺🇦 👍🏽 мобілізація"
    )
    match = MatchTerms(
        frozenset({"м'ясо", "армія", "war"}),
        (("war", "with", "russia"), ("молоко",), ("зброя", "армія")),
        ("мобіл", "caf", "зб"),
    )
    for language in LANGUAGES:
        assert_same(text, language, match)
    assert match_spans(text, "uk", match)  # the example does match something


def _corpus_matches(language: str, text: str, rng: random.Random) -> list[MatchTerms]:
    """Match terms as queries would give them: words, phrases and prefixes of the text itself,
    plus its most frequent term (many spans)."""
    tokens = reference_tokens(language, text)
    if not tokens:
        return [MatchTerms(frozenset({"war"}), ())]
    found = [t for t, _, _ in tokens]
    i = rng.randrange(len(found))
    surface = text[tokens[i][1] : tokens[i][2]]
    frequent = Counter(found).most_common(1)[0][0]
    return [
        MatchTerms(frozenset(rng.sample(found, min(3, len(found)))), ()),
        MatchTerms(frozenset({frequent}), (tuple(found[i : i + 2]), tuple(found[i : i + 3]))),
        MatchTerms(frozenset(), (), (surface[:3].lower(),)),
    ]


@pytest.mark.corpus
@pytest.mark.parametrize("corpus", ["bbc", "ner-uk", "factrueval"])
def test_same_as_reference_on_real_articles(corpus: str) -> None:
    from bench import corpora

    corpora.require_shared()
    articles, language = {
        "bbc": (corpora.bbc_articles, "en"),
        "ner-uk": (corpora.ner_uk_articles, "uk"),
        "factrueval": (corpora.factrueval_articles, "ru"),
    }[corpus]
    rng = random.Random(corpus)
    marked = 0
    for article in articles():
        for match in _corpus_matches(language, article.title + " " + article.body, rng):
            assert_same(article.title, language, match)
            marked += bool(assert_same(article.body, language, match))
    assert marked > len(articles())


def test_concurrent_calls() -> None:
    # The term caches are shared by every thread.
    rng = random.Random(7)
    texts = [" ".join(rng.choices(WORDS, k=40)) for _ in range(40)]
    match = MatchTerms(frozenset({"армія", "war", "м'ясо"}), (("war", "with"), ("армія", "армія")))
    cases = [(t, lang) for t in texts for lang in ("uk", "ru", "en")]
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda c: match_spans(c[0], c[1], match), cases * 3))
    assert got == [reference_match_spans(t, lang, match) for t, lang in cases * 3]
