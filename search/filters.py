"""Filters as boolean masks over document numbers, computed from the numpy columns.

Value filters are those of ``catalog.VALUE_FIELDS`` (languages, categories, sources,
tagsAny, tagsAll); values match by ``values.fold``: case and spacing aside.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from newsearch.search.catalog import BY_NAME, VALUE_FIELDS, VALUE_FILTERS, ValueField
from newsearch.search.storage.columns import Columns
from newsearch.search.types import Filters, SearchError, SearchWarning, WarningKind
from newsearch.search.values import fold

Mask = npt.NDArray[np.bool_]
_EPOCH = datetime(1970, 1, 1, tzinfo=ZoneInfo("UTC"))


def instant_us(moment: datetime, tz: ZoneInfo) -> int:
    """Microseconds since the epoch; a naive ``moment`` is read in ``tz``."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)
    delta = aware - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def lower_bound_us(bound: datetime | date, tz: ZoneInfo) -> int:
    """The first instant a ``publishedFrom`` bound admits: an instant itself, or the start
    of a day (``date``) in ``tz``."""
    if isinstance(bound, datetime):
        return instant_us(bound, tz)
    return instant_us(datetime.combine(bound, time(), tzinfo=tz), tz)


def upper_bound_us(bound: datetime | date, tz: ZoneInfo) -> int | None:
    """The last instant a ``publishedTo`` bound admits: an instant itself, or for a day
    (``date``) the instant before the next local midnight in ``tz``, so a day of 23 or 25
    hours is covered whole; None for the last representable day (no upper bound)."""
    if isinstance(bound, datetime):
        return instant_us(bound, tz)
    if bound == date.max:
        return None
    return instant_us(datetime.combine(bound + timedelta(days=1), time(), tzinfo=tz), tz) - 1


def matching_ids(cols: Columns, facet: str, wanted: tuple[str, ...]) -> npt.NDArray[np.int32]:
    """Ids of the values of ``facet`` equal to one of ``wanted`` after ``fold`` (unknown
    values match nothing)."""
    folded = cols.folded[facet]
    return np.asarray([i for v in wanted for i in folded.get(fold(v), ())], dtype=np.int32)


def unknown_value(
    cols: Columns, facet: str, subject: str, value: str, position: int | None = None
) -> SearchWarning:
    """The warning for ``value`` of ``facet``, which no archive value equals after ``fold``:
    ``subject`` names where it was asked for (``languages: "english"``, ``category:x``).
    The hint is the field's ``unknown_hint`` with the values in use (language: the codes),
    otherwise up to three close values."""
    template = BY_NAME[facet].unknown_hint
    if template is not None:
        hint = template.format(values=", ".join(sorted(cols.values[facet])))
    else:
        folded = cols.folded[facet]
        close = difflib.get_close_matches(fold(value), list(folded), n=3, cutoff=0.75)
        names = [f'"{cols.values[facet][folded[key][0]]}"' for key in close]
        if names:
            hint = f"did you mean {' or '.join(names)}?"
        else:
            hint = f"no {facet} in the archive is close to it; the {facet} facet lists those in use"
    return SearchWarning(
        WarningKind.UNKNOWN_FILTER_VALUE,
        f"{subject} matches nothing: no article has this {facet}",
        hint,
        position,
    )


def filter_warnings(cols: Columns, filters: Filters) -> tuple[SearchWarning, ...]:
    """A warning for each value filter value that no archive value equals (once each)."""
    found = []
    for field, flt in VALUE_FILTERS:
        for value in dict.fromkeys(filters.wanted(flt)):
            if fold(value) not in cols.folded[field.name]:
                found.append(unknown_value(cols, field.name, f'{flt.argument}: "{value}"', value))
    return tuple(found)


def value_mask(column: npt.NDArray[np.int32], ids: npt.NDArray[np.int32]) -> Mask:
    """Documents whose single value is one of ``ids``."""
    return np.isin(np.asarray(column), ids)


def field_mask(cols: Columns, field: ValueField, wanted: tuple[str, ...], all_of: bool) -> Mask:
    """Documents with any (or all) of the ``wanted`` values of ``field``."""
    column = np.asarray(cols.ids[field.name])

    def having(ids: npt.NDArray[np.int32]) -> Mask:
        if not field.many:
            return value_mask(column, ids)
        found = np.zeros(cols.size, dtype=np.bool_)
        found[cols.owners[field.name][np.isin(column, ids)]] = True
        return found

    if not all_of:
        return having(matching_ids(cols, field.name, wanted))
    result = np.ones(cols.size, dtype=np.bool_)
    for value in wanted:
        result &= having(matching_ids(cols, field.name, (value,)))
    return result


@dataclass(frozen=True)
class FilterMasks:
    """``base``: non-facet filters (live, dates, excluded ids); ``facets``: one mask per facet;
    ``warnings``: filter values that match nothing in the archive."""

    base: Mask
    facets: dict[str, Mask]
    warnings: tuple[SearchWarning, ...] = ()

    def all(self) -> Mask:
        """Every filter applied."""
        mask = self.base.copy()
        for m in self.facets.values():
            mask &= m
        return mask

    def without(self, facet: str) -> Mask:
        """Every filter but ``facet``'s own: for disjunctive facet counts."""
        mask = self.base.copy()
        for name, m in self.facets.items():
            if name != facet:
                mask &= m
        return mask


def build_masks(
    cols: Columns,
    filters: Filters,
    tz: ZoneInfo,
    docnums_of: dict[str, int],
) -> FilterMasks:
    """Masks for ``filters``; ``docnums_of`` maps excluded ids to document numbers."""
    base = np.asarray(cols.live).copy()
    published = np.asarray(cols.published_us)
    lo = lower_bound_us(filters.published_from, tz) if filters.published_from else None
    hi = upper_bound_us(filters.published_to, tz) if filters.published_to else None
    if lo is not None and hi is not None and lo > hi:
        raise SearchError("filter", "publishedFrom is after publishedTo", hint="swap the two dates")
    if lo is not None:
        base &= published >= lo
    if hi is not None:
        base &= published <= hi
    for article_id in filters.exclude_ids:
        docnum = docnums_of.get(article_id)
        if docnum is not None:
            base[docnum] = False
    facets: dict[str, Mask] = {}
    for field in VALUE_FIELDS:
        for flt in field.filters:
            wanted = filters.wanted(flt)
            if wanted:
                mask = field_mask(cols, field, wanted, flt.all_of)
                found = facets.get(field.name)
                facets[field.name] = mask if found is None else found & mask
    return FilterMasks(base=base, facets=facets, warnings=filter_warnings(cols, filters))
