"""The query plan: what a compiled query asks of the index, in the project's own types.

``compile.py`` builds a plan from the query's syntax tree (``namequery.py`` the plans of
names), with the constructors below (``field_query``, ``joined``, ``all_values``);
``accel.py`` evaluates it over
the generation's numpy postings, and the Whoosh door (``storage/whoosh_query.py``)
translates it to Whoosh queries where Whoosh still answers (phrases without positions in
the postings, the reference path).
Every node is a frozen value: equal nodes are interchangeable, so the compiler drops a
repeated clause and a generation's word memo holds compiled words.

Scores follow Whoosh's BM25F and its boolean rules (``accel.py`` says how each node is
scored); every ``AnyOf``/``AllOf`` the compiler makes has boost 1, so they carry none.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import reduce
from itertools import islice, product

import numpy as np
import numpy.typing as npt

from newsearch.search.exact import EXACT_FIELD
from newsearch.search.fields import field_boosts


@dataclass(frozen=True, slots=True)
class Term:
    """The documents holding ``text`` in the text field ``field``, scored by its BM25F
    weight times ``boost``."""

    field: str
    text: str
    boost: float = 1.0


@dataclass(frozen=True, slots=True)
class Phrase:
    """The documents holding ``words`` side by side, in order, in ``field``, scored by
    Whoosh's phrase matcher times ``boost``."""

    field: str
    words: tuple[str, ...]
    boost: float = 1.0


@dataclass(frozen=True, slots=True)
class BestOf:
    """One word with several lemmas (``Києві``: ``київ`` or ``кий``), or a phrase with its
    readings: the documents matching any option, each scored once, by its best option,
    times ``boost``."""

    options: tuple[Term, ...] | tuple[Phrase, ...]
    boost: float = 1.0


@dataclass(frozen=True, slots=True)
class AnyOf:
    """The documents matching any part, scored by the sum of the parts they match."""

    parts: tuple[Plan, ...]


@dataclass(frozen=True, slots=True)
class AllOf:
    """The documents matching every part, scored by the sum of the parts' scores."""

    parts: tuple[Plan, ...]


@dataclass(frozen=True, slots=True)
class Excluding:
    """Every live document that ``part`` does not match, each scored 1."""

    part: Plan


@dataclass(frozen=True, slots=True)
class Every:
    """Every live document, each scored 1 (what ``-nothing`` means)."""


@dataclass(frozen=True, slots=True)
class Nothing:
    """No document (a prefix that expands to no word, a category no article has)."""


@dataclass(frozen=True, slots=True)
class Values:
    """The documents whose ``field`` holds a value a clause names (``category:war``), or
    that hold an exact word's form (``exact.py``): ``docnums``, the sorted live document
    numbers, each scored 1.  ``text`` says what was asked (``war``, ``wa*``); two
    ``Values`` are equal when they ask the same (their documents come from it)."""

    field: str
    text: str
    docnums: npt.NDArray[np.int64] = dataclasses.field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Require:
    """The documents of ``query`` that ``required`` also matches, scored by ``query`` alone:
    an exact word's ordinary clause held to the ``Values`` of the documents with the form
    typed; a name's bonus held to the articles matching the word in its own fields
    (``namequery.name_case``) or to a language's (``namequery.transliterated``)."""

    query: Plan
    required: Plan


Plan = Term | Phrase | BestOf | AnyOf | AllOf | Excluding | Every | Nothing | Values | Require
"""Any node of a query plan."""

EVERY = Every()
NOTHING = Nothing()

MAX_READINGS = 16
"""Readings of a phrase with ambiguous words (one lemma per word) searched, at most."""
_BOOSTS = field_boosts()

Lemmas = tuple[tuple[str, ...], ...]
"""The lemmas of each word of a query word or phrase, in one field."""


def field_query(name: str, words: Lemmas, boost: float | None = None) -> Plan:
    """A word or phrase in one field: a Term or Phrase when each word has one lemma, else
    ``BestOf`` its lemmas (a word) or of its readings (a phrase, at most MAX_READINGS),
    scored once with ``boost`` (the field's when None)."""
    if boost is None:
        boost = _BOOSTS[name]
    if len(words) == 1:
        (lemmas,) = words
        if len(lemmas) == 1:
            return Term(name, lemmas[0], boost=boost)
        return BestOf(tuple(Term(name, t) for t in lemmas), boost=boost)
    if all(len(lemmas) == 1 for lemmas in words):
        return Phrase(name, tuple(lemmas[0] for lemmas in words), boost=boost)
    readings = islice(product(*words), MAX_READINGS)
    return BestOf(tuple(Phrase(name, r) for r in readings), boost=boost)


def joined(kind: type[AllOf | AnyOf], parts: list[Plan]) -> Plan:
    """``kind(parts)`` simplified, for parts that are simplified already (Whoosh's
    ``normalize`` rule): parts of the same kind are flattened into it, a repeated part is
    dropped (the first one stays), and a single part stands alone."""
    flat: list[Plan] = []
    for part in parts:
        if isinstance(part, kind):
            flat.extend(part.parts)
        else:
            flat.append(part)
    unique = tuple(dict.fromkeys(flat))
    return unique[0] if len(unique) == 1 else kind(unique)


def all_values(required: list[Values]) -> Values:
    """The documents every one of ``required`` holds (the exact words of a run), as one
    ``Values``."""
    unique = list(dict.fromkeys(required))
    if len(unique) == 1:
        return unique[0]
    docnums = reduce(np.intersect1d, (r.docnums for r in unique))
    return Values(EXACT_FIELD, " & ".join(r.text for r in unique), docnums)
