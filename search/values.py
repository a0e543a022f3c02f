"""Exact values (language, category, source, tag): how a value a person types matches
the archive's, for the filters and the query language's ``category:``/``source:``/
``language:`` clause (a ``plan.Values`` of the columns' documents, ``compile.py``).

One rule, for the filters and the query language alike: values match when they are
equal after ``fold`` (case folded, runs of whitespace made one space, ends trimmed),
so ``categories: ["politics "]``, ``category:POLITICS`` and the archive's ``Politics``
are the same value.  Facets show the archive's own spelling.
"""

from __future__ import annotations


def fold(value: str) -> str:
    """The form values are compared in: case folded, whitespace collapsed and trimmed."""
    return " ".join(value.casefold().split())
