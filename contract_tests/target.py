"""The server a run talks to: the given TARGET, or the embedded reference server started for the run."""

from __future__ import annotations

import contextlib
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace

from contract_tests.settings import RunSettings, environment_without_secrets
from vpnconn.errors import TargetError
from vpnconn.spec import REPO_ROOT


@contextlib.contextmanager
def embedded_server(settings: RunSettings, serve_options: tuple[str, ...] = ()) -> Iterator[tuple[str, RunSettings]]:
    """Start `vpnconn serve` on a free loopback port in a process of its own (so it does not share this
    process's GIL with generation); yield its URL and the settings the run must use, then stop it.

    The server always requires one token (TOKEN, or a fresh random one) so that schemathesis'
    ``ignored_auth`` check can tell a real credential from a wrong one; the run sends it unless it signs
    with AK/SK, which the server then verifies.
    """
    server_token = settings.token or f"run-{secrets.token_hex(8)}"
    token = None if settings.ak else server_token
    # Secrets go to the child by environment, never on its command line (ps would show them).
    command = [sys.executable, "-m", "commands.cli", "serve", "--port", "0", "--quiet", *serve_options]
    env = environment_without_secrets()
    env["VPNCONN_TOKEN"] = server_token
    if settings.ak:
        env["VPNCONN_AK"], env["VPNCONN_SK"] = settings.ak, settings.sk or ""
    proc = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if "http://127.0.0.1:" not in line:
            proc.kill()
            _, err = proc.communicate(timeout=5)
            raise TargetError(f"the embedded reference server did not start: {(err or line).strip()[-300:]}")
        url = line.split("http://127.0.0.1:", 1)[1].split()[0]
        yield f"http://127.0.0.1:{url}", replace(settings, token=token)
    finally:
        proc.terminate()
        try:
            proc.communicate(timeout=5)  # also closes the pipes
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
