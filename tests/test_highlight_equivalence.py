"""The fast highlighter gives exactly what the straightforward one gave, for every input.

``reference_*`` below is the highlighter as it was before it was made fast (a verbatim copy of
its logic): ``match_spans`` re-analyzed the whole text through the language's Whoosh analyzer
(``tokens_with_chars``) and walked every token.  The copy lives only here, as the oracle;
``bench/highlight_bench.py`` times it against ``search.highlight``.  Compared: spans, marked
titles and fragments, on arbitrary text (Cyrillic, Latin, apostrophe variants, stress marks,
markup, emoji, combining marks) with match terms drawn from the text's own words, and on every
article of the real corpora (skipped when ``../shared/data`` is absent).
"""

from __future__ import annotations

import bisect
import html
import random
import unicodedata
from collections import Counter
from collections.abc import Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import search.highlight as highlight
from search import analysis
from search.analysis import field_language, fold, normalize_apostrophes
from search.highlight import Fragment, MatchTerms, Span, fragments, mark, match_spans

# --------------------------------------------------------------------------- the reference

_ELLIPSIS = "…"
_ZWJ = "\u200d"
_APOSTROPHE_CHARS = "'’ʼ`´‘"


def _ref_surface(language: str, word: str) -> str:
    word = normalize_apostrophes(word.lower())
    if language == "ru":
        return word.replace("ё", "е")
    return fold(word) if language == "other" else word


def _ref_continues(text: str, p: int) -> bool:
    if p <= 0 or p >= len(text):
        return False
    c, prev = text[p], text[p - 1]
    if unicodedata.category(c).startswith("M") or _ZWJ in (c, prev):
        return True
    if "\U0001f3fb" <= c <= "\U0001f3ff" or "\U000e0020" <= c <= "\U000e007f":
        return True
    if ("\ud800" <= prev <= "\udbff" and "\udc00" <= c <= "\udfff") or prev + c == "\r\n":
        return True
    if "\U0001f1e6" <= c <= "\U0001f1ff":
        run = 0
        while p - run - 1 >= 0 and "\U0001f1e6" <= text[p - run - 1] <= "\U0001f1ff":
            run += 1
        return run % 2 == 1
    return False


def _ref_normalized(spans: Sequence[Span], n: int) -> list[Span]:
    clipped = sorted((max(0, s.start), min(n, s.end)) for s in spans)
    merged: list[list[int]] = []
    for start, end in clipped:
        if start >= end:
            continue
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [Span(s, e) for s, e in merged]


def reference_tokens(language: str, text: str) -> list[tuple[str, int, int]]:
    """(term, start, end) of every word: the whole text through the analyzer."""
    try:
        return list(analysis.tokens_with_chars(language, text))
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
    tokens = reference_tokens(lang, text)
    singles = set(match.terms) | {p[0] for p in match.phrases if len(p) == 1}
    by_first: dict[str, list[tuple[str, ...]]] = {}
    for phrase in match.phrases:
        if len(phrase) > 1:
            by_first.setdefault(phrase[0], []).append(phrase)
    prefixes = tuple({_ref_surface(lang, p) for p in match.prefixes if p})
    found: list[Span] = []
    for i, (term, start, end) in enumerate(tokens):
        if term in singles or (
            prefixes and _ref_surface(lang, text[start:end]).startswith(prefixes)
        ):
            found.append(Span(start, end))
        for phrase in by_first.get(term, ()):
            last = i + len(phrase) - 1
            if last < len(tokens) and all(
                tokens[i + k][0] == phrase[k] for k in range(1, len(phrase))
            ):
                found.append(Span(start, tokens[last][2]))
    widened = []
    for span in found:
        start, end = span.start, span.end
        while _ref_continues(text, start):
            start -= 1
        while _ref_continues(text, end):
            end += 1
        widened.append(Span(start, end))
    return _ref_normalized(widened, len(text))


