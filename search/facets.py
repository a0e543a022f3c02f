"""Facet counts over the whole hit set, from the numpy columns.

Counts are disjunctive: a facet is counted with every filter applied except
its own, so selecting ``language: uk`` still shows how many ``ru`` and ``en``
hits there are (as Algolia and Typesense do).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from newsearch.search.storage.columns import Columns
from newsearch.search.types import Facet, FacetValue
from newsearch.search.values import fold


def counts(cols: Columns, facet: str, mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """Hits per value id of ``facet`` (a ``catalog.VALUE_FIELDS`` name) among documents in
    ``mask``."""
    size = len(cols.values[facet])
    ids = np.asarray(cols.ids[facet])
    owners = cols.owners.get(facet)
    selected = mask[owners] if owners is not None else mask
    return np.bincount(ids[selected], minlength=size).astype(np.int64)


def facet(
    cols: Columns,
    name: str,
    mask: npt.NDArray[np.bool_],
    size: int,
    selected: tuple[str, ...],
) -> Facet:
    """The top ``size`` values of ``name`` by count (ties by value).

    Selected values are always shown, even when outside the top or counted 0; a value is
    selected when a filter value equals it after ``fold`` (shown in the archive's spelling,
    or as typed when the archive has no such value).
    """
    per_value = counts(cols, name, mask)
    table = cols.values[name]
    nonzero = np.flatnonzero(per_value)
    distinct = int(nonzero.size)
    candidates = nonzero
    if 0 < size < distinct:
        # Only values counted at least as often as the size-th best can be shown
        # (ties included): sorting thousands of tags in Python per request is not needed.
        found = per_value[nonzero]
        cut = np.partition(found, distinct - size)[distinct - size]
        candidates = nonzero[found >= cut]
    # By count descending, then by value for a stable, readable order.
    top = sorted(candidates.tolist(), key=lambda i: (-int(per_value[i]), table[i]))[:size]
    chosen: dict[str, str] = {}  # folded -> the first spelling selected
    for value in selected:
        chosen.setdefault(fold(value), value)
    values = [FacetValue(table[i], int(per_value[i]), fold(table[i]) in chosen) for i in top]
    shown = set(top)
    folded = cols.folded[name]
    for key, typed in chosen.items():
        ids = [i for i in folded.get(key, ()) if i not in shown]
        if key not in folded:
            values.append(FacetValue(typed, 0, True))
        values.extend(FacetValue(table[i], int(per_value[i]), True) for i in ids)
    return Facet(name=name, values=tuple(values), truncated=distinct > size, distinct=distinct)
