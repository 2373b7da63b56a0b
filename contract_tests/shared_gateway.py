"""Another client on the run's gateway: a valid create refused for a resource in use may have been refused for theirs.

A gateway on a real account may be shared (two CI jobs that run at once, a colleague at the console). The run lists
its gateway as it begins and hands out tunnel /30s, gateway addresses and customer gateways, and room in the quota,
from what it saw; a connection another client creates during the run may take one of them, and the run's create that
names it is refused (the spec's error kinds marked ``state: gateway``: ``VPN.0012``, and 400 ``VPN.0001`` for a pair
or the quota). Judged as the target's fault, that refusal was a false "valid request rejected".

So when a valid create is refused so, the run lists its gateway right then (:class:`GatewayWatch`), while the
connection that holds the resource is there (another run's is gone by this run's end when that run ends first, as
two CI jobs that start together do). At the end, what those lists showed that was not there as the run began, is
not the run's by id and was not made by one of its unsure creates, is another client's. Where there is any, those
refusals rest on the gateway being the run's alone, which it was not: divergences (``refused_while_gateway_shared``,
inferred), and the run says so. Where there is none, they are judged as before: a server that refuses a free
tunnel pair is still caught. The lists cost a request each, at most MOST_LOOKS a run, and only a run that has such a
refusal.
"""

from __future__ import annotations

import threading
import time
from typing import Any
from urllib.parse import urlsplit

import httpx

from contract_tests.cleanup import Ledger, read_ledger
from contract_tests.error_bodies import error_code_in
from contract_tests.pacing import Pace
from contract_tests.records import VIOLATION, CaseRecord, Failure
from contract_tests.settings import RunSettings
from contract_tests.unsure_creates import gateway_connections, match_unsure
from vpnconn import load_spec

SHARED = "refused_while_gateway_shared"  # the spec's name for a refusal that may be another client's doing
REFUSAL_CHECKS = ("positive_data_acceptance", "lifecycle_status")  # the checks that judge a valid create's refusal
MOST_LOOKS = 5  # lists of the gateway a run takes for such refusals


def refusals_for_gateway_state(records: list[CaseRecord]) -> list[Failure]:
    """The violations that hold a valid create's refusal for what the gateway holds against the target."""
    spec = load_spec()
    found = []
    for record in records:
        if record.method != "POST" or record.status is None or spec.create.match(urlsplit(record.url).path) is None:
            continue
        if (record.status, error_code_in(record.response_body.encode())) not in spec.gateway_state_refusals:
            continue
        found += [f for f in record.failures if f.check in REFUSAL_CHECKS and f.severity == VIOLATION]
    return found


class GatewayWatch:
    """Lists the run's gateway when a valid create is refused for what the gateway holds (:meth:`refused`), while the
    connection that holds it is there: another client's is gone by the run's end when its own run ends first, as
    two CI jobs that start together do. What it saw that was not there as the run began is told apart from the
    run's own at the end (:meth:`others`), when every answer the run got is noted."""

    def __init__(self, ledger: Ledger, settings: RunSettings, client: httpx.Client, pace: Pace | None) -> None:
        self.ledger, self.settings, self.client, self.pace = ledger, settings, client, pace
        self.looks = 0
        self.seen: dict[str, dict[str, Any]] = {}  # listed during the run, not there as it began
        self._listed_at = 0.0
        self._lock = threading.Lock()

    @staticmethod
    def concerns(status: int, content: bytes) -> bool:
        """Is this answer a refusal for what the gateway holds (an error kind marked ``state: gateway``)?"""
        return (status, error_code_in(content)) in load_spec().gateway_state_refusals

    def refused(self) -> None:
        """A valid create was just refused for what the gateway holds: list the gateway, unless a list taken since
        has seen it already, or MOST_LOOKS lists were taken (a target that refuses free pairs is judged all the same)."""
        arrived = time.monotonic()
        with self._lock:
            if self.looks >= MOST_LOOKS or self._listed_at >= arrived:
                return
            self.looks += 1
            before = read_ledger(self.ledger.path).before
            began = before.get("listed_before") if before else None
            listing = gateway_connections(self.ledger.base_url, self.settings, self.client, self.pace) \
                if isinstance(began, list) else None
            self._listed_at = time.monotonic()
            for item in listing or []:
                if isinstance(item.get("id"), str) and item["id"] not in (began or []):
                    self.seen[item["id"]] = item

    def others(self) -> list[str]:
        """The ids of what the lists showed that the run did not make: not its own by id (every answer is noted by
        now), and not made by one of its unsure creates."""
        text = read_ledger(self.ledger.path)
        candidates = [item for connection_id, item in self.seen.items() if connection_id not in text.known]
        unsure = [identity for _, identity in text.sought]
        ours = set(match_unsure(candidates, set(), set(), unsure)[0]) if unsure else set()
        return sorted(item["id"] for item in candidates if item["id"] not in ours)


def judge_shared_gateway(records: list[CaseRecord], watch: GatewayWatch | None) -> str | None:
    """Where the run's violations hold a create's refusal for what the gateway holds, and another client created
    connections on it during the run: make them divergences, and say what to tell the user; else None."""
    refusals = refusals_for_gateway_state(records)
    others = watch.others() if watch is not None and refusals else []
    if not others:
        return None
    provenance = load_spec().check_provenance(SHARED)
    shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
    for failure in refusals:
        failure.provenance = provenance
        failure.message += (f"\n\nAnother client created {len(others)} connection(s) on the gateway during the run "
                            f"({shown}): the resource this create names may be theirs; not held against the target.")
    return (f"another client created {len(others)} connection(s) on the gateway during the run ({shown}): "
            f"{len(refusals)} valid create(s) refused for a resource in use (a tunnel /30, a gateway address and customer "
            f"gateway, the quota) are not held against the target, as that resource may be theirs; run one contract run "
            f"per gateway at a time")
