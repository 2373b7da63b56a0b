"""What a run created, and deleting it again.

Every connection a run creates is billed by the hour on a real account and counts against a quota, so a run
notes each one in a :class:`Ledger` the moment its 201 arrives (from whichever process sent it), and deletes
them all before it ends: after a clean finish, after failures, at the deadline and after Ctrl-C. A ledger is
a file of JSON lines (appends are atomic across processes); it is removed once everything in it is gone. A
run that was killed outright leaves its ledger behind, and ``vpnconn cleanup`` deletes what it lists.

A ledger holds the connection URLs (the target's base URL, which never carries credentials, the project and
the id) and nothing secret.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from contract_tests.aksk_auth import signed_headers
from contract_tests.pacing import BUSY_ATTEMPTS, Pace, is_busy, send
from contract_tests.settings import RunSettings
from vpnconn.spec import load_spec

LEDGER_DIR = Path(".vpnconn-cache") / "created"


def created_id(status: int, content: bytes) -> str | None:
    """The id of the connection a create answer reports (any 2xx with ``vpn_connection.id``: a server that
    answers 200 instead of 201 has created it all the same), else None."""
    if not 200 <= status < 300:
        return None
    try:
        conn = json.loads(content).get("vpn_connection")
    except (ValueError, AttributeError):
        return None
    connection_id = conn.get("id") if isinstance(conn, dict) else None
    return connection_id if isinstance(connection_id, str) and connection_id else None


class Ledger:
    """The connections one run created, in a file that outlives the run if it is killed."""

    def __init__(self, path: Path, base_url: str, project_id: str) -> None:
        self.path, self.base_url, self.project_id = path, base_url.rstrip("/"), project_id

    @classmethod
    def new(cls, base_url: str, project_id: str, folder: Path = LEDGER_DIR) -> Ledger:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"run-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.jsonl"
        return cls(path, base_url, project_id)

    def url(self, connection_id: str) -> str:
        show = load_spec().operation_by_id("ShowVpnConnection")
        return show.url(self.base_url, project_id=self.project_id, vpn_connection_id=connection_id)

    def _append(self, entry: dict[str, str]) -> None:
        line = json.dumps(entry, separators=(",", ":")) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)

    def created(self, connection_id: str) -> None:
        self._append({"created": self.url(connection_id)})

    def deleted(self, connection_id: str) -> None:
        self.deleted_url(self.url(connection_id))

    def deleted_url(self, url: str) -> None:
        self._append({"deleted": url})

    def note_answer(self, status: int, content: bytes) -> str | None:
        """Note the connection a create answer reports, if it reports one; returns its id."""
        connection_id = created_id(status, content)
        if connection_id is not None:
            self.created(connection_id)
        return connection_id

    def created_count(self) -> int:
        """How many connections the run has created so far (deleted ones included)."""
        try:
            with open(self.path, "rb") as ledger:
                return sum(1 for line in ledger if line.startswith(b'{"created"'))
        except OSError:
            return 0

    def pending(self) -> list[str]:
        """The URLs of connections created and not yet deleted, oldest first."""
        return pending_in(self.path)

    def remove_if_done(self) -> None:
        if not self.pending():
            self.path.unlink(missing_ok=True)


def pending_in(path: Path) -> list[str]:
    created: dict[str, None] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # a line cut short by a kill: the rest of the ledger still counts
        if isinstance(entry, dict) and isinstance(entry.get("created"), str):
            created[entry["created"]] = None
        elif isinstance(entry, dict) and isinstance(entry.get("deleted"), str):
            created.pop(entry["deleted"], None)
    return list(created)


@dataclass
class Cleanup:
    deleted: list[str] = field(default_factory=list)  # URLs
    left: list[tuple[str, str]] = field(default_factory=list)  # (URL, why it could not be deleted)

    def summary(self) -> str:
        text = f"cleanup: deleted {len(self.deleted)} connection(s) the run created"
        if self.left:
            text += f"; {len(self.left)} could NOT be deleted (delete them yourself, or run vpnconn cleanup):"
            text += "".join(f"\n  {url}  ({why})" for url, why in self.left)
        return text


def delete_connections(urls: list[str], settings: RunSettings, client: httpx.Client,
                       progress: Callable[[str], None] = lambda _: None,
                       deleted: Callable[[str], None] = lambda _: None, pace: Pace | None = None) -> Cleanup:
    """DELETE each URL, ``settings.concurrency`` at a time (at the run's pace): 204 (deleted) or 404 (already
    gone) count as done; a busy answer is asked again after its ``Retry-After`` (contract_tests.pacing); anything
    else, or no answer, is reported with the URL."""
    result = Cleanup()
    shown = time.monotonic()
    silent = 0  # unanswered deletes in a row: after 3 the target is gone, and the rest is not tried
    width = max(1, settings.concurrency)
    with concurrent.futures.ThreadPoolExecutor(width, thread_name_prefix="vpnconn-cleanup") as pool:
        for start in range(0, len(urls), width):
            chunk = urls[start:start + width]
            if silent >= 3:
                whys: list[str | None] = ["not tried: the target stopped answering"] * len(chunk)
            else:
                whys = list(pool.map(lambda url: _delete(url, settings, client, pace), chunk))
            for url, why in zip(chunk, whys, strict=True):
                silent = silent + 1 if why is not None and why.startswith("no answer") else silent if silent >= 3 else 0
                if why is None:
                    result.deleted.append(url)
                    deleted(url)
                else:
                    result.left.append((url, why))
            if time.monotonic() - shown >= 5:  # a distant target: say how far it got
                shown = time.monotonic()
                progress(f"  cleanup: {len(result.deleted) + len(result.left)}/{len(urls)} deleted")
    return result


def _delete(url: str, settings: RunSettings, client: httpx.Client, pace: Pace | None) -> str | None:
    headers = signed_headers("DELETE", url, b"", settings.token, settings.ak, settings.sk)
    try:
        response = send(client, pace, "DELETE", url, None, headers)
    except httpx.HTTPError as exc:
        return f"no answer: {exc.__class__.__name__}"
    if response.status_code in (load_spec().operation_by_id("DeleteVpnConnection").success_status, 404):
        return None
    busy = f" (still busy after {BUSY_ATTEMPTS} attempts)" if is_busy(response.status_code) else ""
    return f"DELETE answered {response.status_code}{busy}"


def leftover_ledgers(folder: Path = LEDGER_DIR) -> Iterator[Path]:
    yield from sorted(folder.glob("run-*.jsonl")) if folder.is_dir() else iter(())


def clean_leftovers(settings: RunSettings, base_url: str, client: httpx.Client, folder: Path = LEDGER_DIR,
                    progress: Callable[[str], Any] = print) -> Cleanup:
    """``vpnconn cleanup``: delete what the ledgers of earlier (killed) runs list for this target."""
    total = Cleanup()
    prefix = base_url.rstrip("/") + "/"
    for path in leftover_ledgers(folder):
        urls = [u for u in pending_in(path) if u.startswith(prefix)]
        if not urls:
            continue
        progress(f"{path}: {len(urls)} connection(s) to delete")
        ledger = Ledger(path, base_url, settings.project_id)
        done = delete_connections(urls, settings, client, progress, deleted=ledger.deleted_url,
                                  pace=Pace(settings.requests_per_second))
        total.deleted += done.deleted
        total.left += done.left
        ledger.remove_if_done()
    return total
