"""Spreading the connections of one shared listening socket over the worker processes.

Every worker's event loop is woken when a connection waits on the shared socket, and
whichever runs first takes it; on a busy machine the same worker can run first again and
again and take every connection of a burst, whether asyncio accepts many connections per
wake-up or one.  So the workers balance by least connections,
much as nginx's workers stop accepting while they hold more than their share: each
publishes its number of open connections in shared memory, and one that has more than
another worker leaves a waiting connection to the others, for ``PARK_S`` at a time and
``PARK_MAX_S`` in all (a busy or stalled worker does not keep new connections waiting
longer). Workers with equal counts accept at once.

This is done in the event loop's selector: while a worker leaves connections to the
others its listening socket is out of the selector (no busy loop), and the selector's
timeout brings it back.
"""

from __future__ import annotations

import asyncio
import selectors
import time
from collections.abc import Callable
from typing import Any

PARK_S = 0.002
"""How long a more loaded worker leaves a waiting connection to the others before it looks again."""
PARK_MAX_S = 0.02
"""At most this long in all for one connection: then the more loaded worker takes it."""


class Balance:
    """This worker's slot in the shared connection counts, and how to count its connections."""

    def __init__(self, counts: Any, slot: int, listener: int) -> None:
        self.counts = counts
        """A shared ``multiprocessing`` array of ints, one per worker."""
        self.slot = slot
        self.listener = listener
        self.connections: Callable[[], int] = lambda: 0

    def more_loaded(self) -> bool:
        """Publish this worker's count; True when another worker has fewer connections."""
        mine = self.connections()
        self.counts[self.slot] = mine
        return any(n < mine for i, n in enumerate(self.counts) if i != self.slot)


_balance: Balance | None = None
"""The balance of this worker process (set before its event loop is created)."""


def use(balance: Balance) -> None:
    """Make event loops created by ``balanced_loop`` in this process balance with ``balance``."""
    global _balance
    _balance = balance


class _Selector(selectors.DefaultSelector):
    """The default selector, leaving the shared socket's connections to less loaded workers."""

    def __init__(self, balance: Balance) -> None:
        super().__init__()
        self.balance = balance
        self.parked: selectors.SelectorKey | None = None
        self.resume_at = 0.0
        self.parked_for = 0.0

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        """Ready keys, without the listening socket while this worker leaves it to others."""
        if self.parked is not None:
            left = self.resume_at - time.monotonic()
            if left <= 0:
                self._unpark()
            else:
                timeout = left if timeout is None or timeout < 0 else min(timeout, left)
        ready: list[tuple[selectors.SelectorKey, int]] = super().select(timeout)
        more_loaded = self.balance.more_loaded()
        listener = self.balance.listener
        if self.parked is not None or not any(key.fd == listener for key, _ in ready):
            if self.parked is None:
                self.parked_for = 0.0
            return ready
        if more_loaded and self.parked_for < PARK_MAX_S:
            self.parked = super().unregister(listener)
            self.resume_at = time.monotonic() + PARK_S
            self.parked_for += PARK_S
            return [(key, events) for key, events in ready if key.fd != listener]
        self.parked_for = 0.0
        return ready

    def _unpark(self) -> None:
        key, self.parked = self.parked, None
        if key is not None:
            super().register(key.fileobj, key.events, key.data)

    def _is_parked(self, fileobj: Any) -> bool:
        fd = fileobj if isinstance(fileobj, int) else fileobj.fileno()
        return self.parked is not None and self.parked.fd == fd

    # The event loop sees a parked socket as registered: it may remove or change it.
    def get_key(self, fileobj: Any) -> selectors.SelectorKey:
        """The key of ``fileobj``, parked or not."""
        if self._is_parked(fileobj):
            assert self.parked is not None
            return self.parked
        key: selectors.SelectorKey = super().get_key(fileobj)
        return key

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        """Unregister ``fileobj``, parked or not (a closing server removes its socket)."""
        if self._is_parked(fileobj):
            key, self.parked = self.parked, None
            assert key is not None
            return key
        removed: selectors.SelectorKey = super().unregister(fileobj)
        return removed

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        """Change the registration of ``fileobj`` (a parked one is registered again first)."""
        if self._is_parked(fileobj):
            self._unpark()
        changed: selectors.SelectorKey = super().modify(fileobj, events, data)
        return changed


def balanced_loop() -> asyncio.AbstractEventLoop:
    """uvicorn's loop factory in a worker: asyncio's loop with the balancing selector."""
    if _balance is None:
        return asyncio.SelectorEventLoop()
    return asyncio.SelectorEventLoop(_Selector(_balance))
