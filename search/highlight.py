"""Hit highlighting: find query matches in an article and cut marked-up snippets.

``match_spans`` finds where the analyzed query terms, phrases and prefixes
occur in the original text (by re-analyzing it with the article's language
analyzer), ``mark`` wraps spans in ``<mark>`` and ``fragments`` picks the best
windows of text around the matches. Everything except our own ``<mark>`` and
``</mark>`` tags is HTML-escaped, so article text can never inject markup.
"""

from __future__ import annotations

import bisect
import html
import unicodedata
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from operator import methodcaller

from newsearch.search.analysis import (
    LEMMA_SEPARATOR,
    field_language,
    fold,
    lemmas_of,
    normalize_apostrophes,
    split_words,
    terms,
    word_term,
    word_terms,
)
from newsearch.search.exact import EXACT_MARK, marked
from newsearch.search.names import name_positions

ELLIPSIS = "…"
_OPEN, _CLOSE = "<mark>", "</mark>"
_ZWJ = "\u200d"
_APOSTROPHE_CHARS = "'’ʼ`´‘"
_AMBIGUOUS = methodcaller("__contains__", LEMMA_SEPARATOR)
"""Whether a position term has several lemmas."""


@dataclass(frozen=True)
class Span:
    """A highlighted range ``[start, end)`` of character offsets into the original text."""

    start: int
    end: int


@dataclass(frozen=True)
class Fragment:
    """A snippet: ``text`` is ``original[start:end]``; ``html`` is escaped, with marks.

    ``html`` gets a leading/trailing ``…`` when text was left out before/after the
    window; ``spans`` are the matches inside the window, in original-text offsets.
    """

    html: str
    text: str
    start: int
    end: int
    spans: tuple[Span, ...]


@dataclass(frozen=True)
class MatchTerms:
    """What to highlight, already analyzed with the article's language analyzer."""

    terms: frozenset[str]
    """Single index terms (lemmas) to mark wherever a word has one of them, and exact words'
    forms (``exact.marked``: ``EXACT_MARK`` and the form) to mark where a word has it."""
    phrases: tuple[tuple[str, ...], ...]
    """Position-term sequences (``analysis.terms`` of a phrase, an exact word's form in its
    place), marked only where consecutive words share a lemma (or form) with each of them."""
    prefixes: tuple[str, ...] = ()
    """Lower-cased raw prefixes: a word whose normalized surface form starts with one is marked."""
    names: frozenset[str] = frozenset()
    """Name keys (``names.py``): a word the names field holds with one of them is marked (a
    Latin query word's Cyrillic spelling in the text)."""


def _surface(language: str, word: str) -> str:
    """The comparable surface form of a word: lower-cased, apostrophes unified.

    Russian also folds ё to е and ``other`` drops accents, like their analyzers.
    """
    word = normalize_apostrophes(word.lower())
    if language == "ru":
        return word.replace("ё", "е")
    return fold(word) if language == "other" else word


def _continues(text: str, p: int) -> bool:
    """Whether ``text[p]`` belongs to the same user-perceived character as ``text[p - 1]``.

    An approximation of grapheme clusters: combining marks, ZWJ sequences, emoji
    modifiers and tags, surrogate pairs, CR LF and regional-indicator pairs.
    """
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


def _normalized(spans: Sequence[Span], n: int) -> list[Span]:
    """Spans clipped to ``[0, n]``, empty ones dropped, sorted, overlapping ones merged."""
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


def _terms(language: str, words: list[str]) -> list[str]:
    """The term of each word: what ``tokens_with_chars`` gives, without offsets.

    Each word's term comes from the analyzer through ``word_terms``' cache, so an
    article is highlighted without running its whole body through the pipeline.
    pymorphy3 raises ValueError on letters without a Unicode name (Tangut on
    Python 3.11); such a word keeps its lower-cased surface form as term.
    """
    try:
        return word_terms(language, words)
    except ValueError:
        pass
    found = []
    for word in words:
        try:
            found.append(word_term(language, word))
        except ValueError:
            found.append(normalize_apostrophes(word.lower()))
    return found


def _named(language: str, parts: list[str], terms: list[str], names: frozenset[str]) -> list[int]:
    """The indexes of the words the names field holds (``name_positions``: not a common
    word that starts a sentence) whose name keys include one of ``names``."""
    return [
        i
        for i, keys in enumerate(name_positions(language, parts, terms))
        if keys and not names.isdisjoint(keys.split(LEMMA_SEPARATOR))
    ]


