"""Per-language analyzers, defined once and used at index time and at query time.

Each analyzer is a Whoosh pipeline of small parts (tokenizer | filters)::

    uk:    words | apostrophes | lowercase | Ukrainian lemma (pymorphy3)
    ru:    words | apostrophes | lowercase | ё->е | Snowball Russian
    en:    words | apostrophes | lowercase | Snowball English
    other: words | apostrophes | lowercase | Unicode folding (accents dropped)

The lemma and stem filters are marked ``is_morph`` so that Whoosh's spelling
support can index the unstemmed forms beside them (used by did-you-mean).
Per-token results are cached: news vocabulary is Zipf-distributed, so a small
cache answers most tokens.  Every filter here acts on one token alone and says so
with a ``word`` method; ``word_term`` composes those for a single word, without
the pipeline's Token and generator per filter (a quarter of analyzing a new word).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from functools import cache, lru_cache
from typing import Any, Generic, TypeVar

from whoosh.analysis import Analyzer, Filter, RegexTokenizer, Token, Tokenizer

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

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
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
    """Folds Russian ё to е, as Russian texts mostly write е for both."""

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
def _morph(language: str) -> Any:
    import pymorphy3

    return pymorphy3.MorphAnalyzer(lang=language)


@lru_cache(maxsize=_CACHE_SIZE)
def lemma(language: str, word: str) -> str:
    """The most likely dictionary form of one lower-cased word (cached).

    pymorphy3 guesses unknown words from their endings; words with digits or
    Latin letters are kept as they are.
    """
    if word.isascii():
        # Latin words in Ukrainian texts (tags, names) are mostly English.
        return stem("english", word) if word.isalpha() else word
    if not word.replace("'", "").isalpha():
        return word
    try:
        parses = _morph(language).parse(word)
    except ValueError:  # pymorphy3 calls unicodedata.name(), which fails on some scripts
        return word
    if not parses:
        return word
    return normalize_apostrophes(str(parses[0].normal_form))


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
    """Dictionary forms (pymorphy3) for one language: армії -> армія."""

    is_morph = True

    def __init__(self, language: str) -> None:
        self.language = language

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LemmaFilter) and other.language == self.language

    def __hash__(self) -> int:
        return hash(("lemma", self.language))

    def word(self, text: str) -> str:
        """The lemma of ``text``."""
        return lemma(self.language, text)


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

    def __call__(self, value: str, **kwargs: Any) -> Iterator[Token]:
        pos = 0
        char = 0
        kwargs.pop("start_pos", None)
        kwargs.pop("start_char", None)
        for part in value.split(TAG_SEPARATOR):
            last = pos - 1
            for t in self.words(part, start_pos=pos, start_char=char, **kwargs):
                last = t.pos if kwargs.get("positions") else last + 1
                yield t
            pos = last + 1 + TAG_POSITION_GAP
            char += len(part) + len(TAG_SEPARATOR)


def _filters(language: str) -> Any:
    chain: Any = ApostropheFilter() | Lowercase()
    if language == "uk":
        return chain | LemmaFilter("uk")
    if language == "ru":
        return chain | YoFilter() | SnowballFilter("russian")
    if language == "en":
        return chain | SnowballFilter("english")
    return chain | FoldFilter()


@cache
def text_analyzer(language: str) -> Analyzer:
    """The analyzer for titles and bodies in ``language`` (one of LANGUAGES)."""
    result: Analyzer = RegexTokenizer(WORD_PATTERN) | _filters(language)
    return result


@cache
def tags_analyzer(language: str) -> Analyzer:
    """The analyzer for an article's tags searched as text, in its language."""
    result: Analyzer = TagsTokenizer() | _filters(language)
    return result


def warm_up() -> None:
    """Load every language's analyzer now: pymorphy3 reads its dictionaries on first use
    (~0.1 s), which a server's first Ukrainian query would otherwise wait for."""
    for language in LANGUAGES:
        text_terms(language, "слово")


def terms(language: str, text: str) -> list[str]:
    """The index terms of ``text`` in ``language``: handy for tests and highlights."""
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
    """The filters of ``text_analyzer(language)`` as functions of one word."""
    steps = []
    for item in text_analyzer(language).items[1:]:
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
    """The term ``text_analyzer(language)`` makes of one surface word (a WORD_PATTERN match)."""
    return _TERMS.one(language, word)


def forget_terms() -> None:
    """Empty ``word_term``'s memory (benchmarks measure a cold start with it)."""
    _TERMS.clear()


def word_terms(language: str, words: list[str]) -> list[str]:
    """``word_term`` of each word (a dictionary lookup per word once the words are known)."""
    return _TERMS.many(language, words)


def text_terms(language: str, text: str) -> list[str]:
    """Exactly the terms of ``text_analyzer(language)(text)``, in order, much faster.

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


@lru_cache(maxsize=_CACHE_SIZE)
def in_dictionary(language: str, word: str) -> bool:
    """Whether pymorphy3's dictionary of ``language`` (``uk`` or ``ru``) holds the lower-cased
    ``word`` as written (its guesser for unknown words is not asked): tells Ukrainian from
    Russian words that share an alphabet (``купил`` is Russian, ``заповнив`` Ukrainian)."""
    return bool(_morph(language).word_is_known(word))
