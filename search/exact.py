"""Exact surface forms: the ``exact`` field and what an exact query word requires of it.

By default a query word matches every form of its lemmas (and a name every script, see
``names.py``).  An exact word (``=Львова`` in the query language, or every word under
``match: EXACT``) matches only documents holding the form typed.  "The same form" is the
word compared after ``exact_form``: case ignored, the apostrophe variants (’ ʼ ` ´ ‘) read
as ``'``, stress marks dropped and ё read as е, the normalization the analyzers already
apply to surface text; nothing else (Львова is not Львову, mobilise is not mobilize).

Decision: the ``exact`` field of our postings (``storage/postings/``, not Whoosh's index) holds,
for every distinct word of an article's title, body and tags, its exact form prefixed by
the part it is in (``t:львова``, ``b:львова``, ``g:львова``): which documents hold it (its
weights are never used).  The prefix keeps one field yet lets ``title:=Львова`` ask for the
title alone.  An exact word is compiled to its ordinary clause (the lemma query, scored and
boosted as always) joined with ``Require`` to the documents holding its form (a
``plan.Values`` of them, read from the postings when the query is compiled): scores are
those of the word's forms, as in the default mode, on both scoring paths.  A phrase with
exact words (``"=Львова університет"``, ``="Львівського університету"``) is the phrase by
lemmas, required to hold each exact word's form in the same part of the article; that the
form stands at the phrase's position is not checked (a documented approximation).

Why not a Whoosh field: it has about as many postings as the text fields, and Whoosh's
per-posting cost in a build is far above our arrays' (and positions, which would have made
phrases of exact words positional, would have grown the index most); README gives the
figures.  A generation without postings (an older layout, or an earlier analysis) answers
an exact word with a QuerySyntaxError saying to rebuild.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

from newsearch.search.analysis import normalize_apostrophes, words
from newsearch.search.fields import QUERY_KINDS

EXACT_FIELD = "exact"
EXACT_MARK = "\x1d"
"""Starts a highlight mark that is a word's exact form rather than a lemma (no word
contains it): ``MatchTerms`` holds ``EXACT_MARK + exact_form(word)`` for an exact word."""
KIND_PREFIX = {"title": "t:", "body": "b:", "tags": "g:"}
"""The prefix of an exact term per part of the article."""


@lru_cache(maxsize=262_144)
def exact_form(word: str) -> str:
    """The form an exact word is compared by: lower-cased, apostrophes unified (and stress
    marks dropped, ``normalize_apostrophes``), ё read as е."""
    form = normalize_apostrophes(word).lower()
    return form.replace("ё", "е") if "ё" in form else form


def _prefixed(prefix: str, surface: Iterable[str]) -> list[str]:
    """``prefix`` + the exact form of each distinct word of ``surface`` (words repeat, so
    they are made distinct first, by dict in C, and each form is looked up once)."""
    return [prefix + form for form in map(exact_form, dict.fromkeys(surface))]


def exact_terms(title: Sequence[str], body: Sequence[str], tags: Iterable[str]) -> list[str]:
    """The ``exact`` field of an article: the distinct prefixed exact forms of its title's,
    body's and tags' words.  ``title`` and ``body`` are the analysis' own split of those
    texts."""
    found = dict.fromkeys(_prefixed("t:", title))
    found.update(dict.fromkeys(_prefixed("b:", body)))
    for tag in tags:
        found.update(dict.fromkeys(_prefixed("g:", words(tag))))
    return list(found)


def marked(word: str) -> str:
    """The highlight mark of an exact word (see EXACT_MARK)."""
    return EXACT_MARK + exact_form(word)


def exact_flags(count: int, every: bool, written: tuple[bool, ...]) -> tuple[bool, ...]:
    """Which of a word's or phrase's ``count`` words are exact: all (``every``: ``=word``
    or the EXACT mode), else those the phrase marked (``written``); () when none is."""
    if every or (written and len(written) != count):  # the parser counts words alike
        return (True,) * count if count else ()
    return written


def with_marks(
    surface: Sequence[str], exact: Sequence[bool], analyzed: tuple[str, ...]
) -> tuple[str, ...]:
    """A word's or phrase's position terms for the highlighter, each exact word's replaced
    by its mark; () when the analysis lost a word (its words cannot be lined up)."""
    if len(analyzed) != len(surface):
        return ()
    return tuple(
        marked(word) if flag else term
        for word, flag, term in zip(surface, exact, analyzed, strict=True)
    )


def requirement(
    field: str | None, surface: Sequence[str], exact: Sequence[bool]
) -> list[tuple[str, ...]]:
    """What a word or phrase of query ``field`` whose words are ``surface`` (``analysis.words``
    of its text), ``exact`` saying which are exact, requires of the exact field: a document
    holding all terms of one of the tuples (one per part the field looks in); [] when no word
    is exact."""
    chosen = [w for w, flag in zip(surface, exact, strict=True) if flag]
    if not chosen:
        return []
    return [
        tuple(dict.fromkeys(KIND_PREFIX[kind] + exact_form(w) for w in chosen))
        for kind in QUERY_KINDS[field]
    ]
