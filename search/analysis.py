"""Per-language analyzers, defined once and used at index time and at query time.

Each analyzer is a pipeline of small parts (tokenizer | filters), our own types shaped like
Whoosh's (the Whoosh schema holds them through an adapter in ``storage/whoosh.py``)::

    uk:    words | apostrophes | Ukrainian lemmas (pymorphy3) | one token per lemma
    ru:    words | apostrophes | ё->е | Russian lemmas (pymorphy3) | one token per lemma
    en:    words | apostrophes | lowercase | Snowball English
    other: words | apostrophes | lowercase | Unicode folding (accents dropped)

An ambiguous Ukrainian or Russian word has every plausible lemma (``lemmas``):
Києві -> київ and кий.  A word's analysis is then one *position term*, its lemmas
joined by LEMMA_SEPARATOR (a character no word contains), so that every memo and
numbering keyed by a word's term keeps one string per word; the last filter
(``SplitLemmas``) and ``TermsText`` turn it into one token per lemma at the word's
position (phrases still work), and ``lemmas_of`` splits it where terms are looked up.
The lemma filters see the word's case (a capitalized word is name-like).

The lemma and stem filters are marked ``is_morph`` (Whoosh's name for filters that change a
word's form).
Per-token results are cached: news vocabulary is Zipf-distributed, so a small
cache answers most tokens.  Every filter here acts on one token alone and says so
with a ``word`` method; ``word_term`` composes those for a single word, without
the pipeline's Token and generator per filter (a quarter of analyzing a new word).

Whoosh pickles each field's analyzer into an index by class path: generations built before
these types were our own hold Whoosh's ``CompositeAnalyzer`` and ``RegexTokenizer`` around
the filters below, which unpickle into these classes (their state is their ``__dict__``) and
act on Whoosh's tokens alike (they read and set only ``text`` and ``stopped``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from functools import cache, lru_cache
from typing import Any, Generic, TypeVar

from newsearch.search.pipeline import Filter, Filters, Pipeline, RegexTokenizer, Tokenizer, Tokens

__all__ = ["Pipeline", "RegexTokenizer", "Tokens"]

LANGUAGES: tuple[str, ...] = ("uk", "ru", "en", "other")
"""Languages with their own fields; any other detected language is analyzed as ``other``."""

# A word is a run of letters/digits, optionally joined by apostrophes (м’ясо, don't).
# Combining marks belong to their word (stressed моло́ко, decomposed café).
_LETTER = r"[\w\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"
WORD_PATTERN = rf"{_LETTER}+(?:['’ʼ`´‘]{_LETTER}+)*"
# Apostrophes unify to ASCII; the combining acute (stress marks in Cyrillic texts) is dropped.
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "`": "'", "´": "'", "‘": "'", "\u0301": None})
TAG_SEPARATOR = "\x1f"
"""Joins an article's tags into one text value for the tags fields."""
TAG_POSITION_GAP = 100
"""Positions skipped between tags, so that no phrase matches across two tags."""

_CACHE_SIZE = 262_144
LEMMA_SEPARATOR = "\x1e"
"""Joins the lemmas of an ambiguous word into its position term (never inside a word)."""
ANALYSIS_VERSION = 4
"""Changes whenever a word's terms change.  A generation records the version it was analyzed
with; one analyzed otherwise is served with a warning to rebuild it (see reader), and writes
to it are refused (newsearch.indexer.build.OutdatedAnalysis).  It also covers the fields made from
the terms (the names field's keys, the ``exact`` field of ``exact.py``)."""


def field_language(language: str) -> str:
    """The analyzer language for an article language code (``de`` -> ``other``)."""
    return language if language in LANGUAGES else "other"


def normalize_apostrophes(text: str) -> str:
    """Unify the apostrophe variants (’ ʼ ` ´ ‘) to ASCII ``'`` and drop stress marks."""
    return text.translate(_APOSTROPHES)


class WordFilter(Filter):
    """A filter that maps each token's text on its own: ``word`` is the whole filter."""

    def word(self, text: str) -> str:
        """The token text this filter makes of ``text``."""
        raise NotImplementedError

    def __call__(self, tokens: Tokens) -> Tokens:
        word = self.word
        for t in tokens:
            if not t.stopped:
                t.text = word(t.text)
            yield t


class ApostropheFilter(WordFilter):
    """Unifies apostrophe variants, so м’ясо, мʼясо and м'ясо are one term."""

    def word(self, text: str) -> str:
        """``text`` with ASCII apostrophes and no stress marks."""
        return normalize_apostrophes(text)


