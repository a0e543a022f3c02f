"""Language detection: langdetect, seeded, on a bounded sample, with a Cyrillic tie-breaker.

langdetect's n-gram profiles confuse Ukrainian, Russian, Bulgarian and
Macedonian on short or name-heavy texts.  Letters that exist in only one of
the alphabets (і ї є ґ for Ukrainian; ы э ъ ё for Russian) are decisive
evidence, so a Cyrillic text with enough of them is settled by the letters.
"""

from __future__ import annotations

import re
import threading

from langdetect import DetectorFactory, detect_langs
from langdetect.lang_detect_exception import LangDetectException

SAMPLE_CHARS = 2000
"""Title plus the first characters of the body: bounded cost per article."""
LANGDETECT_CHARS = 600
"""What langdetect itself reads: its cost grows with the text, its accuracy stops growing."""

# Frequent English function words: a Latin-script text full of them is English without
# asking langdetect (whose fixed cost per call is ~2 ms, the bulk of a build's detection time).
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

_UK_ONLY = frozenset("іїєґ")
_RU_ONLY = frozenset("ыэъё")
_CYRILLIC_LANGS = frozenset({"uk", "ru", "bg", "mk", "sr", "be"})
# The letters (str.isalpha) of the Cyrillic block U+0400-U+04FF, and ASCII letters.
_CYRILLIC_LETTERS = re.compile(
    "[" + "".join(re.escape(c) for c in map(chr, range(0x400, 0x500)) if c.isalpha()) + "]+"
)
_LATIN_LETTERS = re.compile("[A-Za-z]+")
_lock = threading.Lock()


def _letter_vote(text: str) -> str | None:
    lowered = text.lower()
    # str.count scans in C: a loop over 2,000 characters cost more than the rest of detection.
    uk = sum(map(lowered.count, _UK_ONLY))
    ru = sum(map(lowered.count, _RU_ONLY))
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


def detect_language(title: str, body: str) -> str:
    """An ISO 639-1 code for the article, or ``"und"`` when nothing can be told.

    Deterministic: langdetect is seeded before every call.
    """
    text = sample(title, body)
    if not any(c.isalpha() for c in text):
        return "und"
    cyrillic, latin = _script_shares(text)
    if cyrillic >= 0.8 and (vote := _letter_vote(text)) is not None:
        return vote
    if latin >= 0.9 and _english_by_function_words(text):
        return "en"
    with _lock:  # DetectorFactory.seed is global state
        DetectorFactory.seed = 0
        try:
            guesses = detect_langs(text[:LANGDETECT_CHARS])
        except LangDetectException:
            return "und"
    best = str(guesses[0].lang) if guesses else "und"
    best = best.split("-")[0]
    if best in _CYRILLIC_LANGS or any("\u0400" <= c <= "\u04ff" for c in text[:400]):
        vote = _letter_vote(text)
        if vote is not None:
            return vote
    return best
