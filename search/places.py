"""Countries by their names in English, Ukrainian and Russian: Germany, Німеччина, Германия.

Transliteration links Київ and Kyiv, but a country's names in the three languages are often
different words.  ``pycountry`` ships the ISO 3166-1 names with their Ukrainian and Russian
translations (its gettext catalogues); every one-word name among them (the short, common and
official names: Germany, Німеччина, Германия, США, Молдавия) gets the country's *place key*,
which ``names.term_keys`` adds to the word's name keys, so a country typed in one language
finds its articles in the others.  Several-word names (Велика Британія, Соединённые Штаты)
are left out: a place key marks one word, and their words alone (Велика, Штаты) name no
country.  A name that is also a common first name or word (Jordan, Chad) is matched as a
country too; it is capitalized (only name-like words carry keys) and the names field
weighs below a word's own script, so such hits rank below the word's own matches.
"""

from __future__ import annotations

import gettext
from functools import cache

from newsearch.search.analysis import fold

PLACE_KEY_PREFIX = "iso3166:"
"""A place key is this prefix and the lower-cased ISO alpha-2 code (``iso3166:de``): name
keys are Latin letters alone, so the two never meet."""

_LANGUAGES = ("uk", "ru")


@cache
def _place_keys() -> dict[str, str]:
    """Each one-word country name (lower-cased and folded as names are) -> its place key."""
    import pycountry  # loaded on the first name-like word: servers that never see one skip it

    catalogues = [
        gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang])
        for lang in _LANGUAGES
    ]
    found: dict[str, str] = {}
    for country in pycountry.countries:
        key = PLACE_KEY_PREFIX + country.alpha_2.lower()
        english = [
            getattr(country, attribute, None)
            for attribute in ("name", "common_name", "official_name")
        ]
        names = [name for name in english if name]
        names += [catalogue.gettext(name) for catalogue in catalogues for name in list(names)]
        for name in names:
            word = fold(name)  # also drops a stress mark (Респу́блика)
            if word.isalpha():
                # The first country to claim a name keeps it (none is shared today).
                found.setdefault(word, key)
    return found


def place_key(word: str) -> str:
    """The place key of a word or lemma that is a country's one-word name, else ''."""
    return _place_keys().get(fold(word), "")
