"""What a run created, and deleting it again.

Every connection a run creates is billed by the hour on a real account and counts against a quota, so a run
notes each one in a :class:`Ledger` the moment its 201 arrives (from whichever process sent it), and deletes
them all before it ends: after a clean finish, after failures, at the deadline and after Ctrl-C. A ledger is
a file of JSON lines (appends are atomic across processes); it is removed once everything in it is gone. A
run that was killed outright leaves its ledger behind, and ``vpnconn cleanup`` deletes what it lists.

A create whose answer does not say what it did (no answer, a gateway's 5xx) may have made a connection the ledger
does not know by id: the ledger notes what it asked for, and the gateway's connections as the run began, and at
the end what such a create made is found by listing them again (contract_tests.unsure_creates) and deleted too. So is
what a create the target refused (4xx) made all the same (a server that stores a connection before it refuses it):
the ledger keeps what each refused create asked for, and that the end of the run looked for what they made (the
last look: :func:`adopt_refused_creates`), so that ``vpnconn cleanup`` looks for those of a killed run.

A ledger holds the connection URLs (the target's base URL, which never carries credentials, the project and
the id), the ids a list showed, and the names and gateway ids of unsure and refused creates: nothing secret.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx

from contract_tests import answer_json
from contract_tests.aksk_auth import signed_headers
from contract_tests.pacing import BUSY_ATTEMPTS, Pace, Patience, asked_again, growing_pauses, is_busy, send
from contract_tests.records import CaseRecord, Failure
from contract_tests.settings import RunSettings
from contract_tests.unsure_creates import gateway_connections, lookable, match_unsure, never_sent, sought
from vpnconn.spec import load_spec

LEDGER_DIR = Path(".vpnconn-cache") / "created"


def created_id(status: int, content: bytes) -> str | None:
    """The id of the connection a create answer reports (any 2xx with ``vpn_connection.id``: a server that
    answers 200 instead of 201 has created it all the same), else None."""
    if not 200 <= status < 300:
        return None
    try:
        conn = answer_json.loads(content).get("vpn_connection")
    except (ValueError, AttributeError):
        return None
    connection_id = conn.get("id") if isinstance(conn, dict) else None
    return connection_id if isinstance(connection_id, str) and connection_id else None


class Ledger:
    """The connections one run created, in a file that outlives the run if it is killed."""

    def __init__(self, path: Path, base_url: str, project_id: str) -> None:
        self.path, self.base_url, self.project_id = path, base_url.rstrip("/"), project_id
        self._held: set[str] = set()  # the URLs this process noted created and not yet deleted
        self._unsure = 0  # creates this process noted unsure: each may hold a connection until the end of the run
        self._going: set[str] = set()  # URLs deleted, and still shown (PENDING_DELETE) the last time they were asked
        # URLs whose delete the target answered 204 and whose show still answered the connection, not being deleted,
        # after GONE_WAIT seconds (what it said): the target keeps them (kept_after_delete)
        self.kept: dict[str, str] = {}
        self.kept_for_unsure = False  # unsure creates not found yet: the file stays for `vpnconn cleanup` to look again
        self.found = 0  # unsure creates of this process whose connection was found (adopt_unsure_creates)

    @classmethod
    def new(cls, base_url: str, project_id: str, folder: Path = LEDGER_DIR) -> Ledger:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"run-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.jsonl"
        return cls(path, base_url, project_id)

    def url(self, connection_id: str) -> str:
        show = load_spec().operation_by_id("ShowVpnConnection")
        return show.url(self.base_url, project_id=self.project_id, vpn_connection_id=connection_id)

    def _append(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, separators=(",", ":")) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)

    def created(self, connection_id: str) -> None:
        url = self.url(connection_id)
        self._append({"created": url})
        self._held.add(url)

    def deleted(self, connection_id: str) -> None:
        self.deleted_url(self.url(connection_id))

    def deleted_url(self, url: str) -> None:
        self._append({"deleted": url})
        self._held.discard(url)

    def held(self) -> int:
        """How many connections the run holds now (noted created, not yet deleted, by this process), counting each
        unsure create as one: it may have made a connection that only the end of the run finds and deletes, and each
        deleted one still shown (:meth:`still_going`): a deletion under way may count against the quota."""
        return len(self._held) + self._unsure + len(self._going)

    def still_going(self, urls: list[str]) -> None:
        """These deleted connections were still shown the last time they were asked (their deletion under way)."""
        self._going = set(urls)

    def going(self) -> list[str]:
        return sorted(self._going)

    def note_create(self, body: Any, status: int | None, content: bytes = b"") -> str | None:
        """Note what one create may have made: the connection its answer reports (its id is returned), or, when the
        answer does not say (no answer: ``status`` None; a 5xx that does not say nothing was done; a 2xx without an
        id; a 303 See Other not followed, which after a POST says it was carried out, RFC 9110 section 15.4.4), what
        the create asked for, to look for at the end (:func:`adopt_unsure_creates`)."""
        connection_id = created_id(status, content) if status is not None else None
        if connection_id is not None:
            self.created(connection_id)
        elif status is None or 200 <= status < 300 or status == 303 or (status >= 500 and not asked_again("POST", status, content)):
            self._append({"unsure": sought(body)})
            self._unsure += 1
        return connection_id

    def note_refused(self, body: Any) -> None:
        """A create of a body the run holds valid was refused (a 4xx, not busy): what it asked for, to look for at the
        end (:func:`adopt_refused_creates`), where that tells its connection from the gateway's others; in the file,
        so that ``vpnconn cleanup`` looks for it after a run killed before its end."""
        if lookable(identity := sought(body)):
            self._append({"refused": identity})

    def looked_for_refused(self, count: int) -> None:
        """The gateway was looked at for what the first ``count`` refused creates made (:meth:`note_refused`): the
        last look for them."""
        self._append({"refused_looked": count})

    def note_no_answer(self, body: Any, exc: BaseException) -> None:
        """Note a create that got no answer: unsure (it may have been carried out all the same), unless it failed
        before it was sent (:func:`~contract_tests.unsure_creates.never_sent`)."""
        if not never_sent(exc):
            self.note_create(body, None)

    def listed_before(self, connections: list[dict[str, Any]] | None, settings: RunSettings) -> None:
        """The connections the run's gateway held as the run began (None: it could not be listed): none of them is
        the run's."""
        ids = None if connections is None else sorted(c["id"] for c in connections if isinstance(c.get("id"), str))
        self._append({"listed_before": ids, "base_url": self.base_url, "project_id": self.project_id, "vgw_id": settings.vgw_id})

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
        if not self.pending() and not self.kept_for_unsure:
            self.path.unlink(missing_ok=True)

    def found_unsure(self, index: int) -> None:
        """The connection the ``index``-th unsure create of the file made was found: it is not looked for again (and
        what it made is held as created, no longer as unsure)."""
        self._append({"unsure_found": index})
        if self._unsure:
            self._unsure -= 1
            self.found += 1

    @property
    def unsure(self) -> int:
        """Creates this process noted unsure and has not found yet."""
        return self._unsure


