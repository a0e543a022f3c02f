"""The Whoosh door: the only way into Whoosh for ``search/``, ``indexer/`` and ``schema/``
(with its siblings ``whoosh_*.py``; a test keeps every other module from importing it).

The Whoosh segment format of a generation (its ``whoosh/`` folder): the schema and how an
Article maps onto it, the storage both sides open it through, and the writer of a build (in
chunks when parallel).

Per language L in LANGUAGES there are three analyzed fields: ``title_L``,
``body_L`` and ``tags_L``; an article fills only its own language's fields,
so every query term is analyzed by each language's analyzer and matched
against that language's text.  The ``names`` field, shared by all languages, holds
the name keys of the name-like words of title and body (``names.py``), so that a
name is found in any script.  (The exact forms ``=Львова`` asks for are in our own
postings only, see ``exact.py``.)  Exact
facet values (tags, category, source, language) and dates live in the numpy columns
(see ``columns.py``).  The article itself is stored once, in the generation's records
(``articles.py``); generations of earlier versions also kept it in a stored ``doc`` field,
which is read only when they have no records.

Whoosh pickles the schema's field classes into each index by module path: ``TermsText``
is also reachable as ``search.fields.TermsText``, its path before this module held it.
"""

from __future__ import annotations

from collections.abc import Generator
from functools import cache
from pathlib import Path
from typing import Any, cast

from whoosh import analysis as whoosh_analysis
from whoosh import fields, formats
from whoosh.codec.whoosh3 import W3Codec
from whoosh.filedb.filestore import FileStorage
from whoosh.multiproc import MpWriter, _run_subwriter
from whoosh.spelling import ListCorrector
from whoosh.support.levenshtein import damerau_levenshtein
from whoosh.util.numeric import byte_to_length
from whoosh.writing import IndexWriter

from search.analysis import (
    LANGUAGES,
    LEMMA_SEPARATOR,
    TAG_SEPARATOR,
    Pipeline,
    Tokens,
    field_language,
    tags_analyzer,
    text_analyzer,
)
from search.fields import NAMES_FIELD
from search.lifetime import end_with_parent
from search.model import Article
from search.storage.whoosh_query import (
    AnyLemma,
    Searcher,
    ValuesQuery,
    to_whoosh,
    whoosh_matches,
    whoosh_query_matches,
)

__all__ = [
    "AnyLemma",
    "ListCorrector",
    "PipelineAnalyzer",
    "Searcher",
    "TermsText",
    "ValuesQuery",
    "Writer",
    "build_schema",
    "byte_to_length",
    "codec",
    "create_whoosh",
    "damerau_levenshtein",
    "document",
    "open_whoosh",
    "to_whoosh",
    "whoosh_matches",
    "whoosh_query_matches",
]

_SINGLE_POSITIONS = 4096


@cache
def _single_positions() -> list[bytes]:
    """Whoosh's encoding of each one-position list (a term once in a text: most postings).

    Made on the first index call, not at import (servers never index; 5 ms).
    """
    encode = formats.Positions().encode
    return [encode([i]) for i in range(_SINGLE_POSITIONS)]


class PipelineAnalyzer(whoosh_analysis.Analyzer):  # type: ignore[misc]  # whoosh is Any
    """One of our analysis pipelines (``analysis.py``) as the Whoosh analyzer of a schema
    field: Whoosh calls it with its tokenizer keywords and reads our tokens as its own."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    def __call__(self, value: str, **kwargs: Any) -> Tokens:
        return self.pipeline(value, **kwargs)

    def has_morph(self) -> bool:
        """Whether a filter of the pipeline changes words' forms."""
        return self.pipeline.has_morph()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PipelineAnalyzer) and other.pipeline == self.pipeline

    def __hash__(self) -> int:
        return hash(self.pipeline)

    def __repr__(self) -> str:
        return f"PipelineAnalyzer({self.pipeline!r})"


def whoosh_analyzer(analyzer: Pipeline | Any) -> Any:
    """A Whoosh analyzer for ``analyzer``: ours wrapped, Whoosh's own as it is."""
    return PipelineAnalyzer(analyzer) if isinstance(analyzer, Pipeline) else analyzer


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

    def __init__(self, analyzer: Pipeline | Any) -> None:
        super().__init__(analyzer=whoosh_analyzer(analyzer))
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
        "category": fields.KEYWORD(lowercase=True, commas=True, scorable=False),
        "source": fields.KEYWORD(lowercase=True, commas=True, scorable=False),
        "language": fields.ID(),
    }
    for lang in LANGUAGES:
        spec[f"title_{lang}"] = TermsText(text_analyzer(lang))
        spec[f"body_{lang}"] = TermsText(text_analyzer(lang))
        spec[f"tags_{lang}"] = fields.TEXT(analyzer=whoosh_analyzer(tags_analyzer(lang)))
    # Name keys of title and body (``names.name_positions``), given as position terms.
    spec[NAMES_FIELD] = TermsText(text_analyzer("other"))
    return fields.Schema(**spec)


