"""Child processes that end when the process that started them dies.

A ``multiprocessing`` child does not notice its parent's death by itself: a
process-pool worker waits on its task queue, whose write end it holds itself;
a Whoosh sub-writer waits on its job queue; a server worker goes on answering on
the inherited socket.  The forkserver and the resource tracker (started by
``multiprocessing``) end once every child holding their pipes has ended, so it
is enough that the children end.

Each child watches ``multiprocessing.parent_process().sentinel``: a pipe whose
write end only the starting process holds, at end of file once that process is
gone (``kill -9`` included).  This works for the ``spawn`` and ``forkserver``
start methods on any platform, and, unlike Linux's ``PR_SET_PDEATHSIG``, watches
the process that started the child (a forkserver child's parent is the
forkserver) and not the thread that did.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time

log = logging.getLogger("newsearch.lifetime")
ORPHAN_EXIT_CODE = 70
"""Exit status of a child that ended because its parent died."""


def end_with_parent(grace: float = 0.0) -> None:
    """In a ``multiprocessing`` child: end this process when its parent process dies.

    With ``grace`` > 0 the process gets SIGTERM first (a server finishes its
    requests) and is ended hard ``grace`` seconds later if still running.  Does
    nothing in a process not started by ``multiprocessing``.
    """
    parent = multiprocessing.parent_process()
    if parent is None or parent.sentinel is None:
        return
    sentinel = parent.sentinel

    def watch() -> None:
        multiprocessing.connection.wait([sentinel])
        if grace > 0:
            log.warning("parent process %s died; shutting down", parent.pid)
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(grace)
        os._exit(ORPHAN_EXIT_CODE)

    threading.Thread(target=watch, name="end-with-parent", daemon=True).start()