def match_spans(text: str, language: str, match: MatchTerms) -> list[Span]:
    """Where ``match`` occurs in ``text``: sorted, non-overlapping spans.

    Each matching word is one span (extended over trailing combining marks); a
    phrase is one span from its first word's start to its last word's end.
    Overlapping matches are merged.
    """
    if not text:
        return []
    lang = field_language(language)
    # [gap, word, gap, word, ..., gap]: the words, and their offsets by summing lengths.
    parts = split_words(text)
    terms_ = _terms(lang, parts[1::2])
    singles = set(match.terms)
    by_first: dict[str, list[tuple[frozenset[str], ...]]] = {}
    for phrase in match.phrases:
        if len(phrase) == 1:
            singles.update(lemmas_of(phrase[0]))
        elif phrase:
            sets = tuple(frozenset(lemmas_of(t)) for t in phrase)
            for first in sets[0]:
                by_first.setdefault(first, []).append(sets)
    prefixes = tuple({_surface(lang, p) for p in match.prefixes if p})
    wanted = singles | by_first.keys()
    # The words' distinct position terms that hold a wanted lemma (an ambiguous word's
    # term holds several): offsets are found only for texts with one.
    unique = set(terms_)
    hit = unique & wanted
    for t in filter(_AMBIGUOUS, unique):  # the filter runs in C: most words are not
        if not wanted.isdisjoint(t.split(LEMMA_SEPARATOR)):
            hit.add(t)
    # Exact words are marked by their form (``exact.marked``), looked at only when asked:
    # by a single term, or by any word of a phrase (``"у =Львові"``: its second word).
    exact_asked = any(EXACT_MARK in w for w in singles) or any(
        EXACT_MARK in t for phrase in match.phrases for t in phrase
    )
    forms = [marked(w) for w in parts[1::2]] if exact_asked else []
    exact_hit = {i for i, form in enumerate(forms) if form in wanted}
    named = _named(lang, parts, terms_, match.names) if match.names else []
    if not prefixes and not hit and not named and not exact_hit:
        return []
    ends = list(accumulate(map(len, parts)))
    found: list[Span] = [Span(ends[2 * i], ends[2 * i + 1]) for i in named]
    # Without prefixes only the words with a wanted lemma or form need a look.
    candidates = (
        range(len(terms_))
        if prefixes
        else [i for i, t in enumerate(terms_) if t in hit or i in exact_hit]
    )

    def keys(i: int) -> list[str]:
        """The lemmas of word ``i``, and its form when exact words are marked."""
        return [*lemmas_of(terms_[i]), forms[i]] if forms else lemmas_of(terms_[i])

    for i in candidates:
        term = terms_[i]
        start, end = ends[2 * i], ends[2 * i + 1]
        if term not in hit and i not in exact_hit:  # a prefix may still match it
            if _surface(lang, text[start:end]).startswith(prefixes):
                found.append(Span(start, end))
            continue
        lemmas = keys(i)
        if not singles.isdisjoint(lemmas) or (
            prefixes and _surface(lang, text[start:end]).startswith(prefixes)
        ):
            found.append(Span(start, end))
        seen: set[int] = set()
        for first in lemmas:
            for words_ in by_first.get(first, ()):
                if id(words_) in seen:
                    continue
                seen.add(id(words_))
                last = i + len(words_) - 1
                if last < len(terms_) and all(
                    not words_[k].isdisjoint(keys(i + k)) for k in range(1, len(words_))
                ):
                    found.append(Span(start, ends[2 * last + 1]))
    widened = []
    for span in found:
        start, end = span.start, span.end
        while _continues(text, start):
            start -= 1
        while _continues(text, end):
            end += 1
        widened.append(Span(start, end))
    return _normalized(widened, len(text))


def mark(text: str, spans: Sequence[Span]) -> str:
    """``text`` HTML-escaped, with each span wrapped in ``<mark>...</mark>``.

    Spans are clipped to the text; overlapping spans are merged.
    """
    out: list[str] = []
    pos = 0
    for span in _normalized(spans, len(text)):
        out += (html.escape(text[pos : span.start]), _OPEN)
        out += (html.escape(text[span.start : span.end]), _CLOSE)
        pos = span.end
    out.append(html.escape(text[pos:]))
    return "".join(out)