@dataclass
class LedgerText:
    """What a ledger file says."""

    pending: dict[str, None] = field(default_factory=dict)  # URLs created and not deleted, oldest first
    known: set[str] = field(default_factory=set)  # the ids of every connection the run created
    unsure: list[dict[str, Any]] = field(default_factory=list)  # what each unsure create asked for (unsure_creates.sought)
    found: set[int] = field(default_factory=set)  # the indexes in ``unsure`` of those whose connection was found
    refused: list[dict[str, Any]] = field(default_factory=list)  # what each valid create the target refused asked for
    refused_looked: int = 0  # how many of ``refused`` the gateway was looked at for, the last look (adopt_refused_creates)
    before: dict[str, Any] | None = None  # the listed_before entry: ids, project_id, vgw_id

    @property
    def sought(self) -> list[tuple[int, dict[str, Any]]]:
        """(index, what it asked for) of each unsure create whose connection was not found yet."""
        return [(n, identity) for n, identity in enumerate(self.unsure) if n not in self.found]

    @property
    def refused_unlooked(self) -> list[dict[str, Any]]:
        """What the refused creates noted since the last look for what they made asked for."""
        return self.refused[self.refused_looked:]


def read_ledger(path: Path) -> LedgerText:
    text = LedgerText()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return text
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # a line cut short by a kill: the rest of the ledger still counts
        if not isinstance(entry, dict):
            continue
        if isinstance(entry.get("created"), str):
            text.pending[entry["created"]] = None
            text.known.add(entry["created"].rsplit("/", 1)[-1])
        elif isinstance(entry.get("deleted"), str):
            text.pending.pop(entry["deleted"], None)
        elif isinstance(entry.get("unsure"), dict):
            text.unsure.append(entry["unsure"])
        elif isinstance(entry.get("unsure_found"), int):
            text.found.add(entry["unsure_found"])
        elif isinstance(entry.get("refused"), dict):
            text.refused.append(entry["refused"])
        elif isinstance(entry.get("refused_looked"), int):
            text.refused_looked = entry["refused_looked"]
        elif "listed_before" in entry:
            text.before = entry
    return text


