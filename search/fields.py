"""The Whoosh schema of an index generation and how an Article maps onto it.

Per language L in LANGUAGES there are three analyzed fields: ``title_L``,
``body_L`` and ``tags_L``; an article fills only its own language's fields,
so every query term is analyzed by each language's analyzer and matched
against that language's text.  The ``names`` field, shared by all languages, holds
the name keys of the name-like words of title and body (``names.py``), so that a
name is found in any script.  (The exact forms ``=Львова`` asks for are in our own
postings only, see ``exact.py``.)  Exact
facet values (tags, category, source, language) and dates live in the numpy columns
(see ``columns.py``); the stored ``doc`` field keeps the article exactly as it came in.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Generator
from datetime import datetime
from functools import cache
from typing import Any

import orjson
from whoosh import fields, formats

from search.analysis import (
    LANGUAGES,
    LEMMA_SEPARATOR,
    TAG_SEPARATOR,
    field_language,
    tags_analyzer,
    text_analyzer,
)
from search.model import Article

TITLE_BOOST = 3.0
TAGS_BOOST = 2.0
BODY_BOOST = 1.0
NAMES_BOOST = 0.1
"""The names field (name keys across scripts, see ``names.py``) weighs below a word's own
script: a name's articles in the query's script keep their order above the others."""
NAMES_FIELD = "names"

FIELD_KINDS = ("title", "body", "tags")
"""Query-language field names that map to per-language text fields."""


def text_fields(kind: str) -> list[str]:
    """All per-language fields of one kind: ``text_fields("title")`` -> title_uk, ..."""
    return [f"{kind}_{lang}" for lang in LANGUAGES]


def field_boosts() -> dict[str, float]:
    """Query-time boosts per field: title and tags weigh above body."""
    boosts = {"title": TITLE_BOOST, "tags": TAGS_BOOST, "body": BODY_BOOST}
    found = {f"{kind}_{lang}": boosts[kind] for kind in FIELD_KINDS for lang in LANGUAGES}
    found[NAMES_FIELD] = NAMES_BOOST
    return found


_SINGLE_POSITIONS = 4096


@cache
def _single_positions() -> list[bytes]:
    """Whoosh's encoding of each one-position list (a term once in a text: most postings).

    Made on the first index call, not at import (servers never index; 5 ms).
    """
    encode = formats.Positions().encode
    return [encode([i]) for i in range(_SINGLE_POSITIONS)]


class TermsText(fields.TEXT):  # type: ignore[misc]  # whoosh.fields is Any to mypy
    """Whoosh's TEXT field, with a fast path for text the indexer analyzed already.

    The indexer hands Whoosh titles and bodies as term lists (see
    ``postings.analyzed_document``); Whoosh's own path wraps each term in a
    Token and walks three generators per term, which was half of its per-
    document indexing time.  The output is exactly Whoosh's (a test compares
    them): for each distinct term in order of first occurrence, its UTF-8
    bytes, frequency, weight and Whoosh-encoded positions.  Strings, as at
    query time, go through Whoosh's analyzer as before.  A list item may be a position
    term (an ambiguous word's lemmas joined by LEMMA_SEPARATOR): each lemma gets that
    position, as the analyzer's ``SplitLemmas`` gives them.
    """

    def __init__(self, analyzer: Any) -> None:
        super().__init__(analyzer=analyzer)
        if type(self.format) is not formats.Positions:
            raise TypeError(f"TermsText needs positions, not {self.format!r}")

    def index(
        self, value: Any, **kwargs: Any
    ) -> Generator[tuple[bytes, int, float | int, bytes], Any, None]:
        """Postings of one field value: (term bytes, frequency, weight, positions)."""
        if not isinstance(value, list) or kwargs.keys() - {"mode"}:
            yield from super().index(value, **kwargs)
            return
        positions: dict[str, list[int]] = {}
        for i, position_term in enumerate(value):
            if not position_term:  # a word with no term here (the names field's common words)
                continue
            for term in (
                position_term.split(LEMMA_SEPARATOR)
                if LEMMA_SEPARATOR in position_term
                else (position_term,)
            ):
                found = positions.get(term)
                if found is None:
                    positions[term] = [i]
                else:
                    found.append(i)
        encode = self.format.encode
        boost = self.format.field_boost
        single = _single_positions()
        for term, where in positions.items():
            if len(where) == 1 and where[0] < _SINGLE_POSITIONS:
                yield term.encode(), 1, boost, single[where[0]]
            else:
                # Whoosh sums a boost of 1.0 per token: len(where) * boost is that sum.
                yield term.encode(), len(where), len(where) * boost, encode(where)


def build_schema() -> fields.Schema:
    """The Whoosh schema (surface words for spelling live in the vocabulary, see vocab.py)."""
    spec: dict[str, Any] = {
        "id": fields.ID(stored=True, unique=True),
        "hash": fields.ID(stored=True),
        "doc": fields.STORED(),
        "category": fields.KEYWORD(lowercase=True, commas=True, scorable=False),
        "source": fields.KEYWORD(lowercase=True, commas=True, scorable=False),
        "language": fields.ID(),
    }
    for lang in LANGUAGES:
        spec[f"title_{lang}"] = TermsText(text_analyzer(lang))
        spec[f"body_{lang}"] = TermsText(text_analyzer(lang))
        spec[f"tags_{lang}"] = fields.TEXT(analyzer=tags_analyzer(lang))
    # Name keys of title and body (``names.name_positions``), given as position terms.
    spec[NAMES_FIELD] = TermsText(text_analyzer("other"))
    return fields.Schema(**spec)


def article_to_dict(article: Article) -> dict[str, Any]:
    """Every field of an article as JSON values (the date with its offset), in stored order."""
    return {
        "id": article.id,
        "title": article.title,
        "body": article.body,
        "published": article.published.isoformat(),
        "category": article.category,
        "source": article.source,
        "tags": list(article.tags),
        "language": article.language,
        "language_detected": article.language_detected,
        "url": article.url,
        "headline": article.headline,
    }


def article_from_dict(data: dict[str, Any]) -> Article:
    """Inverse of :func:`article_to_dict`."""
    return Article(
        id=data["id"],
        title=data["title"],
        body=data["body"],
        published=datetime.fromisoformat(data["published"]),
        category=data["category"],
        source=data["source"],
        tags=tuple(data["tags"]),
        language=data["language"],
        language_detected=data["language_detected"],
        url=data["url"],
        headline=data["headline"],
    )


# Each field's slot descriptor: setting through it is what a frozen dataclass's own
# __init__ does, without the frozen __setattr__ it refuses.
_SETTERS: dict[str, Any] = {
    f.name: getattr(Article, f.name).__set__ for f in dataclasses.fields(Article)
}
_SET_AS_IS = tuple((n, s) for n, s in _SETTERS.items() if n not in ("published", "tags"))


def article_from_record(data: dict[str, Any]) -> Article:
    """:func:`article_from_dict` without ``Article``'s checks, for the generation's own
    records: each was written from an article that passed them.  The checks (the URL
    parsed, the date's range) were 3-6 us of the 6 a hit's article took to make."""
    article: Article = object.__new__(Article)
    for name, set_value in _SET_AS_IS:
        set_value(article, data[name])
    _SETTERS["published"](article, datetime.fromisoformat(data["published"]))
    _SETTERS["tags"](article, tuple(data["tags"]))
    return article


def article_to_json(article: Article) -> str:
    """The stored form of an article (Whoosh's ``doc`` field): every field, the date with
    its offset."""
    return json.dumps(article_to_dict(article), ensure_ascii=False)


def article_from_json(text: str | bytes) -> Article:
    """Inverse of :func:`article_to_json`."""
    # orjson: a page's ten articles decode in 60 us instead of 90 (most of it is making
    # str of 3-4 KB of Cyrillic UTF-8); stored text is valid UTF-8 (the parser refuses
    # unpaired surrogates), the one input where orjson and json would differ.
    return article_from_dict(orjson.loads(text))


def document(article: Article) -> dict[str, Any]:
    """The Whoosh document for an article whose language is already set."""
    lang = field_language(article.language)
    doc: dict[str, Any] = {
        "id": article.id,
        "hash": article.content_hash,
        "doc": article_to_json(article),
        "language": article.language,
        f"title_{lang}": article.title,
        f"body_{lang}": article.body,
        # A separator character inside a tag must not split it in two.
        f"tags_{lang}": TAG_SEPARATOR.join(t.replace(TAG_SEPARATOR, " ") for t in article.tags),
    }
    # KEYWORD fields split on commas; an empty value has no term at all.
    if article.category.strip():
        doc["category"] = article.category.replace(",", " ")
    if article.source.strip():
        doc["source"] = article.source.replace(",", " ")
    return doc
