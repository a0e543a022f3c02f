"""The plans of names in a query (``compile.py`` builds the rest): how a word's name keys
(``names.py``) are searched in the names field, and the bonuses that rank an article
writing a word as a name above one merely sharing its spelling.

* A plain word's coarse keys (name and place keys) and spelling keys in the names field
  (``names_fields``), weighed by its script (``spelling_boost``, COARSE_SHARE).
* A capitalized Cyrillic word gets its spelling keys once more in the articles that also
  match it in their own fields (``name_case``); a Latin word no article holds in its text
  fields does in the Ukrainian and Russian articles (``transliterated``).
* Consecutive capitalized words of a query score once more as a phrase where they are
  rare (``adjacency_bonus``), so that a name's words side by side rank above them apart.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from newsearch.search import plan
from newsearch.search.catalog import BY_NAME
from newsearch.search.fields import BODY_BOOST, NAMES_FIELD, QUERY_KINDS, field_boosts
from newsearch.search.filters import field_mask
from newsearch.search.names import coarse_keys, spelled_keys
from newsearch.search.plan import Lemmas, Plan, all_values, field_query, joined
from newsearch.search.querylang import Node, Word
from newsearch.search.storage.columns import Columns

ADJACENCY_RUN = 4
"""Consecutive capitalized plain words of a query scored once more as a phrase, at most (a
longer run is cut): side by side, they are likely one name (see ``adjacency_bonus``)."""
ADJACENCY_MAX_DF = 100
"""A run's phrase is looked for only in the fields where one of its terms is in at most this
many documents: the cost of matching a phrase grows with the documents holding its terms,
so this bounds it whatever the archive's size (names are rare words; ``Prime
Minister`` gets no bonus where ``prime`` is common)."""
LATIN_SPELLING_BOOST = BODY_BOOST
"""The weight of a Latin query word's spelling keys in the names field (see
``spelling_boost``)."""
COARSE_SHARE = 0.1
"""The weight of a query word's coarse keys (name and place keys) in the names field, as a
share of its spelling keys': a name merely sharing the skeleton (Солю and Soul, Сеул; Австрии
and Austria, by the country's key) is weaker evidence than one spelled as typed (Канады,
Канади and Canada), whatever the script (a Latin word's spelling keys weigh
LATIN_SPELLING_BOOST, a Cyrillic word's the names field's)."""
TRANSLITERATION_BOOST = LATIN_SPELLING_BOOST
"""The weight added to a Latin query word's spelling match in Ukrainian and Russian articles
when no article holds the word in its text fields (``transliterated``)."""
CYRILLIC_LANGUAGES = ("uk", "ru")
NAME_CASE_BOOST = BODY_BOOST
"""The weight of a capitalized Cyrillic query word's spelling keys in the names field of the
articles that also match the word in their own fields: there the word is written as a name
(``name_case``)."""
_BOOSTS = field_boosts()


def names_fields(keys: Lemmas) -> tuple[list[tuple[str, Lemmas]], list[tuple[str, Lemmas]]]:
    """(coarse, spelled): the names field with the coarse keys of each word of a word or
    phrase whose words all have ``keys`` (their name and spelling keys), and with a single
    word's spelling keys; both empty when some word has no keys."""
    coarse: list[tuple[str, Lemmas]] = []
    spelled: list[tuple[str, Lemmas]] = []
    if keys and all(keys):
        # The names field: the name keys of each word, in any script (names.py), at a
        # lower boost, so that a name in another script finds an article and matches in
        # the query's own script keep ranking first (they add their names match too).
        # Its spelling keys add theirs: a name spelled as typed ranks above a shared key.
        coarse.append((NAMES_FIELD, tuple(map(coarse_keys, keys))))
        # A phrase's words get none: a second phrase in the names field would double the
        # cost of matching it, and its words side by side are evidence enough.
        spelling = tuple(map(spelled_keys, keys))
        if len(spelling) == 1 and all(spelling):
            spelled.append((NAMES_FIELD, spelling))
    return coarse, spelled


def spelling_boost(latin: bool) -> float:
    """The weight of a word's spelling keys in the names field (its coarse keys weigh
    COARSE_SHARE of it); ``latin``: the word is in Latin letters."""
    # A Latin word has no Cyrillic field of its own: the names field is where its
    # Ukrainian and Russian articles are, so a word spelled there as typed weighs what
    # the word does in an English body.  A Cyrillic word's own fields come first.
    return LATIN_SPELLING_BOOST if latin else _BOOSTS[NAMES_FIELD]