def document(article: Article) -> dict[str, Any]:
    """The Whoosh document for an article whose language is already set."""
    lang = field_language(article.language)
    doc: dict[str, Any] = {
        "id": article.id,
        "hash": article.content_hash,
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


CHUNK_POSTINGS = 1_500_000
"""Postings per worker in a chunk of a parallel build: about 6,000 news articles.  Each chunk
is a segment, and phrase checks walk Whoosh's segments, so smaller chunks slow phrases down;
larger ones take more memory per writer."""
POSTINGS_COMPRESSION = 0
"""zlib level of the blocks of Whoosh's postings: none.  Compressing them is a noticeable
part of a build's time (level 1 no less than Whoosh's default 3), while only phrase checks and
keyword fields read them; Whoosh's files are larger, and an uncompressed block is read
without zlib."""
CHUNK_LIMIT_MB = 512
"""Whoosh's in-memory sorting limit per worker: above its estimate for CHUNK_POSTINGS
(a writer may take more than half a chunk), so a chunk never spills."""


def _storage(path: Path, readonly: bool) -> FileStorage:
    """The Whoosh storage in ``path``, read through file handles rather than mmap.

    With mmap, whoosh3's compound segment copies each sub-file it opens into a ``BytesIO``
    (``BufferFile``), for every reader: every search thread's searcher would hold a private copy
    of the postings, terms and columns, twice while a new generation replaces the old one, and
    freed copies stay in the heap; reading back a large build's segments would hold them all
    in RAM.  Plain reads search as fast (page cache); the files stay open while a searcher
    lives, so ``Generation`` closes its searchers when dropped.
    """
    return FileStorage(str(path), supports_mmap=False, readonly=readonly)


def create_whoosh(path: Path) -> Any:
    """A new, empty Whoosh index with the generation schema in the existing folder ``path``."""
    return _storage(path, readonly=False).create_index(build_schema())


def open_whoosh(path: Path, *, writable: bool = False) -> Any:
    """The Whoosh index in ``path``: read-only unless ``writable`` (a build's own copy)."""
    return _storage(path, readonly=not writable).open_index()


def codec() -> W3Codec:
    """Whoosh's codec (its default, W3) with POSTINGS_COMPRESSION."""
    return W3Codec(compression=POSTINGS_COMPRESSION)


def _subwriter(*args: Any) -> None:
    """A Whoosh sub-writer process that ends with the build that started it."""
    end_with_parent()
    _run_subwriter(*args)


class _ParallelWriter(MpWriter):  # type: ignore[misc]
    """Whoosh's multi-process writer whose sub-writers end with the build (see lifetime.py).

    The same as ``MpWriter._new_task`` for an explicit start method, with another target.
    """

    def _new_task(self) -> Any:
        args = (
            self.storage,
            self.indexname,
            self.jobqueue,
            self.resultqueue,
            self.subargs,
            self.multisegment,
        )
        task = self._mpctx.Process(target=_subwriter, args=args)
        self.tasks.append(task)
        task.start()
        return task


class Writer:
    """The Whoosh writer of one run; a parallel build commits it in chunks.

    Whoosh sorts each sub-writer's postings in memory while they fit in
    ``limitmb``; past that it spills sorted runs to disk and merges them back,
    pickling every posting twice, which slows a build down markedly.  A
    parallel build from nothing therefore commits a segment per worker every
    ``CHUNK_POSTINGS`` postings (a size that never spills), which also bounds
    the writers' memory on any corpus, at the price of more segments (not
    merged: our postings score queries, Whoosh's segments count little).
    """

    def __init__(self, ix: Any, workers: int, chunked: bool) -> None:
        self.ix = ix
        self.workers = workers
        self.chunked = chunked and workers > 1
        self.postings = 0
        self.writer = self._open()

    def _open(self) -> IndexWriter:
        if self.chunked:
            return _ParallelWriter(
                self.ix,
                procs=self.workers,
                multisegment=True,
                limitmb=CHUNK_LIMIT_MB,
                start_method="forkserver",
                codec=codec(),
            )
        return cast(IndexWriter, self.ix.writer(limitmb=128, codec=codec()))

    def add(self, document: dict[str, Any], postings: int) -> None:
        """Add a document that makes about ``postings`` postings."""
        if self.chunked and self.postings + postings > CHUNK_POSTINGS * self.workers:
            self.writer.commit(merge=False)
            self.writer = self._open()
            self.postings = 0
        self.writer.add_document(**document)
        self.postings += postings

    def delete_by_term(self, fieldname: str, text: str) -> None:
        """Delete the documents with this term."""
        self.writer.delete_by_term(fieldname, text)

    def commit(self) -> None:
        """Commit what is left (chunks' segments are never merged)."""
        if self.chunked:
            self.writer.commit(merge=False)
        else:
            self.writer.commit()

    def cancel(self) -> None:
        """Abandon the uncommitted part (the caller removes the generation folder)."""
        self.writer.cancel()
