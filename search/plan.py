"""The query plan: what a compiled query asks of the index, in the project's own types.

``compile.py`` builds a plan from the query's syntax tree; ``accel.py`` evaluates it over
the generation's numpy postings, and the Whoosh door (``storage/whoosh_query.py``)
translates it to Whoosh queries where Whoosh still answers (phrases, the reference path).
Every node is a frozen value: equal nodes are interchangeable, so the compiler drops a
repeated clause and a generation's word memo holds compiled words.

Scores follow Whoosh's BM25F and its boolean rules (``accel.py`` says how each node is
scored); every ``AnyOf``/``AllOf`` the compiler makes has boost 1, so they carry none.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


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
    (``compile.name_case``) or to a language's (``compile.transliterated``)."""

    query: Plan
    required: Plan


Plan = Term | Phrase | BestOf | AnyOf | AllOf | Excluding | Every | Nothing | Values | Require
"""Any node of a query plan."""

EVERY = Every()
NOTHING = Nothing()
