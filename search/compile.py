"""From the query syntax tree to a query plan (``plan.py``) over the per-language fields.

Each word is analyzed by every language's analyzer and matched against that
language's title, body and tags fields (``армії`` -> ``title_uk:армія``, ``армии`` ->
``title_ru:армия``, ...), so an inflected word finds its lemma or stem in the
language it belongs to.  An ambiguous word matches any of its lemmas and is scored by
the best (``BestOf``: ``Києві`` -> ``title_uk:київ`` or ``title_uk:кий``), a phrase
with ambiguous words any of its readings (at most ``plan.MAX_READINGS``).  Prefixes and fuzzy
words are expanded against the generation's vocabulary of surface words (``mobilization``, where
``body_en`` holds only the stem ``mobil``; see ``vocab.py``), bounded to the
MAX_EXPANSIONS most frequent terms per prefix or fuzzy word so that no query
can enumerate the whole vocabulary.

An exact word (``=Львова``, or every word under ``MatchMode.EXACT``) is its ordinary
clause required to hold the form typed in the ``exact`` field (``exact.py``); it and
every word under ``MatchMode.FORMS`` leave out the names field (no other script).
What a plain word's name keys add (the names field, the bonuses of a word written as a
name and of a capitalized run) is built by ``namequery.py``.

Boolean structure is simplified as the plan is built: ``Every``/``Nothing`` inside an
``AllOf``/``AnyOf`` are resolved (an ``AllOf`` with ``Nothing`` is ``Nothing``, so
``energy zzzz*`` matches nothing), nested ``AllOf``s or ``AnyOf``s are flattened, repeated
clauses dropped and one clause stands alone: as Whoosh's ``normalize`` would leave the
plan's Whoosh translation (a test checks it), without a second walk over it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import reduce

import numpy as np
import numpy.typing as npt

from newsearch.search import plan
from newsearch.search.analysis import LANGUAGES, lemmas_of, terms
from newsearch.search.analysis import words as split_text
from newsearch.search.catalog import VALUE_QUERY_FIELDS
from newsearch.search.exact import EXACT_FIELD, exact_flags, requirement, with_marks
from newsearch.search.fields import NAMES_FIELD, QUERY_KINDS, field_boosts
from newsearch.search.filters import matching_ids, unknown_value, value_mask
from newsearch.search.highlight import MatchTerms
from newsearch.search.namequery import (
    COARSE_SHARE,
    adjacency_bonus,
    cyrillic,
    name_case,
    names_fields,
    names_phrase,
    rare_fields,
    spelling_boost,
    transliterated,
)
from newsearch.search.names import coarse_keys, query_name_keys, typed_names
from newsearch.search.plan import EVERY, NOTHING, Lemmas, Plan
from newsearch.search.querylang import (
    And,
    Fuzzy,
    Node,
    Not,
    Or,
    Phrase,
    Prefix,
    QuerySyntaxError,
    Word,
)
from newsearch.search.storage.columns import Columns
from newsearch.search.storage.vocab import Vocabulary, surface
from newsearch.search.types import MatchMode, SearchWarning
from newsearch.search.values import fold

MAX_EXPANSIONS = 256
MAX_SCAN = 20_000
"""Vocabulary entries looked at per expansion, at most."""
SEARCHED_FIELDS = {
    (field, lang): tuple(f"{kind}_{lang}" for kind in kinds)
    for field, kinds in QUERY_KINDS.items()
    for lang in LANGUAGES
}
"""The text fields a word of a query field (None: any) is looked up in, per language."""
_BOOSTS = field_boosts()
_ALL = EVERY
"""Matches every document: what ``-nothing`` means (never inside a simplified plan)."""
_NONE = NOTHING
"""Matches no document: a prefix or fuzzy word that expands to nothing."""


@dataclass
class _Marks:
    terms: set[str] = field(default_factory=set)
    phrases: set[tuple[str, ...]] = field(default_factory=set)


@dataclass(frozen=True)
class Compiled:
    """A query plan, per language what the highlighter should mark, and warnings for
    ``category:``/``source:``/``language:`` values no article has."""

    query: Plan
    marks: dict[str, MatchTerms]
    warnings: tuple[SearchWarning, ...] = ()


Present = Callable[[str, str], bool]
"""Whether a (text field, term) pair occurs in some live document."""
ExactDocs = Callable[[str], npt.NDArray[np.int32]]
"""The numbers of the documents whose exact field holds a term, in any order (``exact.py``)."""
Frequency = Callable[[str, str], int]
"""How many documents hold a (text field, term) pair (Whoosh's ``doc_frequency``)."""

Analyses = tuple[tuple[str, tuple[str, ...]], ...]
"""What each language's analyzer makes of a query word or phrase: (language, terms)."""
CompiledWords = dict[tuple[str | None, str], tuple[Plan | None, Analyses, Lemmas]]
"""Compiled words of one generation: (query field, text) -> (query, analyses, name keys)."""
WORD_MEMO_SIZE = 20_000
"""Words a memo holds before it is emptied (a crude bound: the hot words come back)."""
_OWN_SCRIPT = "\x01"
"""Starts the memo key of a word compiled without the names field (never in a word)."""
REINDEX_HINT = "rebuild the index with `newsearch index build SRC... --index DIR`"


class _Compiler:
    def __init__(
        self,
        columns: Columns,
        vocabulary: Vocabulary | None,
        present: Present | None,
        memo: CompiledWords | None,
        frequency: Frequency | None,
        mode: MatchMode = MatchMode.ANY_SCRIPT,
        exact_docs: ExactDocs | None = None,
        key_frequency: Frequency | None = None,
    ) -> None:
        self.mode = mode
        self.exact_docs = exact_docs
        self.columns = columns
        self.frequency = frequency
        self.key_frequency = key_frequency
        self.warnings: list[SearchWarning] = []
        self.marks: dict[str, _Marks] = defaultdict(_Marks)
        self.names: set[str] = set()
        self.vocabulary = vocabulary
        self.present = present
        self.memo = memo

    def node(self, node: Node, positive: bool = True) -> Plan | None:
        """The plan of ``node``: None when it has no searchable words (ignored),
        ``_ALL``/``_NONE`` when it matches every/no document."""
        if isinstance(node, And):
            parts = [p for p in (self.node(c, positive) for c in node.children) if p is not None]
            if any(p is _NONE for p in parts):
                return _NONE
            kept = [p for p in parts if p is not _ALL]
            if not kept:
                return _ALL if parts else None
            joined = plan.joined(plan.AllOf, kept)
            if not positive:
                return joined
            return adjacency_bonus(node.children, joined, self.phrase_of, self.word_required)
        if isinstance(node, Or):
            parts = [p for p in (self.node(c, positive) for c in node.children) if p is not None]
            if any(p is _ALL for p in parts):
                return _ALL
            kept = [p for p in parts if p is not _NONE]
            if not kept:
                return _NONE if parts else None
            return plan.joined(plan.AnyOf, kept)
        if isinstance(node, Not):
            inner = self.node(node.child, not positive)
            if inner is None:
                return None
            if inner is _NONE:
                return _ALL
            if inner is _ALL:
                return _NONE
            return plan.Excluding(inner)
        if node.field in VALUE_QUERY_FIELDS:
            return self.keyword(node)
        if isinstance(node, Prefix | Fuzzy):
            return self.expanded(node, positive)
        return self.text(node, positive)

    def phrase_of(self, run: list[Word]) -> Plan | None:
        """The phrase of a run of words in the languages where it is 2+ terms (a run whose
        other words are stop words would add its one term's score again, not a bonus), in
        the fields where it is rare enough to look for (ADJACENCY_MAX_DF); None: nowhere."""
        frequency = self.frequency
        if frequency is None:
            return None
        text = " ".join(w.text for w in run)
        # The names field as each word's own clause has it: a name in another script is
        # searched only in ANY_SCRIPT, for plain words, with the keys of words that are names.
        names = (
            self.mode is MatchMode.ANY_SCRIPT
            and run[0].field is None
            and not any(any(self.exact_words(w)) for w in run)
        )
        # Never a word's key (words hold no NUL); without names also _OWN_SCRIPT.
        key = (run[0].field, "\x00" + ("" if names else _OWN_SCRIPT) + text)
        known = self.memo.get(key) if self.memo is not None else None
        if known is None:
            every = word_analyses(text)
            analyses = tuple((lang, ts) for lang, ts in every if len(ts) >= 2)
            found = [  # (field, the lemmas of each word)
                (name, tuple(tuple(lemmas_of(t)) for t in ts))
                for lang, ts in analyses
                for name in SEARCHED_FIELDS[run[0].field, lang]
            ]
            if names:
                # The name keys side by side in the names field: a name in another script.
                # Only words whose own clauses hold their keys (typed_names), so that the
                # phrase matches no document the And does not (see adjacency_bonus).
                found += names_phrase(self.name_keys(text, every))
            phrases = [
                plan.field_query(name, words)
                for name, words in self._occurring(rare_fields(found, frequency), every=False)
            ]
            known = (plan.joined(plan.AnyOf, phrases) if phrases else None, analyses, ())
            if self.memo is not None:
                if len(self.memo) >= WORD_MEMO_SIZE:
                    self.memo.clear()
                self.memo[key] = known
        return known[0]

    def keyword(self, node: Word | Phrase | Prefix | Fuzzy) -> Plan:
        """``category:``, ``source:``, ``language:``: the documents whose value equals the
        clause's after ``fold`` (or starts with it: ``category:pol*``), exactly the
        documents the filter with that value keeps (a ``~`` asks for the value itself)."""
        assert node.field is not None
        cols = self.columns
        value = fold(node.text)
        folded = cols.folded[node.field]
        if isinstance(node, Prefix):
            prefixed = [i for key, group in folded.items() if key.startswith(value) for i in group]
            ids = np.asarray(prefixed, dtype=np.int32)
            value += "*"
        else:
            ids = matching_ids(cols, node.field, (node.text,))
        if not ids.size:
            self.warnings.append(
                unknown_value(
                    cols, node.field, _clause(node), node.text, node.pos - len(node.field) - 1
                )
            )
            return _NONE
        column = cols.ids[node.field]
        matched = value_mask(column, ids) & np.asarray(cols.live)
        docnums = np.flatnonzero(matched)
        if not docnums.size:
            return _NONE
        return plan.Values(node.field, value, docnums.astype(np.int64, copy=False))

    def exact_words(self, node: Word | Phrase) -> tuple[bool, ...]:
        """Which words of ``node`` (``analysis.words`` of its text) are exact, by its ``=``
        and the query's mode; () when none is."""
        every = self.mode is MatchMode.EXACT or (isinstance(node, Word) and node.exact)
        written = node.exact if isinstance(node, Phrase) else ()
        return exact_flags(len(split_text(node.text)), every, written)

    def word_required(self, word: Word) -> plan.Values | None:
        """``required`` of a word with its own exact words (``exact_words``)."""
        return self.required(word, self.exact_words(word))

    def required(self, node: Word | Phrase, exact: tuple[bool, ...]) -> plan.Values | None:
        """The live documents holding the forms of ``node``'s exact words, as ``Values``
        (None: it has none; with no documents: no document does); a QuerySyntaxError on a
        generation without exact forms."""
        if not any(exact):
            return None
        alternatives = requirement(node.field, split_text(node.text), exact)
        holding = self.exact_docs
        if holding is None:
            raise QuerySyntaxError(
                node.pos,
                "this index was built without exact word forms, so = and match: EXACT "
                "cannot be answered",
                REINDEX_HINT,
            )
        found = np.zeros(0, dtype=np.int64)
        for together in alternatives:
            docs = reduce(np.intersect1d, (holding(t) for t in together))
            found = np.union1d(found, docs)
        docnums = found[np.asarray(self.columns.live)[found]].astype(np.int64)
        return plan.Values(EXACT_FIELD, " | ".join(" ".join(t) for t in alternatives), docnums)

    def text(self, node: Word | Phrase, positive: bool) -> Plan | None:
        """A word or phrase: what it is analyzed to in each language, in the fields of its
        query field that hold it (the same for a Word and a one-word Phrase), required to
        hold the forms of its exact words."""
        exact = self.exact_words(node)
        names = self.mode is MatchMode.ANY_SCRIPT and not exact and node.field is None
        key = (node.field, node.text if names else _OWN_SCRIPT + node.text)
        known = self.memo.get(key) if self.memo is not None else None
        if known is None:
            analyses = word_analyses(node.text)
            # Name keys of a plain query word (any field: the names field is searched then).
            keys = self.name_keys(node.text, analyses) if names else ()
            query = self._text_query(
                node.field, analyses, keys, node.text.isascii(), node.text[:1].isupper()
            )
            known = (query, analyses, keys)
            if self.memo is not None:
                if len(self.memo) >= WORD_MEMO_SIZE:
                    self.memo.clear()
                self.memo[key] = known
        query, analyses, keys = known
        required = self.required(node, exact)
        if positive:
            self.mark(node, analyses, exact)
            for word_keys in keys:
                # A word's spelling keys mark nothing its name keys do not mark already.
                self.names.update(coarse_keys(word_keys))
        if required is None or query is None:
            return query
        return plan.Require(query, required) if required.docnums.size else _NONE

    def name_keys(self, text: str, analyses: Analyses) -> Lemmas:
        """The name keys of each word of a query word or phrase, those of a word that is no
        name emptied (``names.typed_names``, when the key frequencies are known)."""
        keys = query_name_keys(text, analyses)
        if keys and self.key_frequency is not None:
            keys = typed_names(text, analyses, keys, self.key_frequency)
        return keys

    def mark(self, node: Word | Phrase, analyses: Analyses, exact: tuple[bool, ...]) -> None:
        """What the highlighter marks for a word or phrase: its lemmas, and for an exact
        word its form (``exact.marked``) instead."""
        surface = split_text(node.text) if exact else []
        for lang, analyzed in analyses:
            if exact and not (analyzed := with_marks(surface, exact, analyzed)):
                continue  # a word without terms in this language
            if len(analyzed) == 1:
                self.marks[lang].terms.update(lemmas_of(analyzed[0]))
            else:
                self.marks[lang].phrases.add(analyzed)

    def _text_query(
        self,
        field: str | None,
        analyses: Analyses,
        keys: Lemmas,
        latin: bool = False,
        capitalized: bool = False,
    ) -> Plan | None:
        """The plan of a word or phrase in ``field``'s fields, and with ``keys`` (the
        name and spelling keys of its words, any field only) in the names field; ``latin``:
        the word or phrase is in Latin letters; ``capitalized``: it starts with a capital."""
        found = [  # (text field, the lemmas of each of the word's or phrase's words)
            (name, tuple(tuple(lemmas_of(t)) for t in analyzed))
            for lang, analyzed in analyses
            for name in SEARCHED_FIELDS[field, lang]
        ]
        coarse_keyed, spelled = names_fields(keys)
        found += coarse_keyed
        if not found:
            return None
        boost = spelling_boost(latin)
        # Beside its spelling keys, a word's coarse keys weigh COARSE_SHARE of them.
        coarse = COARSE_SHARE * boost if spelled else None
        clauses = [
            plan.field_query(name, ws, coarse if name == NAMES_FIELD else None)
            for name, ws in self._occurring(found)
        ]
        held = self._occurring(spelled, every=False)
        clauses += [plan.field_query(n, ws, boost) for n, ws in held]
        if held:
            texts = [f for f in found if f[0] != NAMES_FIELD]
            if capitalized and not latin:
                clauses += name_case(self._occurring(texts, every=False), held[0])
            elif latin and self.frequency is not None and not self._held(texts):
                # No article holds the Latin word in its text fields: a transliteration.
                clauses.append(transliterated(held[0], cyrillic(self.columns)))
        return plan.joined(plan.AnyOf, clauses)

    def _held(self, found: list[tuple[str, Lemmas]]) -> bool:
        """Whether some article holds a lemma of a word of ``found`` in its field, by the
        document frequencies (the same on both scoring paths, unlike ``present``)."""
        frequency = self.frequency
        assert frequency is not None
        return any(frequency(name, t) for name, words in found for w in words for t in w)

    def _occurring(
        self, found: list[tuple[str, Lemmas]], every: bool = True
    ) -> list[tuple[str, Lemmas]]:
        """The (field, lemmas) that can match, with the lemmas the field lacks left out: a
        term or phrase whose field lacks one of its words matches nothing and adds nothing
        to any score (most of the 12 fields a word is looked up in are other languages').
        If none can match, all are kept (``every``): the tree keeps its shape, so ``-word``
        still means every document; without ``every``, none are.  (Checked before any plan
        node is made: fewer nodes to build and evaluate.)"""
        present = self.present
        if present is None:
            return found
        kept = []
        for name, words in found:
            held = tuple(tuple(t for t in lemmas if present(name, t)) for lemmas in words)
            if all(held):
                kept.append((name, held))
        return kept or (found if every else [])

    def expanded(self, node: Prefix | Fuzzy, positive: bool) -> Plan:
        """Expand against the generation's vocabulary of surface words (titles, bodies, tags).

        At most MAX_EXPANSIONS distinct (language, term) pairs are kept, the
        most frequent first; each is searched in the node's fields of its language.
        """
        found: dict[tuple[str, str], int] = {}
        for lang in LANGUAGES:
            if self.vocabulary is None:
                break
            vocab = self.vocabulary[lang]
            text = surface(lang, node.text)
            if not text:
                continue
            if isinstance(node, Prefix):
                # Several words share a stem or lemma: look at more words than terms kept.
                candidates = vocab.prefixed(text, 4 * MAX_EXPANSIONS, scan=MAX_SCAN)
            else:
                candidates = vocab.near(text, node.distance, 4 * MAX_EXPANSIONS)
            for word in candidates:
                analyzed = terms(lang, word)
                if len(analyzed) == 1:
                    for lemma in lemmas_of(analyzed[0]):
                        key = (lang, lemma)
                        found[key] = max(found.get(key, 0), vocab.frequency(word))
        chosen = sorted(found, key=lambda k: (-found[k], k))[:MAX_EXPANSIONS]
        clauses: list[Plan] = []
        for lang, term in chosen:
            if positive:
                self.marks[lang].terms.add(term)
            for kind in QUERY_KINDS[node.field]:
                name = f"{kind}_{lang}"
                clauses.append(plan.Term(name, term, boost=_BOOSTS[name]))
        if not clauses:
            return _NONE
        return plan.joined(plan.AnyOf, clauses)


def _clause(node: Word | Phrase | Prefix | Fuzzy) -> str:
    """A field clause as it was written (near enough: ``category:war``)."""
    if isinstance(node, Phrase):
        value = f'"{node.text}"'
    elif isinstance(node, Prefix):
        value = f"{node.text}*"
    elif isinstance(node, Fuzzy):
        value = f"{node.text}~{node.distance}"
    else:
        value = node.text
    return f"{node.field}:{value}"


def word_analyses(text: str) -> Analyses:
    """(language, position terms) of a query word or phrase in every language that has terms
    for it (each word's terms are remembered by ``analysis.word_terms``; ``lemmas_of`` splits
    an ambiguous word's)."""
    found = []
    for lang in LANGUAGES:
        analyzed = terms(lang, text)
        if analyzed:
            found.append((lang, tuple(analyzed)))
    return tuple(found)


def compile_query(
    node: Node,
    columns: Columns,
    vocabulary: Vocabulary | None = None,
    present: Present | None = None,
    memo: CompiledWords | None = None,
    frequency: Frequency | None = None,
    mode: MatchMode = MatchMode.ANY_SCRIPT,
    exact_docs: ExactDocs | None = None,
    key_frequency: Frequency | None = None,
) -> Compiled:
    """The query plan for ``node`` and the highlight marks per language.

    ``columns`` (the generation's) answer ``category:``/``source:``/``language:``
    clauses, by the filters' rule.

    ``vocabulary`` (the generation's surface words) expands prefixes and fuzzy
    words; without it they match nothing.  With ``present``, words' terms and
    phrases are looked up only in the fields that hold them (same matches, same
    scores, a smaller query).  ``memo`` remembers each word's compiled form: give one
    per generation and ``present`` (it depends on both), and a word is analyzed and
    looked up once, not in every query (a third of compiling a warm query).
    ``frequency`` (the generation's document frequencies) gates the adjacency bonus of
    capitalized runs (``namequery.adjacency_bonus``); without it there is none.
    ``mode`` says what words match (``MatchMode``); ``exact_docs`` gives the documents
    holding an exact form (the generation's postings; without it an exact word is a
    QuerySyntaxError).  ``key_frequency`` (document frequencies of single keys and lemmas,
    from the postings) tells which words typed in lower case are names
    (``names.typed_names``); without it every word is.
    Raises QuerySyntaxError when nothing in the query is searchable (``!!!``).
    """
    compiler = _Compiler(
        columns, vocabulary, present, memo, frequency, mode, exact_docs, key_frequency
    )
    q = compiler.node(node)
    if q is None:
        raise QuerySyntaxError(0, "no searchable words", "use letters or digits")
    names = frozenset(compiler.names)
    if names:
        for lang in LANGUAGES:
            compiler.marks[lang]  # every language's articles may hold a matched name
    marks = {
        lang: MatchTerms(terms=frozenset(m.terms), phrases=tuple(sorted(m.phrases)), names=names)
        for lang, m in compiler.marks.items()
    }
    warnings = tuple(compiler.warnings)
    if q is _ALL or q is _NONE:
        return Compiled(query=q, marks=marks, warnings=warnings)
    # A purely negative query is anchored on every document (a tree Whoosh's normalize
    # would change: Every inside an And makes it Every, so it is never normalized again).
    if _only_negative(q):
        q = plan.AllOf((EVERY, q))
    return Compiled(query=q, marks=marks, warnings=warnings)


def _only_negative(q: Plan) -> bool:
    """Whether a simplified plan has no positive clause at its top."""
    if isinstance(q, plan.Excluding):
        return True
    if isinstance(q, plan.AllOf):
        return all(_only_negative(c) for c in q.parts)
    return False
