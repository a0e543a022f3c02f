"""Language detection's letter counts: C-speed counting, the same numbers as a plain loop."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.language import _letter_vote, _script_shares, detect_language

# Every character of the Cyrillic block (letters, the thousands sign, combining marks),
# Latin with and without accents, Greek, digits, spaces and punctuation.
_CHARS = [chr(c) for c in range(0x3F0, 0x510)] + list("AZaz éÉßΣλ09 .,'\n\u0301")


def _loop_shares(text: str) -> tuple[float, float]:
    letters = cyrillic = latin = 0
    for c in text:
        if c.isalpha():
            letters += 1
            if "\u0400" <= c <= "\u04ff":
                cyrillic += 1
            elif c.isascii():
                latin += 1
    if not letters:
        return 0.0, 0.0
    return cyrillic / letters, latin / letters


def _loop_vote(text: str) -> str | None:
    lowered = text.lower()
    uk = sum(1 for c in lowered if c in "іїєґ")
    ru = sum(1 for c in lowered if c in "ыэъё")
    if uk >= 3 and uk >= 4 * ru:
        return "uk"
    if ru >= 3 and ru >= 4 * uk:
        return "ru"
    return None


@settings(max_examples=500)
@given(st.text(alphabet=st.sampled_from(_CHARS), max_size=300))
def test_counts_are_those_of_a_loop_over_the_characters(text: str) -> None:
    assert _script_shares(text) == _loop_shares(text)
    assert _letter_vote(text) == _loop_vote(text)


def test_the_letters_decide_between_ukrainian_and_russian() -> None:
    assert detect_language("Їжак", "Її жовтий їжачок їсть яблука в саду.") == "uk"
    assert detect_language("Съезд", "Объём съёмки: это был съезд, и мы это видели ещё.") == "ru"
    assert detect_language("", "12 345 — !") == "und"
