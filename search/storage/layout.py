"""The on-disk layout of an index directory and its generations.

::

    INDEX/
      CURRENT                 name of the served generation, replaced atomically
      writer.lock             pid of the writer holding the lock (see indexer/lock.py)
      generations/
        g000007/
          whoosh/             the Whoosh index (analysis, postings, stored articles; whoosh.py)
          columns/            numpy columns (columns.py)
            vocab.json        surface words for spelling (vocab.py)
          postings/           per-term postings with BM25F weights (postings/)
          articles/           articles as records read by position (articles.py)
          manifest.json       generation, parent, built_at, documents, sources, ...
        g000006/              the previous generation, kept for rollback

A generation is complete before CURRENT names it and never changes after,
so a reader sees the old or the new index, never a partial one.  Every name above is
defined here; the files inside each format's folder are named by that format's module.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

CURRENT = "CURRENT"
GENERATIONS = "generations"
MANIFEST_FILE = "manifest.json"
WHOOSH_DIR = "whoosh"
COLUMNS_DIR = "columns"
VOCAB_FILE = "vocab.json"
"""In ``COLUMNS_DIR``."""
POSTINGS_DIR = "postings"
ARTICLES_DIR = "articles"
_NAME = re.compile(r"^g(\d{6,})$")


class IndexNotFound(Exception):
    """There is no served generation in the index directory."""


@dataclass(frozen=True)
class Manifest:
    """Facts about one generation, written when it is complete."""

    generation: str
    parent: str | None
    built_at: str
    documents: int
    sources: list[str]
    """The absolute paths the articles were read from (a build's, plus those of later updates;
    writes through the API keep them), which ``reindex`` reads again."""
    api_changes: int = 0
    """Articles upserted or deleted through the API since the sources were last read in full
    (a rebuild from the sources does not have these changes)."""
    read_options: dict[str, str] = field(default_factory=dict)
    """How ``.txt`` sources were read (``newsearch.indexer.plain.ReadOptions.to_json``)."""

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "generation": self.generation,
            "parent": self.parent,
            "built_at": self.built_at,
            "documents": self.documents,
            "sources": self.sources,
            "api_changes": self.api_changes,
            "read_options": self.read_options,
        }


def fsync_dir(path: Path) -> None:
    """Make a rename or creation inside ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_synced(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` and force it to disk (a generation's files are durable
    before CURRENT names the generation)."""
    with path.open("w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``: readers see the old or the new content, never a mix."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    write_synced(tmp, text)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def save_synced(path: Path, value: npt.NDArray[Any]) -> None:
    """Save one array as ``.npy`` and force it to disk."""
    with path.open("wb") as f:
        np.save(f, value, allow_pickle=False)
        f.flush()
        os.fsync(f.fileno())


class Layout:
    """Paths and pointers of one index directory."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @property
    def generations_dir(self) -> Path:
        """Where generation folders live."""
        return self.root / GENERATIONS

    def generation_dir(self, name: str) -> Path:
        """The folder of generation ``name``."""
        if not _NAME.match(name):
            raise ValueError(f"not a generation name: {name!r}")
        return self.generations_dir / name

    def whoosh_dir(self, name: str) -> Path:
        """The Whoosh index of generation ``name``."""
        return self.generation_dir(name) / WHOOSH_DIR

    def columns_dir(self, name: str) -> Path:
        """The numpy columns of generation ``name``."""
        return self.generation_dir(name) / COLUMNS_DIR

    def vocab_file(self, name: str) -> Path:
        """The vocabulary of generation ``name``."""
        return self.columns_dir(name) / VOCAB_FILE

    def postings_dir(self, name: str) -> Path:
        """The postings of generation ``name``."""
        return self.generation_dir(name) / POSTINGS_DIR

    def articles_dir(self, name: str) -> Path:
        """The article records of generation ``name``."""
        return self.generation_dir(name) / ARTICLES_DIR

    def current(self) -> str | None:
        """The served generation's name, or None when nothing was built yet."""
        try:
            name = (self.root / CURRENT).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return name if _NAME.match(name) else None

    def require_current(self) -> str:
        """The served generation's name; IndexNotFound when there is none."""
        name = self.current()
        if name is None:
            raise IndexNotFound(f"no index generation in {self.root} (run `newsearch index build`)")
        return name

    def generations(self) -> list[str]:
        """Complete generations (those with a manifest), oldest first."""
        if not self.generations_dir.is_dir():
            return []
        names = [
            p.name
            for p in self.generations_dir.iterdir()
            if _NAME.match(p.name) and (p / MANIFEST_FILE).is_file()
        ]
        return sorted(names, key=lambda n: int(n[1:]))

    def next_name(self) -> str:
        """A fresh generation name, after every folder present (complete or not)."""
        numbers = [0]
        if self.generations_dir.is_dir():
            numbers += [
                int(m.group(1))
                for p in self.generations_dir.iterdir()
                if (m := _NAME.match(p.name))
            ]
        return f"g{max(numbers) + 1:06d}"

    def manifest(self, name: str) -> Manifest:
        """The manifest of generation ``name``."""
        data = json.loads((self.generation_dir(name) / MANIFEST_FILE).read_text(encoding="utf-8"))
        known = {f.name for f in fields(Manifest)}
        return Manifest(**{k: v for k, v in data.items() if k in known})

    def write_manifest(self, manifest: Manifest) -> None:
        """Write the manifest last: it marks the generation complete."""
        path = self.generation_dir(manifest.generation) / MANIFEST_FILE
        write_atomic(path, json.dumps(manifest.to_json(), indent=2, ensure_ascii=False))

    def switch(self, name: str) -> None:
        """Serve generation ``name`` from now on (atomic)."""
        if name not in self.generations():
            raise ValueError(f"generation {name} is not complete")
        write_atomic(self.root / CURRENT, name + "\n")


def utc_now_iso() -> str:
    """The current UTC time, ISO 8601 with seconds."""
    return datetime.now(UTC).isoformat(timespec="seconds")
