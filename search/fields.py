"""The indexed fields by name and their query-time boosts.

Per language L in LANGUAGES there are three analyzed fields: ``title_L``, ``body_L`` and
``tags_L``, and the ``names`` field is shared by all languages; the Whoosh schema that holds
them is in ``storage/whoosh.py``.
"""

from __future__ import annotations

from typing import Any

from newsearch.search.analysis import LANGUAGES
from newsearch.search.catalog import VALUE_FIELDS

TITLE_BOOST = 3.0
TAGS_BOOST = 2.0
BODY_BOOST = 1.0
NAMES_BOOST = 0.1
"""The names field (name keys across scripts, see ``names.py``) weighs below a word's own
script: a name's articles in the query's script keep their order above the others."""
NAMES_FIELD = "names"

FIELD_KINDS = ("title", "body", "tags")
"""Query-language field names that map to per-language text fields."""
QUERY_KINDS: dict[str | None, tuple[str, ...]] = {
    None: FIELD_KINDS,
    "title": ("title",),
    "body": ("body",),
    **{f.name: (f.attribute,) for f in VALUE_FIELDS if f.query == "words"},  # tag: tags
}
"""The article parts (FIELD_KINDS) a query-language field looks in (None: a plain word); a
value field searched by its words (``catalog``) looks in the part named as its attribute."""


def field_boosts() -> dict[str, float]:
    """Query-time boosts per field: title and tags weigh above body."""
    boosts = {"title": TITLE_BOOST, "tags": TAGS_BOOST, "body": BODY_BOOST}
    found = {f"{kind}_{lang}": boosts[kind] for kind in FIELD_KINDS for lang in LANGUAGES}
    found[NAMES_FIELD] = NAMES_BOOST
    return found


def __getattr__(name: str) -> Any:
    """``search.fields.TermsText``: the path Whoosh pickled into the schema of generations
    built before the class moved to ``newsearch.search.storage.whoosh`` (those still open)."""
    if name == "TermsText":
        from newsearch.search.storage.whoosh import TermsText

        return TermsText
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
