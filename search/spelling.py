"""Did you mean: corrections from the index's own vocabulary, kept only if they find more.

Corrections come from the generation's vocabulary of surface words
(``мобілізація``, not the lemma; see ``vocab.py``), in the query word's script and
language: Latin words are corrected from English and the rest; a Cyrillic word
from Ukrainian or Russian texts only when its letters or the dictionaries say
which it is (``Ходорковский`` is Russian: never "corrected" to the Ukrainian
``Ходорковський``), else from both.  Only words that find nothing by themselves
in any form are corrected (as Lucene's default ``SUGGEST_WHEN_NOT_IN_INDEX``:
``energy`` is never "corrected" to ``every``).  The nearest candidate wins, the
more frequent on a tie (``Brwn`` -> ``Brown``, not ``been``), and it is written
the way the user wrote the word (``Brwn`` -> ``Brown``, ``BRWN`` -> ``BROWN``).  A
correction is offered only when the corrected query finds more hits than the
original.
"""

from __future__ import annotations

from collections.abc import Callable

from newsearch.search.analysis import lemmas_of
from newsearch.search.compile import SEARCHED_FIELDS, Present, word_analyses
from newsearch.search.querylang import OPERATORS, Word, leaves
from newsearch.search.querylang import Node as QueryNode
from newsearch.search.storage.vocab import Vocabulary, surface
from newsearch.search.storage.whoosh import Searcher, damerau_levenshtein
from newsearch.search.ukru import ukrainian_or_russian

MAX_WORDS = 4
CANDIDATES = 4
MAX_DISTANCE = 2


def _cyrillic(word: str) -> bool:
    """Whether at least half the letters of ``word`` are Cyrillic."""
    letters = [c for c in word if c.isalpha()]
    return sum(1 for c in letters if "\u0400" <= c <= "\u04ff") * 2 >= len(letters) > 0


def word_languages(word: str) -> tuple[str, ...]:
    """The vocabularies ``word`` is corrected from: ``en`` and ``other`` for a Latin word;
    ``uk`` or ``ru`` for a Cyrillic one whose letters or dictionary entry belong to one of
    them (``мобілізацію``, ``Ходорковский``), else both."""
    if not _cyrillic(word):
        return ("en", "other")
    language = ukrainian_or_russian(word)
    return (language,) if language else ("uk", "ru")


def written_like(candidate: str, written: str) -> str:
    """``candidate`` with the capitalization of the word the user wrote: UPPER, Title or
    as the vocabulary has it (lower case)."""
    letters = [c for c in written if c.isalpha()]
    if len(letters) > 1 and all(c.isupper() for c in letters):
        return candidate.upper()
    if letters and letters[0].isupper():
        return candidate[:1].upper() + candidate[1:]
    return candidate


def candidates(vocabulary: Vocabulary, word: str) -> list[str]:
    """Archive words close to ``word``, in its script and language, nearest first and the
    more frequent first among equally near ones; lower case, as the vocabulary has them."""
    cyrillic = _cyrillic(word)
    scored: dict[str, tuple[int, int]] = {}
    for lang in word_languages(word):
        lowered = surface(lang, word)
        words = vocabulary[lang]
        for found in words.near(lowered, maxdist=MAX_DISTANCE, limit=CANDIDATES):
            if found == lowered or _cyrillic(found) != cyrillic:
                continue
            distance = damerau_levenshtein(lowered, found, MAX_DISTANCE + 1)
            frequency = words.frequency(found)
            best = scored.get(found)
            if best is None or (distance, -frequency) < best:
                scored[found] = (distance, -frequency)
    return sorted(scored, key=lambda w: (scored[w], w))


def known(searcher: Searcher, word: str, present: Present | None = None) -> bool:
    """Whether ``word`` alone matches some title, body or tags in some language.

    ``present`` (the generation's postings) says whether a field holds a term in some
    live document; without it Whoosh's document frequencies are asked, segment by
    segment (a fifth of a typo query's time on a 26-segment index).
    """
    if present is None:
        reader = searcher.reader()
        indexed = set(reader.indexed_field_names())

        def present(name: str, term: str) -> bool:
            return name in indexed and bool(reader.doc_frequency(name, term))

    for lang, analyzed in word_analyses(word):
        for name in SEARCHED_FIELDS[None, lang]:
            # An ambiguous word is there when one of its lemmas is.
            if all(any(present(name, lemma) for lemma in lemmas_of(t)) for t in analyzed):
                return True
    return False


def did_you_mean(
    text: str,
    node: QueryNode,
    total: int,
    searcher: Searcher,
    vocabulary: Vocabulary,
    count: Callable[[str], int],
    present: Present | None = None,
) -> str | None:
    """A corrected query finding more than ``total`` hits, or None.

    Each word that finds nothing by itself (up to MAX_WORDS of them) is
    replaced, in turn, by its first candidate (``candidates``: nearest, then
    most frequent) with which the query finds more than it did, or by its
    first candidate when none does yet, so that several misspelt words can be
    corrected together; the result is offered only if it finds more than the
    original.  A replacement keeps the written word's capitalization; the rest
    of the query is kept as written.  Tag/category/source/language words and
    operators are left alone.
    """
    best_text, best_total = text, total
    words = [
        leaf
        for leaf in leaves(node)
        if isinstance(leaf, Word) and leaf.field in (None, "title", "body")
    ]
    shift = 0
    for leaf in words[:MAX_WORDS]:
        written = leaf.text
        if not any(c.isalpha() for c in written) or known(searcher, written, present):
            continue
        # ``pos`` is where the word itself starts (after ``title:`` for a fielded word).
        start = leaf.pos + shift
        if best_text[start : start + len(written)] != written:
            continue
        chosen: tuple[str, int] | None = None
        for found in candidates(vocabulary, written):
            candidate = written_like(found, written)
            if candidate in OPERATORS:  # NO -> NOT would be read as an operator, not a word
                continue
            trial = best_text[:start] + candidate + best_text[start + len(written) :]
            hits = count(trial)
            if chosen is None or hits > best_total:
                chosen = (candidate, hits)
            if hits > best_total:
                break
        if chosen is not None:
            best_text = best_text[:start] + chosen[0] + best_text[start + len(written) :]
            shift += len(chosen[0]) - len(written)
            best_total = chosen[1]
    return best_text if best_text != text and best_total > total else None