def pending_in(path: Path) -> list[str]:
    return list(read_ledger(path).pending)


def adopt_unsure_creates(ledger: Ledger, settings: RunSettings, client: httpx.Client, pace: Pace | None,
                         last_look: bool = False) -> str | None:
    """When a create of the run was unsure, find the connections such creates made (:mod:`contract_tests.unsure_creates`)
    and note them in the ledger as the run's, to be deleted with the rest. What to tell the user; None when no
    create was unsure. One not found yet may be made later (a service slower than the run): the ledger is kept for
    ``vpnconn cleanup`` to look again, which is the ``last_look``."""
    ledger.kept_for_unsure = False  # (each look decides afresh: a run looks when it makes room, and at its end)
    text = read_ledger(ledger.path)
    sought = text.sought
    if not sought or text.before is None or text.before.get("base_url") != ledger.base_url:
        return None  # (a killed run's ledger of another target: its own target is where to look)
    said = (f"{len(sought)} create(s) got no answer, or one that does not say whether the connection was created "
            "(a timeout, a gateway's 5xx, a create sent again after a dropped connection)")
    where = _where_it_began(text.before, settings)
    look = f"look on gateway {where.vgw_id} for connections made during the run" + _named([u for _, u in sought])
    if not isinstance(text.before.get("listed_before"), list):
        return f"{said}; the gateway's connections could not be listed as the run began, so what they made cannot be told apart: {look}"
    listing = gateway_connections(ledger.base_url, where, client, pace)
    if listing is None:  # not looked: the ledger stays for a look when the target answers
        ledger.kept_for_unsure = True
        kept = ("the ledger is kept, and the next `vpnconn cleanup` looks again" if last_look  # (said beside its path)
                else f"{ledger.path} is kept, and `vpnconn cleanup` (make cleanup TARGET=...) looks again")
        return f"{said}; the gateway's connections could not be listed to find what they made: {kept}; or {look}"
    made, unfound = match_unsure(listing, set(text.before["listed_before"]), text.known, [u for _, u in sought])
    for connection_id in made:
        ledger.created(connection_id)
    for n, (index, identity) in enumerate(sought):
        if lookable(identity) and n not in unfound:
            ledger.found_unsure(index)
    unnamed = sum(1 for _, u in sought if not lookable(u))
    found = (f"{len(made)} connection(s) the target made for them found on the gateway, deleted with the rest" if made
             else "the gateway lists no connection they made")
    blind = f"; {unnamed} of those creates gave neither a name, nor a tunnel address, nor peer subnets: not looked for"
    missing = [sought[n][1] for n in unfound]
    if missing and last_look:
        found += f"; {len(missing)} of them not found, none made or not yet: this was the last look{_named(missing)}"
    elif missing:
        ledger.kept_for_unsure = True
        found += (f"; {len(missing)} of them not found yet (a service slower than the run may still make them): "
                  f"{ledger.path} is kept, and `vpnconn cleanup` (make cleanup TARGET=...) looks again{_named(missing)}")
    return f"{said}: {found}" + (blind if unnamed else "")


