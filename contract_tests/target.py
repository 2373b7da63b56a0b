"""The server a run talks to: the given TARGET, or the embedded reference server started for the run."""

from __future__ import annotations

import secrets
import subprocess
import sys
import tempfile
import threading
from dataclasses import replace

from contract_tests import child_process
from contract_tests.settings import GATEWAY_FACTS, RunSettings, environment_without_secrets
from vpnconn.errors import TargetError
from vpnconn.spec import REPO_ROOT
from vpnconn.world import OPEN_WORLD, told_world


class EmbeddedServer:
    """`vpnconn serve` on a free loopback port in a process of its own (so it does not share this process's GIL
    with generation), started when made: `vpnconn contract` starts it before it loads the runner, so that the
    two starts overlap. :meth:`ready` waits for its URL; :meth:`stop` ends it (again: nothing). As a context
    manager it gives its URL and the settings the run must use, and stops it at the end.

    The server always requires one token (TOKEN, or a fresh random one) so that schemathesis'
    ``ignored_auth`` check can tell a real credential from a wrong one; the run sends it unless it signs
    with AK/SK, which the server then verifies (:attr:`run_settings`).
    """

    def __init__(self, settings: RunSettings, serve_options: tuple[str, ...] = ()) -> None:
        server_token = settings.token or f"run-{secrets.token_hex(8)}"
        self.run_settings = replace(settings, token=None if settings.ak else server_token)
        # Secrets go to the child by environment, never on its command line (ps would show them).
        # It stops when this process's end of its stdin closes: at stop(), and when this process ends however it ends
        # (SIGKILL gives it no time to stop its children).
        command = [sys.executable, "-m", "commands.cli", "serve", "--port", "0", "--quiet", "--stop-when-stdin-closes",
                   *told_gateway(settings), *serve_options]
        env = environment_without_secrets()
        env["VPNCONN_TOKEN"] = server_token
        if settings.ak:
            env["VPNCONN_AK"], env["VPNCONN_SK"] = settings.ak, settings.sk or ""
        # Its errors go to a file, not a pipe: a pipe nobody reads fills and then stops the server mid-run.
        self._errors = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=self._errors, text=True)
        self._url: str | None = None
        self._drain: threading.Thread | None = None

    def ready(self) -> str:
        """The server's base URL, once it listens; :class:`TargetError` when it did not start."""
        if self._url is None:
            assert self._proc.stdout is not None
            line = self._proc.stdout.readline()
            if "http://127.0.0.1:" not in line:
                child_process.end(self._proc)
                self._errors.seek(0)
                why = self._errors.read().decode("utf-8", "replace").strip() or line.strip() or "it said nothing"
                self.stop()
                raise TargetError(f"the embedded reference server did not start: {why[-300:]}")
            self._url = "http://127.0.0.1:" + line.split("http://127.0.0.1:", 1)[1].split()[0]
            # What it prints after that line is read and dropped, so that it never fills the pipe either.
            self._drain = threading.Thread(target=self._proc.stdout.read, name="vpnconn-server-output", daemon=True)
            self._drain.start()
        return self._url

    def __enter__(self) -> tuple[str, RunSettings]:
        try:
            return self.ready(), self.run_settings
        except BaseException:  # (Ctrl-C while it starts: __exit__ would not run)
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        child_process.end(self._proc)
        if self._drain is not None:
            self._drain.join(timeout=5)  # its read ends once the process has
        if self._proc.stdout is not None and not (self._drain and self._drain.is_alive()):
            self._proc.stdout.close()
        self._errors.close()


def told_gateway(settings: RunSettings) -> list[str]:
    """The `vpnconn serve` options that make the embedded server's gateway the one the run is told of (LOCAL_SUBNETS,
    VGW_IP_ROLE, VGW_ATTACHMENT, VGW_FLAVOR, VGW_IP_VERSION): what a run so told sends and expects is then the
    server's to keep. None where the run is told nothing (the open world)."""
    if told_world(settings) is OPEN_WORLD:
        return []
    options = ["--vgw-id", settings.vgw_id, "--vgw-ip", settings.vgw_ip]
    for fact in GATEWAY_FACTS:
        value = getattr(settings, fact)
        if value:
            options += [f"--{fact.replace('_', '-')}", ",".join(value) if isinstance(value, tuple) else value]
    return options


def embedded_server(settings: RunSettings, serve_options: tuple[str, ...] = ()) -> EmbeddedServer:
    """``with embedded_server(settings) as (url, run_settings):`` -- started now, stopped when the block ends."""
    return EmbeddedServer(settings, serve_options)
