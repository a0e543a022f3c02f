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
matches there.  Being coarse, it also joins short names that are not one (Китай, Kite and
City share ``ket``; Білий and Bell ``bel``).  So each word also has a *spelling key*
(``spelling_key``): steps 1 and 2 without the vowel classes and without dropping the final
vowel (Китай, Kytai, Kitay -> ``+kitai``; Kite -> ``+kite``; City -> ``+kiti``).  Both are
held at the word's position and a query word matches either, scored by the better one: the
spelling key is rarer, so a name spelled as the query spells it (by any of the tables)
ranks above one that merely shares its skeleton.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache, lru_cache
from typing import Any

from newsearch.search.analysis import (
    LEMMA_SEPARATOR,
    fold,
    lemmas_of,
    morph,
    tag_kind,
    words,
)
from newsearch.search.fields import NAMES_FIELD
from newsearch.search.places import PLACE_KEY_PREFIX, place_key
from newsearch.search.ukru import ukrainian_or_russian

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
SPELLING = "+"
"""Starts every spelling key (never a name key: those are letters alone)."""
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


def _skeleton(language: str, word: str) -> str:
    """Steps 1 and 2 up to the vowels: Latin letters, the tables' digraphs folded."""
    text = fold(latin(language, word.lower()))
    text = _NOT_LATIN.sub("", text.replace("'", ""))
    return _DIGRAPHS.sub(lambda m: _FOLDED[m.group()], text)


@lru_cache(maxsize=262_144)
def spelling_key(language: str, word: str) -> str:
    """The spelling key of one word or lemma: its skeleton with its vowels as written (y is
    i, as the tables write и, й, ы), doubled letters one, after ``SPELLING`` ('' when it has
    no Latin or Cyrillic letter).  Kitay, Kytai, Китай, Китае (lemma китай) -> ``+kitai``."""
    text = _DOUBLES.sub(r"\1", _skeleton(language, word).replace("y", "i"))
    return SPELLING + text if text else ""


def coarse_keys(keys: tuple[str, ...]) -> tuple[str, ...]:
    """A word's name keys (and place keys) without its spelling keys."""
    return tuple(k for k in keys if k[:1] != SPELLING)


def spelled_keys(keys: tuple[str, ...]) -> tuple[str, ...]:
    """A word's spelling keys alone."""
    return tuple(k for k in keys if k[:1] == SPELLING)


@lru_cache(maxsize=262_144)
def name_key(language: str, word: str) -> str:
    """The name key of one word or lemma ('' when it has no Latin or Cyrillic letter)."""
    text = _VOWELS.sub(_vowel_class, _skeleton(language, word))
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
    """The position term of a name-like word in the names field: the name keys and spelling
    keys of its lemmas and of the word itself (Ukrainian and Russian words) or of the word
    alone (others, and Latin words in Cyrillic texts), joined by LEMMA_SEPARATOR; '' when
    none has a key."""
    if language in ("uk", "ru") and not word.isascii():
        # The word as written too: a Latin query word is not lemmatized (Navalnogo is
        # the key of Навального, not of its lemma навальный).
        spelled = [*lemmas_of(term), word]
    else:
        spelled = [word]
    keys = dict.fromkeys(name_key(language, w) for w in spelled)
    keys.update(dict.fromkeys(spelling_key(language, w) for w in spelled))
    keys.update(dict.fromkeys(place_key(w) for w in spelled))
    keys.pop("", None)
    return LEMMA_SEPARATOR.join(keys)


@lru_cache(maxsize=65_536)
def proper_noun(language: str, word: str) -> bool:
    """Whether pymorphy3 reads the lower-cased ``word`` as a proper noun (uk and ru only)."""
    if language not in ("uk", "ru") or word.isascii() or not word.isalpha():
        return False
    try:
        parses = morph(language).parse(word.lower())
    except ValueError:
        return False
    return any(tag_kind(p.tag)[0] for p in parses)


_NOT_IN_NAMES = frozenset({"VERB", "INFN", "GRND", "ADVB", "PRED", "PRTS", "PRTF"})
"""Parts of speech that end a name's lowercase words (…у Києві відбулася: a verb)."""