def name_case(own: list[tuple[str, Lemmas]], spelling: tuple[str, Lemmas]) -> list[Plan]:
    """The bonus of a capitalized Cyrillic word (``Солю``, ``Горе``, ``Північ``) in the
    articles that write it as a name: its spelling keys in the names field (which holds
    name-like words alone: capitalized, not a sentence's first word) at NAME_CASE_BOOST,
    counted only in the articles that also match it in its own fields (``own``: required,
    not scored again).  So ``баба Соля`` ranks above ``солимо`` (the lemma of the verb),
    while an article of another language or script that shares the name's spelling
    (matched by the names field alone) gains nothing and keeps ranking below.  [] when the
    word matches no own field."""
    if not own:
        return []
    gate = joined(plan.AnyOf, [field_query(name, ws) for name, ws in own])
    return [plan.Require(field_query(*spelling, NAME_CASE_BOOST), gate)]


def cyrillic(columns: Columns) -> plan.Values:
    """The live Ukrainian and Russian articles (as the ``languages`` filter keeps them), as
    ``language:``'s ``Values``."""
    held = field_mask(columns, BY_NAME["language"], CYRILLIC_LANGUAGES, all_of=False)
    docnums = np.flatnonzero(held & np.asarray(columns.live))
    return plan.Values("language", "|".join(CYRILLIC_LANGUAGES), docnums)


def transliterated(spelling: tuple[str, Lemmas], cyrillic: plan.Values) -> Plan:
    """The bonus of a Latin word that no article holds in its title, body or tags
    (``Riky``, ``Kaliforniya``, ``Germanii``: no English word): typed so, it is a Cyrillic
    name transliterated, so its spelling match counts once more (TRANSLITERATION_BOOST) in
    the Ukrainian and Russian articles (``cyrillic``), above English articles whose other
    word merely shares the spelling key (Ricky, California)."""
    return plan.Require(field_query(*spelling, TRANSLITERATION_BOOST), cyrillic)


def adjacency_bonus(
    children: tuple[Node, ...],
    joined_plan: Plan,
    phrase_of: Callable[[list[Word]], Plan | None],
    required: Callable[[Word], plan.Values | None],
) -> Plan:
    """``joined_plan`` (the And of ``children``) or'ed with each run of its consecutive
    capitalized plain words as a phrase (``phrase_of`` the run: None where it is none), so
    that documents holding a name's words side by side (``Gordon Brown``) score above
    those holding them apart (``Gordon ... Brown``).  Only capitalized words, as names are
    typed: a phrase's cost grows with the documents holding its words, large for common
    words (``prime minister``).

    A document matching such a phrase holds every word of the run in one field, so it
    matches ``joined_plan`` already: the Or matches the same documents and only adds the
    phrase's score to theirs (``required`` gives the documents holding a word's exact forms,
    None: it has none).  Phrases mark nothing for the highlighter (their words are marked),
    and runs are at most ADJACENCY_RUN words long (each is one phrase).
    """
    bonus: list[Plan] = []
    for run in word_runs(children):
        found = phrase_of(run)
        if found is not None:
            # Exact words of the run must hold their forms here too: the phrase by
            # lemmas alone would match documents ``joined_plan`` does not.
            kept = [r for r in map(required, run) if r is not None]
            if any(not r.docnums.size for r in kept):
                continue
            if kept:
                found = plan.Require(found, all_values(kept))
            bonus.append(found)
    return joined(plan.AnyOf, [joined_plan, *bonus]) if bonus else joined_plan


def names_phrase(keys: Lemmas) -> list[tuple[str, Lemmas]]:
    """The names field with a run's coarse keys side by side (a name in another script),
    when it has 2+ words and each has keys; else []."""
    coarse = tuple(map(coarse_keys, keys))
    return [(NAMES_FIELD, coarse)] if len(coarse) >= 2 and all(coarse) else []


def rare_fields(
    found: list[tuple[str, Lemmas]], frequency: Callable[[str, str], int]
) -> list[tuple[str, Lemmas]]:
    """The (field, lemmas of each word) of a run's phrase where some word is rare enough to
    look for it: in at most ADJACENCY_MAX_DF documents (by ``frequency``)."""
    return [
        (name, words)
        for name, words in found
        if min(sum(frequency(name, t) for t in w) for w in words) <= ADJACENCY_MAX_DF
    ]


def word_runs(children: tuple[Node, ...]) -> list[list[Word]]:
    """Runs of 2 to ADJACENCY_RUN consecutive plain words of one text field among an And's
    children, in query order, that start with a capitalized word: the next words join while
    capitalized, or, after a Cyrillic first word, lowercase too (Ukrainian and Russian
    capitalize only a name's first word: ``Північне море``, ``Верховной рады``).  A longer run
    is cut into runs of at most that length."""
    runs: list[list[Word]] = []
    current: list[Word] = []
    for child in (*children, None):
        word = child if isinstance(child, Word) and child.field in QUERY_KINDS else None
        capital = word is not None and word.text[:1].isupper()
        if (
            word is not None
            and current
            and word.field == current[0].field
            and len(current) < ADJACENCY_RUN
            and (capital or not current[0].text.isascii())
        ):
            current.append(word)
            continue
        if len(current) >= 2:
            runs.append(current)
        current = [word] if capital and word is not None else []
    return runs
