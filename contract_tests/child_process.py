"""Ending a child process of a run (the embedded server, the fuzzing planner): never left behind."""

from __future__ import annotations

import subprocess


def end(process: subprocess.Popen, grace: float = 5) -> None:
    """Close ``process``'s stdin where this process holds it (the children watch it: vpnconn.stdin_end), ask it to end
    (SIGTERM) and kill it when it has not within ``grace`` seconds; nothing more when it has ended."""
    if process.stdin is not None:
        try:
            process.stdin.close()
        except OSError:  # (it is gone: what was left unread goes with it)
            pass
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
