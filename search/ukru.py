"""Telling Ukrainian from Russian: the letters and dictionary words only one of them has.

The two share most of their alphabet and many words, so n-gram statistics
confuse them on short texts.  Letters that exist in only one alphabet (і ї є ґ
for Ukrainian; ы э ё, and ъ before е ё ю я, for Russian) and words that only one
pymorphy3 dictionary knows (``що``, ``заповнив``; ``купил``, ``ходорковский``) are
decisive.  Used by language detection (whole texts) and did-you-mean (one word).
"""

from __future__ import annotations

import re

from newsearch.search.analysis import in_dictionary

UK_ONLY = "іїєґ"
RU_ONLY = "ыэё"
# Russian writes ъ only before е ё ю я (объём, съезд); Bulgarian writes it everywhere.
_RU_HARD_SIGN = re.compile("ъ[еёюя]")
VOTE_WORDS = 80
"""Cyrillic words looked up in the dictionaries, at most (the start of a text is enough)."""
_CYRILLIC_WORD = re.compile("[\u0400-\u04ff]+(?:['’ʼ][\u0400-\u04ff]+)*")


def letter_counts(lowered: str) -> tuple[int, int]:
    """Ukrainian-only and Russian-only letters in a lower-cased text."""
    # str.count scans in C, where a Python loop over the characters would not.
    uk = sum(map(lowered.count, UK_ONLY))
    ru = sum(map(lowered.count, RU_ONLY)) + len(_RU_HARD_SIGN.findall(lowered))
    return uk, ru


def ukrainian_or_russian(text: str) -> str | None:
    """``uk`` or ``ru`` by the letters and dictionary words only one of them has, or None
    on a tie (``Що це значить?`` is Ukrainian, ``ICE купил NYSE`` Russian)."""
    lowered = text.lower()
    uk, ru = letter_counts(lowered)
    for word in _CYRILLIC_WORD.findall(lowered)[:VOTE_WORDS]:
        in_uk, in_ru = in_dictionary("uk", word), in_dictionary("ru", word)
        uk += in_uk and not in_ru
        ru += in_ru and not in_uk
    if uk != ru:
        return "uk" if uk > ru else "ru"
    return None
