"""Names across scripts: one Latin key per name, whatever script or table it is spelled in.

A name is spelled Київ, Киев, Kyiv or Kiev; Зеленський, Зеленский, Zelensky or Zelenskyy.
Its *name key* is a Latin skeleton that these spellings share:

1. Cyrillic is transliterated by ``translitua`` with the standard tables: Ukrainian by the
   national 2010 table (``UkrainianKMU``: Київ -> Kyiv), Russian by the international-passport
   1997 table (``RussianInternationalPassport1997``: Киев -> Kiev); a Cyrillic word of another
   article language by the Ukrainian table when it has і, ї, є or ґ, else the Russian one.
   Latin words are taken as they are (accents dropped).
2. The spellings the tables and languages differ in are folded: kh/h/g -> h (Ukrainian г is h,
   Russian г is g, х is kh in both), shch/sch/sh -> s, zh -> z, ch/tch -> č, ts/tz -> c,
   c/q/ck -> k, x -> ks, w -> v, ph -> f; a run of vowels (a e i o u y, and j, which the
   tables write for й) is one vowel of two classes: ``a`` when it has a back vowel (a o u;
   я is ya or ia), else ``e`` (Kyiv, Kiev -> kev before step 3; Canada is not Kennedy);
   doubled letters are one; a final vowel is dropped (Зеленський -> zelenskyi, Zelensky,
   Zelenskyy -> zelensk; Ахметова and Ахметов share ahmetav), unless it is all the word has
   (і, и, i -> e: the conjunction inside Союз меча и орала).
3. A vowel before a final v is ``a`` (Ukrainian і for Russian о or е there: Львів, Львов
   -> lvav; Харків, Харьков; Київ, Киев, Kyiv -> kav).

4. A country's one-word names in the three languages (Germany, Німеччина, Германия) also
   get its place key (``places.py``), as their spellings share nothing.

The key is coarse by design, so it is searched only in the ``names`` field, which holds
name-like words alone (see ``name_positions``): a common word typed in a query adds no
matches there.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import Any

from search.analysis import (
    LEMMA_SEPARATOR,
    _morph,
    _tag_kind,
    fold,
    lemmas_of,
    words,
)
from search.places import place_key

CONTINUED = 6
"""Lowercase words right after a Ukrainian or Russian name (no punctuation between) that
belong to it: these languages capitalize only the first word of most organizations' and
places' names (Мировой суд Центрального района, Інститут розвитку інтернету)."""

_UKRAINIAN_ONLY = frozenset("іїєґІЇЄҐ")
_DIGRAPHS = re.compile(r"shch|sch|tch|kh|sh|zh|ch|ts|tz|ph|ck|[gcqxwj]")
_FOLDED = {
    "shch": "s",
    "sch": "s",
    "sh": "s",
    "tch": "č",
    "ch": "č",
    "kh": "h",
    "g": "h",
    "zh": "z",
    "ts": "c",
    "tz": "c",
    "ph": "f",
    "ck": "k",
    "c": "k",
    "q": "k",
    "x": "ks",
    "w": "v",
    "j": "i",
}
_VOWELS = re.compile(r"[aeiouy]+")
_FRONT = frozenset("eiy")
_FINAL_V = re.compile(r"[ae]v$")
_NOT_LATIN = re.compile(r"[^a-zč]+")
_DOUBLES = re.compile(r"(.)\1+")
_SENTENCE_END = frozenset(".!?…\n")
_GAP_NOISE = " \t\r\"'«»“”„‘’()[]—–-*•"


@cache
def _tables() -> dict[str, Any]:
    from translitua import RussianInternationalPassport1997, UkrainianKMU

    return {"uk": UkrainianKMU, "ru": RussianInternationalPassport1997}


def latin(language: str, word: str) -> str:
    """``word`` in Latin letters: Cyrillic by the standard table of ``language``."""
    if word.isascii():
        return word
    from translitua import translit

    if language not in ("uk", "ru"):
        language = "uk" if not _UKRAINIAN_ONLY.isdisjoint(word) else "ru"
    return str(translit(word, _tables()[language]))


@lru_cache(maxsize=262_144)
def name_key(language: str, word: str) -> str:
    """The name key of one word or lemma ('' when it has no Latin or Cyrillic letter)."""
    text = fold(latin(language, word.lower()))
    text = _NOT_LATIN.sub("", text.replace("'", ""))
    text = _DIGRAPHS.sub(lambda m: _FOLDED[m.group()], text)
    text = _VOWELS.sub(_vowel_class, text)
    text = _DOUBLES.sub(r"\1", text)
    # A final vowel is dropped, but a word of vowels alone keeps one (і, и, o).
    text = text.rstrip("ae") or text[:1]
    # Ukrainian і for Russian о/е before a final в (Львів, Львов; Харків, Харьков).
    return _FINAL_V.sub("av", text)


def _vowel_class(run: re.Match[str]) -> str:
    """A run of vowels as one of two: with a back vowel (a, o, u: я is ya or ia) 'a',
    else 'e' (e, i, y: Kyiv and Kiev alike, Canada is not Kennedy)."""
    return "e" if _FRONT.issuperset(run.group()) else "a"