class _Cutter:
    """Chooses window boundaries in one text that cut no word, span or character."""

    def __init__(self, text: str, spans: list[Span]) -> None:
        self.text = text
        self.starts = [s.start for s in spans]
        self.ends = [s.end for s in spans]

    def _wordish(self, c: str) -> bool:
        return c.isalnum() or c == "_" or c in _APOSTROPHE_CHARS

    def ok(self, p: int, tier: int) -> bool:
        """Whether a window may begin or end at ``p``: tier 0 needs whitespace
        beside ``p``, tier 1 a non-word character, tier 2 only a character boundary."""
        text = self.text
        if p <= 0 or p >= len(text):
            return True
        i = bisect.bisect_left(self.starts, p) - 1
        if (i >= 0 and self.ends[i] > p) or _continues(text, p):
            return False
        if tier == 0:
            return text[p - 1].isspace() or text[p].isspace()
        return tier == 2 or not (self._wordish(text[p - 1]) and self._wordish(text[p]))

    def snap(self, pos: int, trim_to: int, extend_to: int, hard_to: int) -> int:
        """The best boundary near ``pos``: first trimming towards ``trim_to``, then
        extending towards ``extend_to``; failing all tiers, the nearest character
        boundary towards ``hard_to`` (a boundary already)."""
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
        """Drop whitespace at the window's edges, keeping ``[keep_start, keep_end)``."""
        text = self.text
        while start < keep_start and text[start].isspace() and self.ok(start + 1, 2):
            start += 1
        while end > keep_end and text[end - 1].isspace() and self.ok(end - 1, 2):
            end -= 1
        return start, end


def _fragment(text: str, start: int, end: int, spans: Sequence[Span]) -> Fragment:
    """The fragment for window ``[start, end)`` of ``text``."""
    inside = tuple(
        Span(max(s.start, start), min(s.end, end)) for s in spans if s.start < end and s.end > start
    )
    body = mark(text[start:end], [Span(s.start - start, s.end - start) for s in inside])
    before = ELLIPSIS if text[:start].strip() else ""
    after = ELLIPSIS if text[end:].strip() else ""
    return Fragment(before + body + after, text[start:end], start, end, inside)


def _gaps(windows: list[tuple[int, int]], n: int) -> list[tuple[int, int]]:
    """The free stretches of ``[0, n]`` between the chosen (sorted) windows."""
    edges = [0, *(p for w in sorted(windows) for p in w), n]
    return [(edges[i], edges[i + 1]) for i in range(0, len(edges), 2)]


def fragments(
    text: str,
    spans: Sequence[Span],
    count: int = 3,
    size: int = 160,
    *,
    language: str | None = None,
) -> list[Fragment]:
    """Up to ``count`` non-overlapping snippets of about ``size`` characters, in document order.

    Windows are chosen greedily around the clusters of spans with the most
    distinct matched words, then the most matches; a word is told apart by its
    analyzed terms when ``language`` is given, otherwise by its lower-cased
    surface form. Window edges are moved to whitespace (failing that, to a
    non-word character, failing that, to a character boundary) and never cut a
    span. Without spans the text's beginning is returned, unmarked; blank text
    gives ``[]``.
    """
    n = len(text)
    if count <= 0 or not text.strip():
        return []
    size = max(1, size)
    clean = _normalized(spans, n)
    cutter = _Cutter(text, clean)
    extra = max(8, size // 8)
    if not clean:
        first = len(text) - len(text.lstrip())
        while not cutter.ok(first, 2):
            first -= 1
        target = min(n, first + size)
        end = cutter.snap(target, first + 1, min(n, target + extra), n)
        return [_fragment(text, *cutter.strip(first, end, first, first + 1), [])]

    def key(span: Span) -> Hashable:
        word = text[span.start : span.end]
        if language is not None:
            return tuple(terms(language, word))
        return normalize_apostrophes(word.casefold())

    keys = {s: key(s) for s in clean}
    windows: list[tuple[int, int]] = []
    for _ in range(count):
        best: tuple[tuple[int, int], int, int, int, int] | None = None
        for lo, hi in _gaps(windows, n):
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
    return [_fragment(text, s, e, clean) for s, e in sorted(windows)]
