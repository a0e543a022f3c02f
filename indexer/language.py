"""Language detection: langdetect, seeded, on a bounded sample, with a Cyrillic tie-breaker.

langdetect's n-gram profiles confuse Ukrainian, Russian, Bulgarian and
Macedonian on short or name-heavy texts.  Letters that exist in only one of
the alphabets (і ї є ґ for Ukrainian; ы э ъ ё for Russian) are decisive
evidence, so a Cyrillic text with enough of them is settled by the letters.
"""

from __future__ import annotations

import threading

from langdetect import DetectorFactory, detect_langs
from langdetect.lang_detect_exception import LangDetectException

SAMPLE_CHARS = 2000
"""Title plus the first characters of the body: bounded cost per article."""

_UK_ONLY = frozenset("іїєґ")
_RU_ONLY = frozenset("ыэъё")
_CYRILLIC_LANGS = frozenset({"uk", "ru", "bg", "mk", "sr", "be"})
_lock = threading.Lock()


def _letter_vote(text: str) -> str | None:
    lowered = text.lower()
    uk = sum(1 for c in lowered if c in _UK_ONLY)
    ru = sum(1 for c in lowered if c in _RU_ONLY)
    if uk >= 3 and uk >= 4 * ru:
        return "uk"
    if ru >= 3 and ru >= 4 * uk:
        return "ru"
    return None


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
    with _lock:  # DetectorFactory.seed is global state
        DetectorFactory.seed = 0
        try:
            guesses = detect_langs(text)
        except LangDetectException:
            return "und"
    best = str(guesses[0].lang) if guesses else "und"
    best = best.split("-")[0]
    if best in _CYRILLIC_LANGS or any("\u0400" <= c <= "\u04ff" for c in text[:400]):
        vote = _letter_vote(text)
        if vote is not None:
            return vote
    return best