class Lowercase(WordFilter):
    """Whoosh's ``LowercaseFilter`` (``str.lower``), with its ``word``."""

    def word(self, text: str) -> str:
        """``text`` lower-cased."""
        return text.lower()


class YoFilter(WordFilter):
    """Folds Russian ё to е (analysis 1's Russian chain).  Kept for indexes built by earlier
    versions: Whoosh pickles each field's analyzer into the index, and their schemas name this
    class (without it, such an index cannot be opened at all)."""

    def word(self, text: str) -> str:
        """``text`` with ё written е."""
        return text.replace("ё", "е") if "ё" in text else text


@cache
def _stemmer(language: str) -> Any:
    import Stemmer

    return Stemmer.Stemmer(language)


@lru_cache(maxsize=_CACHE_SIZE)
def stem(language: str, word: str) -> str:
    """Snowball stem of one lower-cased word (cached)."""
    return str(_stemmer(language).stemWord(word))


@cache
def morph(language: str) -> Any:
    import pymorphy3

    return pymorphy3.MorphAnalyzer(lang=language)


_PROPER = frozenset({"Name", "Surn", "Patr", "Geox", "Orgn"})
"""pymorphy3's grammemes of proper nouns: names, surnames, patronymics, places, organizations."""
_PLAUSIBLE = 0.3
"""A lemma is plausible when its best parse scores at least this fraction of the best parse
(Russian scores parses by corpus frequency; the Ukrainian dictionary scores all parses 1)."""
_MAX_LEMMAS = 4


def lemmas_of(term: str) -> list[str]:
    """The index terms of one position term (its lemmas; usually the term itself)."""
    return term.split(LEMMA_SEPARATOR) if LEMMA_SEPARATOR in term else [term]


@lru_cache(maxsize=4096)
def tag_kind(tag: Any) -> tuple[bool, bool, bool]:
    """(proper noun, noun, abbreviation) for a pymorphy3 tag (a few thousand tags exist;
    their grammemes are computed on each access)."""
    grammemes = tag.grammemes
    return not _PROPER.isdisjoint(grammemes), "NOUN" in grammemes, "Abbr" in grammemes


def _choose(parses: list[Any], name_like: bool, abbreviation: bool) -> list[str]:
    """The plausible lemmas of a word's parses, best first.

    Every lemma whose best parse scores at least ``_PLAUSIBLE`` of the best parse is kept
    (Лавров -> лавров; лавр, the genitive plural of "laurel", scores 0.25 of it).  A
    proper-noun reading is never lost to common ones: if no kept lemma is a proper noun,
    the best proper-noun lemma is added.  A name-like word (capitalized) with a proper-noun
    reading drops lemmas of other parts of speech (Лаврова -> лавров, лаврова, not the
    adjective лавровий); an all-caps word read as an abbreviation keeps only that reading
    (НАТО -> нато, not the vocative of the name Ната).
    """
    kinds = [tag_kind(p.tag) for p in parses]
    if abbreviation and any(kind[2] for kind in kinds):
        parses = [p for p, kind in zip(parses, kinds, strict=True) if kind[2]]
        kinds = [kind for kind in kinds if kind[2]]
    best: dict[str, float] = {}
    proper: dict[str, float] = {}
    nouns: set[str] = set()
    for p, (is_proper, is_noun, _) in zip(parses, kinds, strict=True):
        form = p.normal_form
        if "'" in form or "’" in form or "ʼ" in form:
            form = normalize_apostrophes(form)
        score = p.score
        if score > best.get(form, -1.0):
            best[form] = score
        if is_proper and score > proper.get(form, -1.0):
            proper[form] = score
        if is_noun:
            nouns.add(form)
    top = max(best.values())
    kept = [f for f, score in best.items() if score >= _PLAUSIBLE * top]
    if name_like and proper:
        kept = [f for f in kept if f in nouns or f in proper]
    if proper and proper.keys().isdisjoint(kept[:_MAX_LEMMAS]):
        # The best proper-noun lemma takes the last place, whatever the cut leaves out.
        kept = [*kept[: _MAX_LEMMAS - 1], max(proper, key=proper.__getitem__)]
    return kept[:_MAX_LEMMAS]