def adopt_refused_creates(ledger: Ledger, settings: RunSettings, client: httpx.Client, pace: Pace | None) -> str | None:
    """Find the connections creates the target refused made all the same, and note them in the ledger as the run's, to
    be deleted with the rest; what to tell the user, None when there were none (or the gateway could not be listed, as
    the run began or now). A refused create is expected to make nothing, but a server that stores a connection before
    it decides to refuse it (an emulator's validation after its write) leaves one per such create, billed on a real
    account: the gateway is listed once more, and a connection it did not hold as the run began, not known to the run
    by id, that shows everything a refused create asked for is the run's (unsure_creates.match_unsure). That look is
    the last for those creates (noted in the file): ``vpnconn cleanup`` looks for those of a run killed before it."""
    text = read_ledger(ledger.path)
    refused = text.refused_unlooked
    if not refused or text.before is None or text.before.get("base_url") != ledger.base_url \
            or not isinstance(text.before.get("listed_before"), list):
        return None
    where = _where_it_began(text.before, settings)
    listing = gateway_connections(ledger.base_url, where, client, pace)
    if listing is None:
        return None
    made, _ = match_unsure(listing, set(text.before["listed_before"]), text.known, refused)
    for connection_id in made:
        ledger.created(connection_id)
    ledger.looked_for_refused(len(text.refused))
    if not made:
        return None
    names = [item for item in listing if item.get("id") in made]
    return (f"{len(made)} connection(s) made by creates the target refused (4xx) found on the gateway, deleted with the "
            f"rest: a refused create is expected to make nothing{_named(names)}")


def _where_it_began(before: dict[str, Any], settings: RunSettings) -> RunSettings:
    """``settings`` pointed at the project and gateway a ledger's run listed as it began (its ``listed_before`` entry):
    where what its unsure or refused creates made is looked for, whoever looks (the run, or ``vpnconn cleanup``)."""
    return replace(settings, project_id=str(before.get("project_id")), vgw_id=str(before.get("vgw_id")))


def _named(identities: list[dict[str, Any]]) -> str:
    names = sorted({u["name"] for u in identities if u.get("name")})
    return f" (named {', '.join(names[:10])})" if names else ""


@dataclass
class Cleanup:
    deleted: list[str] = field(default_factory=list)  # URLs
    left: list[tuple[str, str]] = field(default_factory=list)  # (URL, why it could not be deleted)
    unlooked: list[Path] = field(default_factory=list)  # ledgers kept: what their unsure creates made was not looked for

    def summary(self) -> str:
        text = f"cleanup: deleted {len(self.deleted)} connection(s) the run created"
        if self.left:
            text += f"; {len(self.left)} could NOT be deleted (delete them yourself, or run vpnconn cleanup):"
            text += "".join(f"\n  {url}  ({why})" for url, why in self.left)
        if self.unlooked:
            text += (f"; {len(self.unlooked)} ledger(s) kept: the gateway could not be listed to find what their "
                     "unsure creates made (run vpnconn cleanup again when the target answers):")
            text += "".join(f"\n  {path}" for path in self.unlooked)
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
                progress(f"  cleanup: {len(result.deleted) + len(result.left)}/{len(urls)} tried, {len(result.deleted)} deleted")
    return result


BUSY_DELETE = "still busy after"  # how _delete says that a DELETE was left busy (the target busy, or not ready)
DELETE_WAIT = 60.0  # seconds the end of a run keeps asking again a DELETE left busy (a connection still being built)
FIRST_DELETE_PAUSE, LONGEST_DELETE_PAUSE = 1.0, 10.0  # seconds between those rounds: doubling, capped


def delete_until_done(urls: list[str], settings: RunSettings, client: httpx.Client,
                      progress: Callable[[str], None] = lambda _: None, deleted: Callable[[str], None] = lambda _: None,
                      pace: Pace | None = None, wait: float = DELETE_WAIT) -> Cleanup:
    """:func:`delete_connections`, then again, at growing intervals for up to ``wait`` seconds, those left busy: a
    service may refuse to delete a connection it is still building (409 VPN.0016 "not ready"), and no source says
    for how long. What is still left after that is reported with its URL, as ever."""
    result = delete_connections(urls, settings, client, progress, deleted, pace)
    patience = Patience(wait, FIRST_DELETE_PAUSE, LONGEST_DELETE_PAUSE)
    while (busy := [url for url, why in result.left if BUSY_DELETE in why]) and not patience.over():
        patience.pause(lambda pause: progress(f"  cleanup: {len(busy)} connection(s) not deletable yet (busy or not ready); "
                                              f"asking again in {pause:g} s"))
        again = delete_connections(busy, settings, client, progress, deleted, pace)
        result.deleted += again.deleted
        result.left = [(url, why) for url, why in result.left if url not in busy] + again.left
    return result


