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

Whoosh pickles the schema's field and analyzer classes into each index by module path.
Generations built before the project's packages moved under ``newsearch`` name them
``search.analysis.LemmaFilter``, ``search.storage.whoosh.TermsText`` or, older still,
``search.fields.TermsText``: ``legacy_paths`` lets those paths resolve to today's modules, so
such a generation still opens (and says, through its analysis version, when to rebuild).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Generator, Sequence
from functools import cache
from pathlib import Path
from types import ModuleType
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

from newsearch.search.analysis import (
    LANGUAGES,
    LEMMA_SEPARATOR,
    TAG_SEPARATOR,
    Pipeline,
    Tokens,
    field_language,
    tags_analyzer,
    text_analyzer,
)
from newsearch.search.fields import NAMES_FIELD
from newsearch.search.lifetime import end_with_parent
from newsearch.search.model import Article
from newsearch.search.storage.whoosh_query import (
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
LEGACY_PACKAGE = "search"
"""The import name ``newsearch.search`` had before the project's packages moved under
``newsearch``: old generations' Whoosh schemas name their classes under it."""


class _LegacyPaths(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolves ``search`` and ``search.X`` to the modules ``newsearch.search[.X]`` themselves
    (one module object under two names, so unpickled classes are today's classes).

    Two are installed: ``search`` itself is resolved by the last finder of ``sys.meta_path``, so
    a package of another distribution named ``search`` still wins; ``search.X`` by the first,
    once ``search`` is ours (else the path finder would load a second copy of ``X`` from our
    folder and put it in ``newsearch.search``'s namespace).
    """

    def __init__(self, submodules: bool) -> None:
        self.submodules = submodules

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        """A spec for a legacy name whose module exists today, else None."""
        if self.submodules:
            ours = sys.modules.get(f"newsearch.{LEGACY_PACKAGE}")
            if not fullname.startswith(LEGACY_PACKAGE + ".") or (
                ours is None or sys.modules.get(LEGACY_PACKAGE) is not ours
            ):
                return None
        elif fullname != LEGACY_PACKAGE:
            return None
        try:
            module = importlib.import_module(f"newsearch.{fullname}")
        except ImportError:
            return None
        own = module.__spec__  # put back by exec_module
        return importlib.machinery.ModuleSpec(
            fullname, self, is_package=hasattr(module, "__path__"), loader_state=own
        )

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        """Today's module, not a new one."""
        return sys.modules[f"newsearch.{spec.name}"]

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run; the import system set the module's ``__spec__`` to the legacy
        name's, so give it back its own."""
        alias = module.__spec__
        if alias is not None and alias.loader_state is not None:
            module.__spec__ = alias.loader_state


def legacy_paths() -> None:
    """Let old generations' pickled class paths (``search.…``) resolve (idempotent)."""
    if not any(isinstance(finder, _LegacyPaths) for finder in sys.meta_path):
        sys.meta_path.insert(0, _LegacyPaths(submodules=True))
        sys.meta_path.append(_LegacyPaths(submodules=False))


legacy_paths()


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
is a segment, and Whoosh's matchers (phrases without positions in our postings, the reference
path) walk its segments, so smaller chunks slow them down; larger ones take more memory per
writer."""
POSTINGS_COMPRESSION = 0
"""zlib level of the blocks of Whoosh's postings: none.  Compressing them is a noticeable
part of a build's time (level 1 no less than Whoosh's default 3), while only Whoosh's
matchers (see CHUNK_POSTINGS) read them; Whoosh's files are larger, and an uncompressed
block is read without zlib."""
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
