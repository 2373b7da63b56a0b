"""Do something when standard input ends: a child process whose parent holds the other end of its stdin learns so
that the parent is gone, however it went (SIGKILL gives it no time to say so)."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable


def when_stdin_ends(then: Callable[[], object]) -> None:
    """Call ``then`` (in a daemon thread) once standard input reaches its end. The thread reads the file descriptor,
    not ``sys.stdin``: a daemon thread blocked in a buffered read holds the buffer's lock, and the interpreter's exit,
    which closes that buffer, waits a second for it and then aborts (``Fatal Python error: _enter_buffered_busy``)."""
    def watch() -> None:
        while os.read(sys.stdin.fileno(), 65536):
            pass
        then()

    threading.Thread(target=watch, name="vpnconn-stdin-watch", daemon=True).start()
