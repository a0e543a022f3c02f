"""From the query syntax tree to a Whoosh query over the per-language fields.

Each word is analyzed by every language's analyzer and matched against that
language's title, body and tags fields (``армії`` -> ``title_uk:армія``,
``title_ru:арм``, ...), so an inflected word finds its lemma or stem in the
language it belongs to.  Prefixes and fuzzy words are expanded against the
unstemmed spelling fields (``spell_body_en`` holds ``mobilization``, where
``body_en`` holds only the stem ``mobil``), bounded to the most frequent
MAX_EXPANSIONS words so that no query can enumerate the whole vocabulary.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from whoosh import query as wq
from whoosh.reading import IndexReader

from search.analysis import LANGUAGES, normalize_apostrophes, terms
from search.fields import field_boosts
from search.highlight import MatchTerms
from search.querylang import And, Fuzzy, Node, Not, Or, Phrase, Prefix, QuerySyntaxError, Word

MAX_EXPANSIONS = 256
MAX_SCAN = 20_000
"""Vocabulary entries looked at per expansion, at most."""
_KINDS = {None: ("title", "body", "tags"), "title": ("title",), "body": ("body",), "tag": ("tags",)}
_BOOSTS = field_boosts()


@dataclass
class _Marks:
    terms: set[str] = field(default_factory=set)
    phrases: set[tuple[str, ...]] = field(default_factory=set)


@dataclass(frozen=True)
class Compiled:
    """A Whoosh query and, per language, what the highlighter should mark."""

    query: Any
    marks: dict[str, MatchTerms]


class _Compiler:
    def __init__(self, reader: IndexReader) -> None:
        self.reader = reader
        self.marks: dict[str, _Marks] = defaultdict(_Marks)
        self.indexed = set(reader.indexed_field_names())

    def node(self, node: Node, positive: bool = True) -> Any:
        if isinstance(node, And):
            parts = [self.node(c, positive) for c in node.children]
            kept = [p for p in parts if p is not None]
            return wq.And(kept) if kept else None
        if isinstance(node, Or):
            parts = [self.node(c, positive) for c in node.children]
            kept = [p for p in parts if p is not None]
            return wq.Or(kept) if kept else None
        if isinstance(node, Not):
            inner = self.node(node.child, not positive)
            return wq.Not(inner) if inner is not None else None
        if node.field in ("category", "source", "language"):
            return self.keyword(node)
        if isinstance(node, Prefix | Fuzzy):
            return self.expanded(node, positive)
        return self.text(node, positive)

    def keyword(self, node: Word | Phrase | Prefix | Fuzzy) -> Any:
        value = node.text.strip().lower()
        assert node.field is not None
        if isinstance(node, Prefix):
            return wq.Prefix(node.field, value)
        return wq.Term(node.field, value)

    def text(self, node: Word | Phrase, positive: bool) -> Any:
        clauses = []
        for lang in LANGUAGES:
            analyzed = terms(lang, node.text)
            if not analyzed:
                continue
            if positive:
                if len(analyzed) == 1:
                    self.marks[lang].terms.add(analyzed[0])
                else:
                    self.marks[lang].phrases.add(tuple(analyzed))
            for kind in _KINDS[node.field]:
                name = f"{kind}_{lang}"
                boost = _BOOSTS[name]
                if len(analyzed) == 1:
                    clauses.append(wq.Term(name, analyzed[0], boost=boost))
                else:
                    clauses.append(wq.Phrase(name, analyzed, boost=boost))
        return wq.Or(clauses) if clauses else None

    def expanded(self, node: Prefix | Fuzzy, positive: bool) -> Any:
        """Expand against the surface words of each language's spelling fields."""
        surface = normalize_apostrophes(node.text.lower())
        clauses = []
        for lang in LANGUAGES:
            text = surface.replace("ё", "е") if lang == "ru" else surface
            words: set[str] = set()
            for kind in _KINDS[node.field]:
                source = f"spell_{kind}_{lang}" if kind != "tags" else f"tags_{lang}"
                found = self._expand(source, text, node)
                words.update(found)
            for word in sorted(words):
                analyzed = terms(lang, word)
                if len(analyzed) != 1:
                    continue
                if positive:
                    self.marks[lang].terms.add(analyzed[0])
                for kind in _KINDS[node.field]:
                    name = f"{kind}_{lang}"
                    clauses.append(wq.Term(name, analyzed[0], boost=_BOOSTS[name]))
        if not clauses:
            return wq.NullQuery
        return wq.Or(clauses)

    def _expand(self, fieldname: str, text: str, node: Prefix | Fuzzy) -> list[str]:
        if fieldname not in self.indexed:
            return []
        if isinstance(node, Prefix):
            candidates = islice(self.reader.expand_prefix(fieldname, text), MAX_SCAN)
        else:
            candidates = islice(
                self.reader.terms_within(fieldname, text, node.distance, prefix=1), MAX_SCAN
            )
        words = [t.decode("utf-8") if isinstance(t, bytes) else str(t) for t in candidates]
        ranked = sorted(words, key=lambda w: (-self.reader.doc_frequency(fieldname, w), w))
        return ranked[:MAX_EXPANSIONS]


def compile_query(node: Node, reader: IndexReader) -> Compiled:
    """The Whoosh query for ``node`` and the highlight marks per language.

    Raises QuerySyntaxError when nothing in the query is searchable (``!!!``).
    """
    compiler = _Compiler(reader)
    q = compiler.node(node)
    if q is None:
        raise QuerySyntaxError(0, "no searchable words", "use letters or digits")
    if _only_negative(node):
        q = wq.And([wq.Every(), q])
    marks = {
        lang: MatchTerms(terms=frozenset(m.terms), phrases=tuple(sorted(m.phrases)))
        for lang, m in compiler.marks.items()
    }
    return Compiled(query=q.normalize(), marks=marks)


def _only_negative(node: Node) -> bool:
    if isinstance(node, Not):
        return True
    if isinstance(node, And):
        return all(_only_negative(c) for c in node.children)
    return False
