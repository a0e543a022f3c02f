"""Preparing articles to index, in worker processes: language, analysis, numbered terms.

Each batch of articles is prepared in one process and comes back as a
``PreparedBatch``: per article the Whoosh document (title and body already
analyzed), its record, its postings and its vocabulary words, the terms and words as numbers
of that process's ``RunNumbers`` for the run, and the strings numbered while
preparing the batch (see ``search/numbering.py``).
"""

from __future__ import annotations

from array import array
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from newsearch.indexer.language import detect_language
from newsearch.search.analysis import (
    analyze_word,
    field_language,
    lemmas_of,
    split_words,
    tags_analyzer,
    word_term,
)
from newsearch.search.exact import EXACT_FIELD, exact_terms
from newsearch.search.fields import FIELD_KINDS, NAMES_FIELD
from newsearch.search.model import Article
from newsearch.search.names import name_positions
from newsearch.search.storage.articles import encode_record
from newsearch.search.storage.numbering import Fresh, RunNumbers
from newsearch.search.storage.postings import (
    FIELD_INDEX,
    MAX_TF,
    FieldStats,
    NumberedStats,
    capped_counts,
)
from newsearch.search.storage.vocab import article_word_numbers, vocabulary_words_of
from newsearch.search.storage.whoosh import document

_EXACT_INDEX = FIELD_INDEX[EXACT_FIELD]
_RUNS_KEPT = 4
_RUNS: dict[str, RunNumbers] = {}
"""This process's numbers for the runs it prepares for (the last few; one in a worker)."""


def with_language(article: Article) -> Article:
    """The article with its language set: the source's, or a detected one."""
    if article.language:
        return article
    return article.with_language(detect_language(article.title, article.body), detected=True)


@dataclass(frozen=True)
class Prepared:
    """An article ready to index: language set, Whoosh document analyzed, postings counted.

    It holds what the main process needs, and goes there pickled: the article as its
    record (``articles.encode_record``; Whoosh does not store it), terms and words as
    numbers (int32 bytes).
    """

    id: str
    language: str
    document: dict[str, Any]
    record: bytes
    stats: list[NumberedStats]
    words: bytes
    """Its distinct vocabulary words (``article_words``), numbered."""

    @property
    def postings(self) -> int:
        """About how many postings Whoosh makes of it: its text terms and a few keywords
        (its exact forms are in our postings only)."""
        return len(self.document) + sum(
            len(terms) // 4 for field, terms, *_ in self.stats if field != _EXACT_INDEX
        )


@dataclass(frozen=True)
class PreparedBatch:
    """Prepared articles, with the origins of their numbers and the strings numbered
    while preparing them."""

    items: list[Prepared]
    terms: tuple[str, Fresh[str]]
    """(origin, fresh terms) for ``PostingsBuilder``."""
    words: tuple[str, Fresh[tuple[str, str]]]
    """(origin, fresh (language, word) keys) for ``VocabularyBuilder``."""


@dataclass(frozen=True)
class Analyzed:
    """An article analyzed once for Whoosh, the postings and the vocabulary."""

    document: dict[str, Any]
    """The Whoosh document."""
    stats: list[FieldStats]
    """Its postings, per field."""
    words: list[str]
    """The surface words of title and body, as the tokenizer split them."""


@dataclass(frozen=True)
class NumberedDocument:
    """``Analyzed`` with its terms numbered by a run (``RunNumbers``)."""

    document: dict[str, Any]
    stats: list[NumberedStats]
    words: list[str]


