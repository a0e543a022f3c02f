"""Mapping a generation's memory-mapped files into the process before queries need them.

The postings, their key table and the article records are memory-mapped.  A
page that a process has not touched yet costs a page fault the first time a
query reads it, even when the file is in the page cache: once for each hit's
record and a few times for each term's key block and postings, so a query's
first run in a process is slower than its next.  Lucene offers the same choice
(``MMapDirectory.setPreload``).

Reading one byte of every page at open maps them all (the kernel maps several
neighbours per fault), once, off the request path.  The pages are the page
cache's, shared by every process that maps them; they count in each one's RSS,
and the kernel can still reclaim them.  A generation is preloaded only when
these files fit in ``SHARE`` of physical memory: a larger archive is read on
demand.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

SHARE = 0.25
"""At most this share of physical memory is preloaded for one generation."""
_PAGE = 4096


def physical_memory() -> int | None:
    """Bytes of physical memory, or None where the system does not say."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def preload(buffers: Sequence[Any], limit: int | None = None) -> bool:
    """Touch every page of ``buffers`` (mapped arrays or ``mmap`` objects) if their total
    size fits in ``limit`` bytes (default: SHARE of physical memory).  Returns whether it
    did."""
    if limit is None:
        memory = physical_memory()
        if memory is None:
            return False
        limit = int(memory * SHARE)
    if sum(memoryview(b).nbytes for b in buffers) > limit:
        return False
    for buffer in buffers:
        _touch(buffer)
    return True


def _touch(buffer: Any) -> None:
    # The view pins an mmap (it cannot be closed while a view lives): it dies on return.
    view = np.frombuffer(buffer, dtype=np.uint8)
    int(view[::_PAGE].sum(dtype=np.uint64))