GONE_WAIT = 60.0  # seconds a run that makes room on its gateway waits for what it deleted to be gone
FIRST_GONE_PAUSE = 0.1  # seconds before a deleted connection still shown is asked again: doubling, capped
PENDING_DELETE = "PENDING_DELETE"  # the show status of a connection being deleted (the spec's status enum)

Shown = tuple[int | None, str | None]  # what a show answered: its HTTP status (None: no answer), the connection's status


def wait_until_gone(urls: list[str], settings: RunSettings, client: httpx.Client, pace: Pace | None,
                    wait: float = GONE_WAIT, base_url: str | None = None) -> dict[str, Shown]:
    """Show each deleted connection until it answers 404, at growing intervals for up to ``wait`` seconds (0: once);
    those still shown then (or not answered), in the order given, with what their last show answered. A deletion may
    take a while (the show answers ``PENDING_DELETE``; the Terraform provider waits for the 404), and no source says
    whether a connection being deleted still counts against the gateway's quota: a run that deletes to make room
    waits for the room to be there. With ``base_url`` (the target's), a show that answers an error other than 404
    cannot tell, and the gateway's list is asked (:func:`_still_listed`)."""
    left: dict[str, Shown] = dict.fromkeys(urls, (None, None))
    started, pauses = time.monotonic(), growing_pauses(FIRST_GONE_PAUSE, LONGEST_DELETE_PAUSE)
    pause = next(pauses)
    with concurrent.futures.ThreadPoolExecutor(max(1, settings.concurrency), thread_name_prefix="vpnconn-cleanup") as pool:
        while left:
            shown = list(pool.map(lambda url: _shown(url, settings, client, pace), left))
            left = {url: answer for url, answer in zip(left, shown, strict=True) if answer[0] != 404}
            if base_url is not None and any(code not in (None, 200) for code, _ in left.values()):
                left = _still_listed(left, base_url, settings, client, pace)
            if all(code is None for code, _ in shown) or time.monotonic() - started + pause > wait:
                break  # (the target does not answer: nothing to wait for)
            if left:
                time.sleep(pause)
                pause = next(pauses)
    return left


def _still_listed(left: dict[str, Shown], base_url: str, settings: RunSettings, client: httpx.Client,
                  pace: Pace | None) -> dict[str, Shown]:
    """Of the deleted connections not gone yet (``left``), those whose show answered an error other than 404 and that
    the gateway's list still holds, with the others; all of them when the list does not answer as documented. Such a
    show cannot tell (an emulator's 500 for an id it no longer holds, from a lookup that failed): a connection its
    gateway no longer lists is gone. Before, each was waited for GONE_WAIT seconds, and counted as held after."""
    listing = gateway_connections(base_url, settings, client, pace)
    if listing is None:
        return left
    listed = {item.get("id") for item in listing}
    return {url: (code, status) for url, (code, status) in left.items()
            if code in (None, 200) or url.rsplit("/", 1)[-1] in listed}


def kept_after_delete(still: dict[str, Shown]) -> dict[str, str]:
    """Of the connections still shown after their delete (:func:`wait_until_gone`), those the target keeps: shown
    whole (200), not ``PENDING_DELETE``; with what the show said of each."""
    return {url: f"status {status}" if status else "the connection without a status" for url, (code, status) in still.items()
            if code == 200 and status != PENDING_DELETE}


def still_shown(still: dict[str, Shown]) -> str:
    """What the last shows of connections not gone yet answered, counted: ``2 shown PENDING_DELETE, 1 answered 500``."""
    said = Counter("no answer" if code is None else f"shown {status or 'without a status'}" if code == 200
                   else f"answered {code}" for code, status in still.values())
    return ", ".join(f"{count} {what}" for what, count in sorted(said.items()))