def numbered_document(article: Article, run: RunNumbers) -> NumberedDocument:
    """The Whoosh document of ``article`` with title and body analyzed once, and its
    postings with the terms numbered by ``run``.

    Title and body go to Whoosh as token lists (Whoosh indexes a list as
    pre-analyzed tokens at consecutive positions, exactly what the text analyzer
    yields), so the analysis done here for the postings is not repeated by
    Whoosh.  Tags keep their string: their analyzer leaves position gaps between
    tags, which a token list cannot express.
    """
    doc = document(article)
    lang = field_language(article.language)
    terms = run.terms.keys
    stats: list[NumberedStats] = []
    surface: list[str] = []
    texts: dict[str, tuple[list[str], list[str]]] = {}
    for kind in FIELD_KINDS:
        name = f"{kind}_{lang}"
        value = doc.get(name)
        if not value:
            continue
        if kind == "tags":
            # Whoosh analyzes tags itself (their positions have gaps between tags).
            tokens = [
                (run.terms.number(t.text), t.pos)
                for t in tags_analyzer(lang)(value, positions=True)
            ]
            if tokens:
                stats.append(_token_stats(name, tokens))
            continue
        parts = split_words(value)
        split = parts[1::2]
        surface += split
        # Exactly text_terms(lang, value), with the words kept for the vocabulary.
        numbers = run.term_numbers(lang, split)
        doc[name] = list(map(terms.__getitem__, numbers))
        texts[kind] = (parts, doc[name])
        if numbers:
            stats.append(_positional_stats(name, *_lemma_tokens(numbers, run.lemmas)))
    names = _names(lang, texts)
    if names:
        doc[NAMES_FIELD] = names
        tokens = [
            (run.terms.number(key), i)
            for i, term in enumerate(names)
            if term
            for key in lemmas_of(term)
        ]
        if tokens:
            stats.append(_token_stats(NAMES_FIELD, tokens))
    held = exact_terms(
        texts["title"][0][1::2] if "title" in texts else (),
        texts["body"][0][1::2] if "body" in texts else (),
        article.tags,
    )
    if held:  # each form once: a document holds it or not (exact.py)
        stats.append(_field_stats(EXACT_FIELD, Counter(map(run.terms.number, held))))
    return NumberedDocument(doc, stats, surface)


def _field_stats(name: str, counts: Counter[int]) -> NumberedStats:
    """One field's postings without positions (the exact field): its term numbers, their
    frequencies (at most ``MAX_TF``, the most a uint16 holds) and its length."""
    length = counts.total()
    freqs = list(counts.values())
    if length > MAX_TF:  # only then can a frequency be over MAX_TF
        freqs = [min(f, MAX_TF) for f in freqs]
    return (
        FIELD_INDEX[name],
        array("i", counts).tobytes(),
        array("H", freqs).tobytes(),
        length,
        b"",
    )


def _positional_stats(name: str, terms: npt.NDArray[Any], where: npt.NDArray[Any]) -> NumberedStats:
    """One field's postings from its tokens (term number ``terms[i]`` at position
    ``where[i]``, positions ascending): its term numbers in increasing order, their
    frequencies (at most ``MAX_TF``, the most a uint16 holds), its length as Whoosh counts
    it (its tokens, so each lemma of an ambiguous word counts, the same in both scoring
    paths) and each term's positions in turn, as Whoosh stores them.  A term whose frequency
    reaches MAX_TF has none (``capped_counts``: its phrases go to Whoosh); the field's other
    terms keep theirs."""
    terms = terms.astype(np.int32, copy=False)
    order = np.argsort(terms, kind="stable")  # a term's positions stay ascending
    grouped = terms[order]
    firsts = np.flatnonzero(np.concatenate(([True], grouped[1:] != grouped[:-1])))
    freqs = np.diff(np.append(firsts, grouped.shape[0]))
    tf = np.minimum(freqs, MAX_TF).astype(np.uint16)
    positions = where[order]
    if int(freqs.max()) >= MAX_TF:
        positions = positions[np.repeat(capped_counts(tf).astype(np.bool_), freqs)]
    return (
        FIELD_INDEX[name],
        grouped[firsts].tobytes(),
        tf.tobytes(),
        int(terms.shape[0]),
        positions.astype(np.uint32).tobytes(),
    )


def _token_stats(name: str, tokens: list[tuple[int, int]]) -> NumberedStats:
    """``_positional_stats`` of (term number, position) pairs."""
    pairs = np.array(tokens, dtype=np.int64)
    return _positional_stats(name, pairs[:, 0], pairs[:, 1])


