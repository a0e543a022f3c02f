"""Server configuration, from CLI options or environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from newsearch.schema.assets import DEFAULT_ASSETS_DIR


@dataclass(frozen=True)
class Settings:
    """Everything the app needs to know; tokens are never logged."""

    index_dir: Path
    sources: tuple[Path, ...] = ()
    write_token: str | None = field(default=None, repr=False)
    read_token: str | None = field(default=None, repr=False)
    assets_dir: Path = DEFAULT_ASSETS_DIR
    max_body_bytes: int = 1_000_000
    request_timeout: float = 10.0
    max_depth: int = 12
    max_tokens: int = 4000
    max_aliases: int = 15
    max_fields: int = 2000
    """Fields an operation may select, each fragment counted at every spread (README)."""
    introspection: bool = True
    cors_origins: tuple[str, ...] = ()
    search_threads: int = 8
    check_interval: float = 1.0
    preload: bool = False
    """Map each generation's postings and records in as it opens (``search/preload.py``).
    Off for the server: it runs a worker process per core, and each would count the
    files in its RSS, to save a small part of a word's first query."""

    @staticmethod
    def from_env(index_dir: Path, **overrides: object) -> Settings:
        """Settings with tokens from NEWSEARCH_WRITE_TOKEN / NEWSEARCH_READ_TOKEN."""
        values: dict[str, object] = {
            "write_token": os.environ.get("NEWSEARCH_WRITE_TOKEN") or None,
            "read_token": os.environ.get("NEWSEARCH_READ_TOKEN") or None,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return Settings(index_dir=index_dir, **values)  # type: ignore[arg-type]