@lru_cache(maxsize=65_536)
def continues_name(language: str, word: str) -> bool:
    """Whether a lowercase word may belong to the name before it: pymorphy3's best parse is
    not a verb, participle or adverb (nouns, adjectives, prepositions, conjunctions are)."""
    try:
        parses = morph(language).parse(word)
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

    A word is name-like when it is capitalized and either not at a sentence start (a period
    after a one-letter word, an initial or ``м.``, ends none), all in capitals (an
    abbreviation: ``ПАТ``), read as a proper noun by pymorphy3 (Зеленський at a sentence
    start) or a country (a place key, ``places.py``: Німеччина at a sentence start).  In
    Ukrainian and Russian, which capitalize only a name's first word, the up to
    CONTINUED lowercase words that follow a name with only spaces between are part of it, up
    to a verb, participle or adverb (``continues_name``); so is a capitalized word that starts
    a sentence, and the lowercase words after it, when a name follows them so
    (``Господарський суд Дніпропетровської області``, ``Приморський районний суд м. Одеси``).
    In a title (``title``), where English capitalizes every word, a capitalized word counts
    when it is a proper noun or a country, when its key is among ``known`` (the body's name
    keys), or, in Ukrainian and Russian titles, when it is not at the title's start.
    """
    found = [""] * len(terms)
    follows = 0  # lowercase words that may still continue the last name (Мировой суд)
    pending: list[int] = []  # a sentence's first word and lowercase words: a name if one follows
    cyrillic = language in ("uk", "ru") and not title
    for i, term in enumerate(terms):
        word = parts[2 * i + 1]
        if not word[:1].isupper():
            if not (follows or pending):
                continue
            joined = not parts[2 * i].strip(" -")
            if follows and joined and continues_name(language, word):
                follows -= 1
                found[i] = term_keys(language, word, term)
            else:
                follows = 0
                if pending and joined and len(pending) <= CONTINUED:
                    pending = [*pending, i] if continues_name(language, word) else []
                else:
                    pending = []
            continue
        gap = parts[2 * i]
        # A period after a one-letter word is an initial's or an abbreviation's (В. Путін,
        # м. Дніпро, Б.А. Покровский), not a sentence's end.
        initial = i > 0 and gap[:1] == "." and len(parts[2 * i - 1]) == 1 and gap.rstrip(" ") == "."
        start = not initial and _sentence_start(gap, i == 0)
        if pending and not (initial or not gap.strip(" -")):
            pending = []
        # An all-caps word is an abbreviation, a name wherever it stands (ПАТ, НАТО, СБУ).
        abbreviation = len(word) > 1 and word.isupper()
        if title:
            keys = term_keys(language, word, term)
            name_like = bool(keys) and (
                abbreviation
                or proper_noun(language, word)
                or PLACE_KEY_PREFIX in keys
                or (known is not None and not known.isdisjoint(keys.split(LEMMA_SEPARATOR)))
                or (language in ("uk", "ru") and not start)
            )
        else:
            # A country is a name at a sentence's start too (pymorphy3's Ukrainian
            # dictionary marks no country as a proper noun: Німеччина допомогла).
            name_like = (
                not start
                or abbreviation
                or proper_noun(language, word)
                or PLACE_KEY_PREFIX in term_keys(language, word, term)
            )
            keys = term_keys(language, word, term) if name_like else ""
        if name_like:
            found[i] = keys
            for j in pending:
                found[j] = term_keys(language, parts[2 * j + 1], terms[j])
            pending = []
        elif cyrillic and start and continues_name(language, word.lower()):
            pending = [i]
        else:
            pending = []
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
            keys[spelling_key("en", word)] = None
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


NAME_SHARE = 0.5
"""A word typed in lower case counts as a name when the archive holds its spelling as a name
in at least this share of the documents that have the word in its own script."""


def typed_names(
    text: str,
    analyses: tuple[tuple[str, tuple[str, ...]], ...],
    keys: tuple[tuple[str, ...], ...],
    frequency: Callable[[str, str], int],
) -> tuple[tuple[str, ...], ...]:
    """``keys`` (each word's name keys) with those of the words that are not names emptied.

    Users type names in any case, but a common word's key would find every name that
    shares its skeleton (jail and July, стать and Стати): a word is a name when it is typed
    capitalized, when pymorphy3 reads it as a proper noun (ахметов, путин), or when the
    archive mostly writes it as one: ``frequency`` (documents holding a (field, key or
    lemma)) of its spelling keys in the names field is at least NAME_SHARE of the documents
    holding its lemmas in the title and body fields, or no document holds them there (a
    name typed in another script than the archive's: khodorkovsky)."""
    split = words(text)
    if len(keys) != len(split):
        return keys
    readings = {lang: analyzed for lang, analyzed in analyses if len(analyzed) == len(split)}
    found = []
    for i, (word, word_keys) in enumerate(zip(split, keys, strict=True)):
        if word_keys and not _typed_as_name(word, i, readings, word_keys, frequency):
            word_keys = ()
        found.append(word_keys)
    return tuple(found)


def _typed_as_name(
    word: str,
    i: int,
    readings: dict[str, tuple[str, ...]],
    keys: tuple[str, ...],
    frequency: Callable[[str, str], int],
) -> bool:
    """Whether query word ``word`` (the ``i``-th of its text) is a name (``typed_names``)."""
    if word[:1].isupper():
        return True
    # A word that only one language's letters or dictionary have is read in that one (the
    # Russian guesser takes Ukrainian міністрів for a surname).
    language = ukrainian_or_russian(word) if not word.isascii() else None
    if any(proper_noun(lang, word) for lang in ((language,) if language else ("uk", "ru"))):
        return True
    own = max(
        (
            frequency(f"{kind}_{lang}", lemma)
            for lang, analyzed in readings.items()
            for lemma in lemmas_of(analyzed[i])
            for kind in ("title", "body")
        ),
        default=0,
    )
    if own == 0:
        return True
    named = max((frequency(NAMES_FIELD, k) for k in spelled_keys(keys)), default=0)
    return named >= NAME_SHARE * own
