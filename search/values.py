"""Exact values (language, category, source, tag): how a value a person types matches
the archive's, and the query language's ``category:``/``source:``/``language:`` clause
as a Whoosh query over the columns.

One rule, for the filters and the query language alike: values match when they are
equal after ``fold`` (case folded, runs of whitespace made one space, ends trimmed),
so ``categories: ["politics "]``, ``category:POLITICS`` and the archive's ``Politics``
are the same value.  Facets show the archive's own spelling.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh import matching
from whoosh import query as wq


def fold(value: str) -> str:
    """The form values are compared in: case folded, whitespace collapsed and trimmed."""
    return " ".join(value.casefold().split())


class ValuesQuery(wq.Query):  # type: ignore[misc]  # whoosh.query is Any to mypy
    """Documents whose value of ``fieldname`` is one of the archive values a clause names
    (``category:war``): from the columns, so it matches exactly what the filter with the
    same value matches.  ``text`` is the clause's folded value (``war`` or ``wa*``);
    ``docnums`` the sorted live document numbers it matches in this generation.

    Each match scores ``boost`` (1.0), as a Whoosh keyword term does.  The accelerated
    path reads ``docnums`` directly; Whoosh's matchers get a list per segment.
    """

    def __init__(
        self, fieldname: str, text: str, docnums: npt.NDArray[np.int64], boost: float = 1.0
    ) -> None:
        self.fieldname = fieldname
        self.text = text
        self.docnums = docnums
        self.boost = boost

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.fieldname!r}, {self.text!r}, boost={self.boost})"

    def __str__(self) -> str:
        return f"{self.fieldname}:{self.text}"

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self)
            and isinstance(other, ValuesQuery)
            and (self.fieldname, self.text, self.boost)
            == (other.fieldname, other.text, other.boost)
        )

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.fieldname, self.text, self.boost))

    def estimate_size(self, ixreader: Any) -> int:
        """How many documents match (exactly)."""
        return int(self.docnums.size)

    def matcher(self, searcher: Any, context: Any = None) -> Any:
        """The matches in ``searcher``'s documents (one segment's, or all of them)."""
        # A segment's searcher has its offset in its parent's list; a searcher of the
        # whole index (atomic or not) is in none: its documents start at 0.
        parent = searcher.get_parent()
        found = parent._offset_for_subsearcher(searcher) if parent is not None else None
        offset = int(found or 0)
        end = offset + searcher.doc_count_all()
        lo, hi = np.searchsorted(self.docnums, [offset, end])
        ids = (self.docnums[lo:hi] - offset).tolist()
        return matching.ListMatcher(ids, all_weights=self.boost)