def _lemma_tokens(
    numbers: list[int], lemmas: dict[int, tuple[int, ...]]
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int64]]:
    """(term numbers, positions) of a text's tokens from its position terms (``numbers[i]``
    at position ``i``): an ambiguous word's lemmas each at its position, as Whoosh's
    analyzer gives them (``SplitLemmas``) and ``TermsText`` indexes them."""
    terms = np.array(numbers, dtype=np.int32)
    where = np.arange(terms.shape[0], dtype=np.int64)
    ambiguous = sorted(lemmas.keys() & set(numbers)) if lemmas else []
    if not ambiguous:
        return terms, where
    table = np.array(ambiguous, dtype=np.int32)
    sizes = np.array([len(lemmas[a]) for a in ambiguous], dtype=np.int64)
    flat = np.array([n for a in ambiguous for n in lemmas[a]], dtype=np.int32)
    at = np.minimum(np.searchsorted(table, terms), table.shape[0] - 1)
    hit = table[at] == terms
    reps = np.where(hit, sizes[at], 1)
    where = np.repeat(where, reps)
    first = np.cumsum(reps) - reps  # each position's first token
    within = np.arange(where.shape[0]) - np.repeat(first, reps)
    expanded = terms[where]
    split = hit[where]
    offsets = np.cumsum(sizes) - sizes
    expanded[split] = flat[offsets[at[where[split]]] + within[split]]
    return expanded, where


def _names(lang: str, texts: dict[str, tuple[list[str], list[str]]]) -> list[str]:
    """The names field of an article: the name keys of its title's and body's name-like
    words at their positions, one empty position between title and body (no phrase spans
    them); empty when it has no name."""
    body = name_positions(lang, *texts["body"]) if "body" in texts else []
    title: list[str] = []
    if "title" in texts:
        known = {k for term in body if term for k in lemmas_of(term)}
        title = name_positions(lang, *texts["title"], known=known, title=True)
    if not any(title) and not any(body):
        return []
    return [*title, "", *body]


def analyzed_document(article: Article) -> Analyzed:
    """``numbered_document`` with the terms as strings (for one article at a time)."""
    run = RunNumbers(word_term, lambda lang, word: ())
    found = numbered_document(article, run)
    stats: list[FieldStats] = []
    for field_index, numbers, freqs, length, positions in found.stats:
        terms = [run.terms.keys[n] for n in array("i", numbers)]
        stats.append((field_index, terms, array("H", freqs).tolist(), length, positions))
    return Analyzed(found.document, stats, found.words)


def run_numbers(run: str) -> RunNumbers:
    """This process's numbers for ``run`` (new ones for a run it has not met)."""
    found = _RUNS.get(run)
    if found is None:
        while len(_RUNS) >= _RUNS_KEPT:  # a run forgotten and met again gets new origins
            _RUNS.pop(next(iter(_RUNS)), None)
        # The run remembers each word's term: the analysis' own memory would be a second copy.
        found = _RUNS[run] = RunNumbers(analyze_word, vocabulary_words_of)
    return found


def prepare(article: Article, numbers: RunNumbers) -> Prepared:
    """Detect the language if needed and analyze the article (once, for Whoosh and postings)."""
    article = with_language(article)
    analyzed = numbered_document(article, numbers)
    # The vocabulary takes the analysis' own split of title and body.
    words = article_word_numbers(article, analyzed.words, numbers)
    return Prepared(
        article.id,
        article.language,
        analyzed.document,
        encode_record(article),
        analyzed.stats,
        words,
    )


def prepare_batch(batch: list[Article], run: str) -> PreparedBatch:
    """Prepare a batch for ``run`` (any string naming the run, the same in every process)."""
    numbers = run_numbers(run)
    items = [prepare(a, numbers) for a in batch]
    return PreparedBatch(
        items,
        (numbers.terms.origin, numbers.terms.fresh()),
        (numbers.words.origin, numbers.words.fresh()),
    )