def reference_mark(text: str, spans: Sequence[Span]) -> str:
    """``mark`` as it was."""
    out: list[str] = []
    pos = 0
    for span in _ref_normalized(spans, len(text)):
        out += (html.escape(text[pos : span.start]), "<mark>")
        out += (html.escape(text[span.start : span.end]), "</mark>")
        pos = span.end
    out.append(html.escape(text[pos:]))
    return "".join(out)


class _RefCutter:
    def __init__(self, text: str, spans: list[Span]) -> None:
        self.text = text
        self.starts = [s.start for s in spans]
        self.ends = [s.end for s in spans]

    def _wordish(self, c: str) -> bool:
        return c.isalnum() or c == "_" or c in _APOSTROPHE_CHARS

    def ok(self, p: int, tier: int) -> bool:
        text = self.text
        if p <= 0 or p >= len(text):
            return True
        i = bisect.bisect_left(self.starts, p) - 1
        if (i >= 0 and self.ends[i] > p) or _ref_continues(text, p):
            return False
        if tier == 0:
            return text[p - 1].isspace() or text[p].isspace()
        return tier == 2 or not (self._wordish(text[p - 1]) and self._wordish(text[p]))

    def snap(self, pos: int, trim_to: int, extend_to: int, hard_to: int) -> int:
        trim = 1 if trim_to >= pos else -1
        extend = 1 if extend_to >= pos else -1
        for tier in range(3):
            for p in range(pos, trim_to + trim, trim):
                if self.ok(p, tier):
                    return p
            for p in range(pos + extend, extend_to + extend, extend):
                if self.ok(p, tier):
                    return p
        for p in range(extend_to, hard_to + extend, extend):
            if self.ok(p, 2):
                return p
        return hard_to

    def strip(self, start: int, end: int, keep_start: int, keep_end: int) -> tuple[int, int]:
        text = self.text
        while start < keep_start and text[start].isspace() and self.ok(start + 1, 2):
            start += 1
        while end > keep_end and text[end - 1].isspace() and self.ok(end - 1, 2):
            end -= 1
        return start, end


def _ref_fragment(text: str, start: int, end: int, spans: Sequence[Span]) -> Fragment:
    inside = tuple(
        Span(max(s.start, start), min(s.end, end)) for s in spans if s.start < end and s.end > start
    )
    body = reference_mark(text[start:end], [Span(s.start - start, s.end - start) for s in inside])
    before = _ELLIPSIS if text[:start].strip() else ""
    after = _ELLIPSIS if text[end:].strip() else ""
    return Fragment(before + body + after, text[start:end], start, end, inside)


def _ref_gaps(windows: list[tuple[int, int]], n: int) -> list[tuple[int, int]]:
    edges = [0, *(p for w in sorted(windows) for p in w), n]
    return [(edges[i], edges[i + 1]) for i in range(0, len(edges), 2)]