def kept_findings(kept: dict[str, str], seconds: float = GONE_WAIT) -> list[CaseRecord]:
    """A finding for each connection the target answered 204 to delete and still showed, not being deleted, ``seconds``
    later (the lifecycle's deleted_connection_gone, as the show operation's provenance says)."""
    provenance = load_spec().check_provenance("deleted_connection_gone", "ShowVpnConnection")
    return [CaseRecord(phase="cleanup", mode="positive", method="GET", url=url, request_headers={}, request_body=None,
                       status=200, response_headers={}, response_body="", failures=[Failure(
                           "deleted_connection_gone", "Deleted connection still there",
                           f"the run deleted it to make room on its gateway: the delete was answered as done, and "
                           f"{seconds:g} s later the show still answered {said}, not 404 (nor {PENDING_DELETE} while a "
                           "deletion lasts): the target keeps it", provenance=provenance)])
            for url, said in kept.items()]


def _shown(url: str, settings: RunSettings, client: httpx.Client, pace: Pace | None) -> Shown:
    """What a show of the connection at ``url`` answers: its HTTP status (None: no answer) and, with a 200, the
    connection's status (None where the answer has none)."""
    headers = signed_headers("GET", url, b"", settings.token, settings.ak, settings.sk)
    try:
        answer = send(client, pace, "GET", url, None, headers)
    except httpx.HTTPError:
        return None, None
    if answer.status_code != 200:
        return answer.status_code, None
    try:
        conn = answer_json.loads(answer.content).get("vpn_connection")
    except (ValueError, AttributeError):
        return 200, None
    status = conn.get("status") if isinstance(conn, dict) else None
    return 200, status if isinstance(status, str) else None


def _delete(url: str, settings: RunSettings, client: httpx.Client, pace: Pace | None) -> str | None:
    headers = signed_headers("DELETE", url, b"", settings.token, settings.ak, settings.sk)
    try:
        response = send(client, pace, "DELETE", url, None, headers)
    except httpx.HTTPError as exc:
        return f"no answer: {exc.__class__.__name__}"
    if response.status_code in (load_spec().operation_by_id("DeleteVpnConnection").success_status, 404):
        return None
    busy = f" ({BUSY_DELETE} {BUSY_ATTEMPTS} attempts)" if is_busy(response.status_code, response.content) else ""
    return f"DELETE answered {response.status_code}{busy}"


def leftover_ledgers(folder: Path = LEDGER_DIR) -> Iterator[Path]:
    yield from sorted(folder.glob("run-*.jsonl")) if folder.is_dir() else iter(())


def clean_leftovers(settings: RunSettings, base_url: str, client: httpx.Client, folder: Path = LEDGER_DIR,
                    progress: Callable[[str], Any] = print) -> Cleanup:
    """``vpnconn cleanup``: delete what the ledgers of earlier (killed) runs list for this target, and what their
    unsure creates, and the creates it refused that a killed run did not look for, made on it (a last look); a ledger
    of another target is left as it is."""
    total = Cleanup()
    prefix = base_url.rstrip("/") + "/"
    for path in leftover_ledgers(folder):
        text = read_ledger(path)
        sought_here = ((text.sought or text.refused_unlooked) and text.before is not None
                       and text.before.get("base_url") == base_url.rstrip("/"))
        if not any(u.startswith(prefix) for u in text.pending) and not sought_here:
            continue
        ledger = Ledger(path, base_url, settings.project_id)
        for found in (adopt_unsure_creates(ledger, settings, client, Pace(settings.requests_per_second), last_look=True),
                      adopt_refused_creates(ledger, settings, client, Pace(settings.requests_per_second))):
            if found:
                progress(f"{path}: {found}")
        if ledger.kept_for_unsure:
            total.unlooked.append(path)
        urls = [u for u in pending_in(path) if u.startswith(prefix)]
        if not urls:
            ledger.remove_if_done()
            continue
        progress(f"{path}: {len(urls)} connection(s) to delete")
        done = delete_until_done(urls, settings, client, progress, deleted=ledger.deleted_url,
                                 pace=Pace(settings.requests_per_second))
        total.deleted += done.deleted
        total.left += done.left
        ledger.remove_if_done()
    return total
