"""The schemathesis hooks of a contract run: repair positive cases, add AK/SK signing.

Hooks are process-wide in schemathesis, so they act only while a run has set :data:`ACTIVE`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import schemathesis
from schemathesis import GenerationMode

from contract_tests.aksk_auth import AkSkAuth
from contract_tests.repair import Repairer
from contract_tests.settings import RunSettings


@dataclass
class ActiveRun:
    settings: RunSettings
    repairer: Repairer
    sent: int = 0
    disarmed: int = 0  # negative-only runs: cases whose body was valid and was made invalid before sending


ACTIVE: ActiveRun | None = None


def is_positive(case: Any) -> bool:
    meta = getattr(case, "meta", None)
    return meta is not None and meta.generation.mode == GenerationMode.POSITIVE


def _disarm(run: ActiveRun, case: Any) -> None:
    """Safety for negative-only runs: schemathesis counts a case as negative when anything (a header, the path)
    is off, and such a case may carry a valid body; its request could then create a connection. Drop a
    required field so that no body the spec accepts leaves this process."""
    from vpnconn import load_spec
    from vpnconn.validation import request_check

    conn = case.body.get("vpn_connection") if isinstance(case.body, dict) else None
    if isinstance(conn, dict) and request_check(load_spec()).fast.is_valid(case.body):
        conn.pop("vgw_id", None)
        run.disarmed += 1


@schemathesis.hook
def before_call(context, case, kwargs):
    run = ACTIVE
    if run is None:
        return
    run.sent += 1
    if is_positive(case):
        run.repairer.repair(case.body)
    elif not run.settings.creates:
        _disarm(run, case)
    if run.settings.ak:
        kwargs["auth"] = AkSkAuth(run.settings.ak, run.settings.sk)
