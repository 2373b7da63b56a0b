"""The server a run talks to: the given TARGET, or the embedded reference server started for the run."""

from __future__ import annotations

import contextlib
import os
from dataclasses import replace
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx

from vpnconn.spec import REPO_ROOT

from contract_tests.settings import RunSettings

PATH = "/v5/{project_id}/vpn-connection"


class TargetUnreachable(Exception):
    """The target did not answer HTTP within the probe's time."""


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
    command = [sys.executable, "-m", "vpnconn.cli", "serve", "--port", "0", "--quiet", "--token", server_token, *serve_options]
    env = dict(os.environ)
    if settings.ak:
        command += ["--ak", settings.ak]
        env["VPNCONN_SK"] = settings.sk or ""
    proc = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if "http://127.0.0.1:" not in line:
            proc.kill()
            _, err = proc.communicate(timeout=5)
            raise TargetUnreachable(f"the embedded reference server did not start: {(err or line).strip()[-300:]}")
        url = line.split("http://127.0.0.1:", 1)[1].split()[0]
        yield f"http://127.0.0.1:{url}", replace(settings, token=token)
    finally:
        proc.terminate()
        try:
            proc.communicate(timeout=5)  # also closes the pipes
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


def probe(base_url: str, settings: RunSettings, timeout: float = 4.0) -> None:
    """One harmless request (an empty create body, which any correct server refuses) to see that HTTP answers."""
    url = base_url + PATH.format(project_id=settings.project_id)
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            httpx.post(url, content=b"{}", headers={"Content-Type": "application/json"}, timeout=min(4.0, timeout))
            return
        except httpx.ConnectError as exc:
            last = f"connection refused or no route ({exc})"
            time.sleep(0.25)
        except httpx.TimeoutException:
            last = "no answer within the time limit"
            break
        except httpx.HTTPError as exc:
            last = str(exc) or exc.__class__.__name__
            break
    raise TargetUnreachable(f"{base_url} is unreachable: {last}")