@lru_cache(maxsize=_CACHE_SIZE)
def lemma(language: str, word: str) -> str:
    """The position term of one word (case kept): its plausible lemmas (cached).

    pymorphy3 guesses unknown words from their endings; words with digits are kept as
    they are (lower-cased), Latin words get the English stemmer.
    """
    lower = word.lower()
    if lower.isascii():
        # Latin words in Ukrainian and Russian texts (tags, names) are mostly English.
        return stem("english", lower) if lower.isalpha() else lower
    if language == "ru" and "ё" in lower:
        lower = lower.replace("ё", "е")
    if not lower.replace("'", "").isalpha():
        return lower
    try:
        parses = morph(language).parse(lower)
    except ValueError:  # pymorphy3 calls unicodedata.name(), which fails on some scripts
        return lower
    if not parses:
        return lower
    upper = word.isupper()
    name_like = word[:1].isupper() and not upper
    chosen = LEMMA_SEPARATOR.join(_choose(parses, name_like, upper and len(word) > 1)) or lower
    # pymorphy3 writes Russian lemmas with ё (ёлка), texts mostly with е.
    return chosen.replace("ё", "е") if language == "ru" else chosen


def _stem_language(language: str, word: str) -> str:
    # English words inside Russian texts (tags, quotes) get the English stemmer.
    return "english" if language != "english" and word.isascii() else language


class SnowballFilter(WordFilter):
    """Snowball stemming (PyStemmer) for one language."""

    is_morph = True

    def __init__(self, language: str) -> None:
        self.language = language

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SnowballFilter) and other.language == self.language

    def __hash__(self) -> int:
        return hash(("snowball", self.language))

    def word(self, text: str) -> str:
        """The stem of ``text``."""
        return stem(_stem_language(self.language, text), text)


class LemmaFilter(WordFilter):
    """Dictionary forms (pymorphy3) for one language: армії -> армія, Києві -> київ + кий
    (one position term; the word is lower-cased here, after its case was looked at)."""

    is_morph = True

    def __init__(self, language: str) -> None:
        self.language = language

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LemmaFilter) and other.language == self.language

    def __hash__(self) -> int:
        return hash(("lemma", self.language))

    def word(self, text: str) -> str:
        """The position term of ``text``: its lemmas joined by LEMMA_SEPARATOR."""
        return lemma(self.language, text)


class SplitLemmas(Filter):
    """One token per lemma of a position term, all at the word's position and characters."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SplitLemmas)

    def __hash__(self) -> int:
        return hash("split-lemmas")

    def __call__(self, tokens: Tokens) -> Tokens:
        for t in tokens:
            if t.stopped or LEMMA_SEPARATOR not in t.text:
                yield t
                continue
            for part in t.text.split(LEMMA_SEPARATOR):
                t.text = part
                yield t


@lru_cache(maxsize=_CACHE_SIZE)
def fold(word: str) -> str:
    """Lower-case and drop accents: ``Café`` -> ``cafe``."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class FoldFilter(WordFilter):
    """Unicode folding for languages without a stemmer."""

    def word(self, text: str) -> str:
        """``text`` folded."""
        return fold(text)


class TagsTokenizer(Tokenizer):
    """Tokenizes tags joined by TAG_SEPARATOR, leaving a position gap between tags."""

    def __init__(self) -> None:
        self.words = RegexTokenizer(WORD_PATTERN)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TagsTokenizer)

    def __hash__(self) -> int:
        return hash("tags")

    def __call__(
        self,
        value: str,
        *,
        positions: bool = False,
        chars: bool = False,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        **kwargs: object,
    ) -> Tokens:
        # Positions and characters count from the first tag (start_pos/start_char unused).
        pos = 0
        char = 0
        for part in value.split(TAG_SEPARATOR):
            last = pos - 1
            words = self.words(
                part,
                positions=positions,
                chars=chars,
                start_pos=pos,
                start_char=char,
                tokenize=tokenize,
                **kwargs,
            )
            for t in words:
                last = t.pos if positions else last + 1
                yield t
            pos = last + 1 + TAG_POSITION_GAP
            char += len(part) + len(TAG_SEPARATOR)


def _filters(language: str) -> Filters:
    if language in ("uk", "ru"):
        # The lemma filter lower-cases (and folds ё) itself: it looks at the case first.
        return ApostropheFilter() | LemmaFilter(language) | SplitLemmas()
    chain = ApostropheFilter() | Lowercase()
    if language == "en":
        return chain | SnowballFilter("english")
    return chain | FoldFilter()


@cache
def text_analyzer(language: str) -> Pipeline:
    """The analyzer for titles and bodies in ``language`` (one of LANGUAGES)."""
    return RegexTokenizer(WORD_PATTERN) | _filters(language)


@cache
def tags_analyzer(language: str) -> Pipeline:
    """The analyzer for an article's tags searched as text, in its language."""
    return TagsTokenizer() | _filters(language)


def warm_up() -> None:
    """Load every language's analyzer now: pymorphy3 reads its dictionaries on first use
    (~0.1 s), which a server's first Ukrainian query would otherwise wait for."""
    for language in LANGUAGES:
        text_terms(language, "слово")