@lru_cache(maxsize=262_144)
def term_keys(language: str, word: str, term: str) -> str:
    """The position term of a name-like word in the names field: the keys of its lemmas and
    of the word itself (Ukrainian and Russian words) or of the word alone (others, and Latin
    words in Cyrillic texts), joined by LEMMA_SEPARATOR; '' when none has a key."""
    if language in ("uk", "ru") and not word.isascii():
        lemmas = lemmas_of(term)
        keys = dict.fromkeys(name_key(language, lemma) for lemma in lemmas)
        keys.update(dict.fromkeys(place_key(lemma) for lemma in lemmas))
        # The word as written too: a Latin query word is not lemmatized (Navalnogo is
        # the key of Навального, not of its lemma навальный).
        keys[name_key(language, word)] = None
    else:
        keys = {name_key(language, word): None}
    keys[place_key(word)] = None
    keys.pop("", None)
    return LEMMA_SEPARATOR.join(keys)


@lru_cache(maxsize=65_536)
def proper_noun(language: str, word: str) -> bool:
    """Whether pymorphy3 reads the lower-cased ``word`` as a proper noun (uk and ru only)."""
    if language not in ("uk", "ru") or word.isascii() or not word.isalpha():
        return False
    try:
        parses = _morph(language).parse(word.lower())
    except ValueError:
        return False
    return any(_tag_kind(p.tag)[0] for p in parses)


_NOT_IN_NAMES = frozenset({"VERB", "INFN", "GRND", "ADVB", "PRED", "PRTS", "PRTF"})
"""Parts of speech that end a name's lowercase words (…у Києві відбулася: a verb)."""


@lru_cache(maxsize=65_536)
def continues_name(language: str, word: str) -> bool:
    """Whether a lowercase word may belong to the name before it: pymorphy3's best parse is
    not a verb, participle or adverb (nouns, adjectives, prepositions, conjunctions are)."""
    try:
        parses = _morph(language).parse(word)
    except ValueError:
        return False
    return bool(parses) and parses[0].tag.POS not in _NOT_IN_NAMES


def _sentence_start(gap: str, first: bool) -> bool:
    """Whether a word after this run of non-word characters starts a sentence (``first``:
    the gap is the start of the text)."""
    trimmed = gap.rstrip(_GAP_NOISE)
    if not trimmed:
        return first or "\n" in gap
    return trimmed[-1] in _SENTENCE_END or "\n" in gap


def name_positions(
    language: str,
    parts: list[str],
    terms: list[str],
    known: set[str] | None = None,
    title: bool = False,
) -> list[str]:
    """The names-field position term of each word of one text ('' for words that are not
    name-like), from ``parts`` (the text split as ``[gap, word, gap, word, ..., gap]``) and
    the words' position terms.

    A word is name-like when it is capitalized and either not at a sentence start or read as
    a proper noun by pymorphy3 (Зеленський at a sentence start); in Ukrainian and Russian the
    up to CONTINUED lowercase words that follow a name with only spaces between are part of
    it, up to a verb, participle or adverb (``continues_name``).  In a title (``title``),
    where English capitalizes every word, a capitalized word counts when it is a proper noun,
    when its key is among ``known`` (the body's name keys), or, in Ukrainian and Russian
    titles, when it is not at the title's start.
    """
    found = [""] * len(terms)
    follows = 0  # lowercase words that may still continue the last name (Мировой суд)
    for i, term in enumerate(terms):
        word = parts[2 * i + 1]
        if not word[:1].isupper():
            if follows and not parts[2 * i].strip(" -") and continues_name(language, word):
                follows -= 1
                found[i] = term_keys(language, word, term)
            else:
                follows = 0
            continue
        start = _sentence_start(parts[2 * i], i == 0)
        if title:
            keys = term_keys(language, word, term)
            name_like = bool(keys) and (
                proper_noun(language, word)
                or (known is not None and not known.isdisjoint(keys.split(LEMMA_SEPARATOR)))
                or (language in ("uk", "ru") and not start)
            )
        else:
            name_like = not start or proper_noun(language, word)
            keys = term_keys(language, word, term) if name_like else ""
        if name_like:
            found[i] = keys
        follows = CONTINUED if name_like and language in ("uk", "ru") else 0
    return found


def query_name_keys(
    text: str, analyses: tuple[tuple[str, tuple[str, ...]], ...]
) -> tuple[tuple[str, ...], ...]:
    """The name keys of each word of a query word or phrase (this module): a Cyrillic word's
    are those of its Ukrainian and Russian lemmas, a Latin word's its own (users type names
    in any case, so every word has keys; the names field holds names alone).  A word
    without a key has an empty tuple."""
    split = words(text)
    readings = {lang: analyzed for lang, analyzed in analyses if len(analyzed) == len(split)}
    found = []
    for i, word in enumerate(split):
        keys: dict[str, None] = {}
        if word.isascii():
            keys[name_key("en", word)] = None
            keys[place_key(word)] = None
        else:
            for lang in ("uk", "ru"):
                if lang in readings:
                    keys.update(
                        dict.fromkeys(
                            term_keys(lang, word, readings[lang][i]).split(LEMMA_SEPARATOR)
                        )
                    )
        keys.pop("", None)
        found.append(tuple(keys))
    return tuple(found)
