"""Language detection: langdetect's n-gram profiles weighed toward the archive's languages.

The archive holds Ukrainian, Russian and English.  On short texts (a title, a
one-line item) langdetect's own random sampling decides on a handful of n-grams
and calls English headlines French or Danish.  So the same profiles are read as
a plain naive Bayes over every n-gram of the sample (deterministic, no seed
needed), with a prior that makes any other language need far stronger evidence
than uk/ru/en (``FOREIGN_PRIOR``): a real German or Bulgarian text still wins,
a five-word English headline does not lose to Catalan.

Ukrainian and Russian share most letters and n-grams; letters that exist in
only one of the alphabets (і ї є ґ; ы э ё and ъ before е ё ю я) and words that
only one language's dictionary knows (``search/ukru.py``) settle them.
Cheap shortcuts come first: a long Cyrillic text full of one language's letters,
a long Latin text full of English function words.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import cache
from typing import Any

import numpy as np
from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.utils.ngram import NGram

from newsearch.search.ukru import letter_counts, ukrainian_or_russian

SAMPLE_CHARS = 2000
"""Title plus the first characters of the body: bounded cost per article."""
LANGDETECT_CHARS = 600
"""What the n-gram model reads: its cost grows with the text, its accuracy stops growing."""
ARCHIVE_LANGUAGES = ("uk", "ru", "en")
FOREIGN_PRIOR = {"latin": 1e-10, "cyrillic": 1e-6}
"""Prior odds of any other language against an archive language, by the text's main script.

Latin script: some thirty of langdetect's languages share short English words' n-grams,
and a title has a few dozen n-grams, so the prior is strong.  Cyrillic: only bg and mk
compete, and their own letters (``OTHER_CYRILLIC``) lift the prior altogether.
"""
_SMOOTHING = 0.5 / 10_000
"""langdetect's own smoothing of an n-gram's probability (alpha / BASE_FREQ)."""

# Frequent English function words: a Latin-script text full of them is English without
# scoring the n-gram profiles (the larger part of detection's cost).
_EN_FUNCTION_WORDS = frozenset(
    {
        "the",
        "of",
        "and",
        "to",
        "in",
        "is",
        "that",
        "for",
        "on",
        "with",
        "was",
        "as",
        "it",
        "by",
        "at",
        "from",
        "be",
        "has",
        "are",
        "have",
        "said",
        "his",
        "an",
        "were",
        "will",
        "which",
        "this",
        "not",
        "but",
        "they",
        "their",
        "its",
        "been",
        "who",
        "had",
    }
)
_WORD = re.compile(r"[^\W\d_]+")

OTHER_CYRILLIC = re.compile("[ѓќѕјљњџћђўѝ]|ъ(?![еёюя])")
"""Letters of bg, mk, sr, be that Ukrainian and Russian do not write."""
# The letters (str.isalpha) of the Cyrillic block U+0400-U+04FF, and ASCII letters.
_CYRILLIC_LETTERS = re.compile(
    "[" + "".join(re.escape(c) for c in map(chr, range(0x400, 0x500)) if c.isalpha()) + "]+"
)
_LATIN_LETTERS = re.compile("[A-Za-z]+")


def _letter_vote(text: str) -> str | None:
    uk, ru = letter_counts(text.lower())
    if uk >= 3 and uk >= 4 * ru:
        return "uk"
    if ru >= 3 and ru >= 4 * uk:
        return "ru"
    return None


def _script_shares(text: str) -> tuple[float, float]:
    """Shares of Cyrillic and of ASCII Latin among the letters of ``text``."""
    # Counted by what regular expressions remove (in C); only the rest is looked at per character.
    no_cyrillic = _CYRILLIC_LETTERS.sub("", text)
    rest = _LATIN_LETTERS.sub("", no_cyrillic)
    cyrillic = len(text) - len(no_cyrillic)
    latin = len(no_cyrillic) - len(rest)
    letters = cyrillic + latin + sum(map(str.isalpha, rest))
    if not letters:
        return 0.0, 0.0
    return cyrillic / letters, latin / letters


def _english_by_function_words(text: str) -> bool:
    words = _WORD.findall(text.lower())
    if len(words) < 30:
        return False
    hits = sum(1 for w in words if w in _EN_FUNCTION_WORDS)
    return hits >= 0.2 * len(words)


def sample(title: str, body: str) -> str:
    """The text that detection looks at: the title and the start of the body."""
    return (title + "\n" + body)[:SAMPLE_CHARS]


@cache
def _profiles() -> Any:
    """langdetect's language profiles (loaded once; read-only afterwards)."""
    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    return factory


def _ngrams(text: str) -> list[str]:
    """The profiled 1- to 3-grams of ``text``, cleaned and cut as langdetect does."""
    factory = _profiles()
    detector = factory.create()
    detector.append(text)
    detector.cleaning_text()  # Latin letters go when they are under a third of the text
    known = factory.word_lang_prob_map
    found: list[str] = []
    ngram = NGram()
    for ch in detector.text:
        ngram.add_char(ch)
        if ngram.capitalword:  # langdetect ignores all-capital words (acronyms)
            continue
        for n in range(1, NGram.N_GRAM + 1):
            if len(ngram.grams) < n:
                break
            gram = ngram.grams[-n:]
            if gram != " " and gram in known:
                found.append(gram)
    return found


def weighed_guess(text: str) -> str:
    """The most probable language of ``text`` under langdetect's profiles, the archive's
    languages favoured by ``FOREIGN_PRIOR``; ``"und"`` when no n-gram is known."""
    factory = _profiles()
    counts = Counter(_ngrams(text))
    if not counts:
        return "und"
    rows = np.array([factory.word_lang_prob_map[g] for g in counts], dtype=np.float64)
    weights = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
    scores = weights @ np.log(rows + _SMOOTHING)
    lowered = text.lower()
    cyrillic, latin = _script_shares(text)
    if cyrillic > latin:
        foreign = 1.0 if OTHER_CYRILLIC.search(lowered) else FOREIGN_PRIOR["cyrillic"]
    else:
        foreign = FOREIGN_PRIOR["latin"]
    langlist: list[str] = factory.langlist
    prior = np.array([0.0 if lang in ARCHIVE_LANGUAGES else math.log(foreign) for lang in langlist])
    return langlist[int(np.argmax(scores + prior))].split("-")[0]


def detect_language(title: str, body: str) -> str:
    """An ISO 639-1 code for the article, or ``"und"`` when nothing can be told.

    Title and body are read together (``sample``).  Deterministic: the same text
    always gets the same code.
    """
    text = sample(title, body)
    if not any(c.isalpha() for c in text):
        return "und"
    cyrillic, latin = _script_shares(text)
    if (
        cyrillic >= 0.8
        and (vote := _letter_vote(text)) is not None
        and not OTHER_CYRILLIC.search(text.lower())
    ):
        return vote
    if latin >= 0.9 and _english_by_function_words(text):
        return "en"
    best = weighed_guess(text[:LANGDETECT_CHARS])
    if best in ("uk", "ru"):
        return ukrainian_or_russian(text) or best
    return best