def reference_fragments(
    text: str,
    spans: Sequence[Span],
    count: int = 3,
    size: int = 160,
    *,
    language: str | None = None,
) -> list[Fragment]:
    """``fragments`` as it was."""
    n = len(text)
    if count <= 0 or not text.strip():
        return []
    size = max(1, size)
    clean = _ref_normalized(spans, n)
    cutter = _RefCutter(text, clean)
    extra = max(8, size // 8)
    if not clean:
        first = len(text) - len(text.lstrip())
        while not cutter.ok(first, 2):
            first -= 1
        target = min(n, first + size)
        end = cutter.snap(target, first + 1, min(n, target + extra), n)
        return [_ref_fragment(text, *cutter.strip(first, end, first, first + 1), [])]

    def key(span: Span) -> Hashable:
        word = text[span.start : span.end]
        if language is not None:
            return tuple(analysis.terms(language, word))
        return normalize_apostrophes(word.casefold())

    keys = {s: key(s) for s in clean}
    windows: list[tuple[int, int]] = []
    for _ in range(count):
        best: tuple[tuple[int, int], int, int, int, int] | None = None
        for lo, hi in _ref_gaps(windows, n):
            free = [s for s in clean if s.start >= lo and s.end <= hi]
            seen: Counter[Hashable] = Counter()
            j = 0
            for i, anchor in enumerate(free):
                while j < len(free) and (j == i or free[j].end - anchor.start <= size):
                    seen[keys[free[j]]] += 1
                    j += 1
                score = (len(seen), j - i)
                if best is None or score > best[0]:
                    best = (score, anchor.start, free[j - 1].end, lo, hi)
                seen[keys[anchor]] -= 1
                if not seen[keys[anchor]]:
                    del seen[keys[anchor]]
        if best is None:
            break
        _, a, b, lo, hi = best
        slack = max(0, size - (b - a))
        start, end = a - slack // 2, b + slack - slack // 2
        if start < lo:
            start, end = lo, min(hi, end + lo - start)
        if end > hi:
            start, end = max(lo, start - (end - hi)), hi
        start = cutter.snap(start, a, max(lo, start - extra), lo)
        end = cutter.snap(end, b, min(hi, end + extra), hi)
        windows.append(cutter.strip(start, end, a, b))
    return [_ref_fragment(text, s, e, clean) for s, e in sorted(windows)]


# --------------------------------------------------------------------------- comparing


def assert_same(
    text: str,
    language: str,
    match: MatchTerms,
    count: int = 3,
    size: int = 160,
    fragment_language: str | None = None,
) -> list[Span]:
    """Spans, marked text and fragments agree with the reference; the spans are returned."""
    spans = match_spans(text, language, match)
    expected = reference_match_spans(text, language, match)
    assert spans == expected, (text, language, match)
    assert mark(text, spans) == reference_mark(text, expected)
    got = fragments(text, spans, count, size, language=fragment_language)
    assert got == reference_fragments(text, expected, count, size, language=fragment_language)
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
@given(case(), st.integers(0, 4), st.integers(1, 200), st.booleans())
def test_same_as_reference_on_arbitrary_text(
    drawn: tuple[str, str, MatchTerms], count: int, size: int, with_language: bool
) -> None:
    text, language, match = drawn
    assert_same(text, language, match, count, size, language if with_language else None)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200), st.data())
def test_same_as_reference_on_any_characters(text: str, data: st.DataObject) -> None:
    language = data.draw(st.sampled_from(LANGUAGES))
    found = [t for t, _, _ in reference_tokens(field_language(language), text)]
    chosen = data.draw(st.lists(st.sampled_from(found), max_size=3)) if found else []
    phrase = tuple(found[:3])
    prefix = data.draw(st.text(max_size=2)).lower()
    assert_same(text, language, MatchTerms(frozenset(chosen), (phrase,), (prefix,)))


@settings(max_examples=300, deadline=None)
@given(TEXT, st.lists(st.tuples(st.integers(-5, 400), st.integers(-5, 400)), max_size=12))
def test_mark_and_fragments_same_for_any_spans(text: str, pairs: list[tuple[int, int]]) -> None:
    spans = [Span(a, b) for a, b in pairs]
    assert mark(text, spans) == reference_mark(text, spans)
    for count, size in ((1, 20), (3, 160), (2, 7)):
        assert fragments(text, spans, count, size) == reference_fragments(text, spans, count, size)


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
        assert_same(text, language, match, 2, 30, language)
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
    from tests import corpora

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
            assert_same(article.title, language, match, 1, 160)
            marked += bool(assert_same(article.body, language, match, 3, 160))
    assert marked > len(articles())


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_continues_same_as_reference(text: str) -> None:
    for p in range(-1, len(text) + 2):
        assert highlight._continues(text, p) == _ref_continues(text, p)


def test_concurrent_calls() -> None:
    # The term caches are shared by every thread.
    rng = random.Random(7)
    texts = [" ".join(rng.choices(WORDS, k=40)) for _ in range(40)]
    match = MatchTerms(frozenset({"армія", "war", "м'ясо"}), (("war", "with"), ("армія", "армія")))
    cases = [(t, lang) for t in texts for lang in ("uk", "ru", "en")]
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda c: match_spans(c[0], c[1], match), cases * 3))
    assert got == [reference_match_spans(t, lang, match) for t, lang in cases * 3]