def terms(language: str, text: str) -> list[str]:
    """The position terms of ``text`` in ``language`` (one per word; ``lemmas_of`` splits
    an ambiguous word's): handy for tests and highlights."""
    return text_terms(field_language(language), text)


T = TypeVar("T")


class WordMemo(Generic[T]):
    """``compute(language, word)`` remembered per language, for up to ``limit`` words each.

    Past the limit a language forgets all its words at once: the frequent ones
    come straight back, and memory stays bounded.  ``many`` is the hot path of
    indexing: one dictionary lookup per word (in C) once the words are known.
    """

    def __init__(self, compute: Callable[[str, str], T], limit: int = 200_000) -> None:
        self.compute = compute
        self.limit = limit
        self.tables: dict[str, dict[str, T]] = {}

    def one(self, language: str, word: str) -> T:
        """The value for one word."""
        table = self.tables.setdefault(language, {})
        found = table.get(word)
        if found is None:
            found = self.compute(language, word)
            if len(table) >= self.limit:
                table.clear()
            table[word] = found
        return found

    def many(self, language: str, words: list[str]) -> list[T]:
        """The value for each word, in order."""
        found: list[Any] = list(map(self.tables.setdefault(language, {}).get, words))
        if None in found:
            for i, value in enumerate(found):
                if value is None:
                    found[i] = self.one(language, words[i])
        return found

    def clear(self) -> None:
        """Forget every word."""
        self.tables.clear()


@cache
def _word_steps(language: str) -> tuple[Callable[[str], str], ...]:
    """The filters of ``text_analyzer(language)`` as functions of one word (up to the
    position term: ``SplitLemmas`` is left to the callers)."""
    steps = []
    for item in text_analyzer(language).filters:
        if isinstance(item, SplitLemmas):
            continue
        if not isinstance(item, WordFilter):
            raise TypeError(f"{item!r} does not act on one word alone")
        steps.append(item.word)
    return tuple(steps)


def analyze_word(language: str, word: str) -> str:
    """``word_term`` without its memory, for callers that keep their own (the indexer)."""
    # The tokenizer makes one token of a WORD_PATTERN match, the word itself;
    # the filters then map its text one after the other.
    for step in _word_steps(language):
        word = step(word)
    return word


_TERMS = WordMemo(analyze_word)


def word_term(language: str, word: str) -> str:
    """The position term ``text_analyzer(language)`` makes of one surface word (a
    WORD_PATTERN match): its lemmas joined by LEMMA_SEPARATOR, usually a single term."""
    return _TERMS.one(language, word)


def forget_terms() -> None:
    """Empty ``word_term``'s memory (benchmarks measure a cold start with it)."""
    _TERMS.clear()


def word_terms(language: str, words: list[str]) -> list[str]:
    """``word_term`` of each word (a dictionary lookup per word once the words are known)."""
    return _TERMS.many(language, words)


def text_terms(language: str, text: str) -> list[str]:
    """The position terms of ``text_analyzer(language)(text)``, one per word, much faster
    (the analyzer yields ``lemmas_of`` each, at the word's position).

    Every filter of the text analyzer acts on one word alone, so each distinct
    word goes through the pipeline once and is looked up after that (news text
    repeats its words: this is most of the indexing time otherwise).
    """
    return word_terms(language, _WORD_RE.findall(text))


def tokens_with_chars(language: str, text: str) -> Iterator[tuple[str, int, int]]:
    """(term, start, end) for each word of ``text``; offsets index into ``text``."""
    for t in text_analyzer(field_language(language))(text, chars=True, positions=True):
        yield t.text, t.startchar, t.endchar


_WORD_RE = re.compile(WORD_PATTERN)


def words(text: str) -> list[str]:
    """The surface words of ``text``, as the tokenizer sees them."""
    return _WORD_RE.findall(text)


_WORD_SPLIT = re.compile(f"({WORD_PATTERN})")


def split_words(text: str) -> list[str]:
    """``text`` as ``[gap, word, gap, word, ..., gap]``: the words as ``words`` gives them,
    with what lies between them (the odd items are the words)."""
    return _WORD_SPLIT.split(text)


@lru_cache(maxsize=_CACHE_SIZE)
def in_dictionary(language: str, word: str) -> bool:
    """Whether pymorphy3's dictionary of ``language`` (``uk`` or ``ru``) holds the lower-cased
    ``word`` as written (its guesser for unknown words is not asked): tells Ukrainian from
    Russian words that share an alphabet (``купил`` is Russian, ``заповнив`` Ukrainian)."""
    return bool(morph(language).word_is_known(word))
