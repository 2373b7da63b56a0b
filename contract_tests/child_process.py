"""Ending a child process of a run (the embedded server, the fuzzing planner): never left behind."""

from __future__ import annotations

import subprocess


def end(process: subprocess.Popen, grace: float = 5) -> None:
    """Ask ``process`` to end (SIGTERM) and kill it when it has not within ``grace`` seconds; nothing when it has."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
