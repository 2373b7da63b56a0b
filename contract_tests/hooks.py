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


ACTIVE: ActiveRun | None = None


def is_positive(case: Any) -> bool:
    meta = getattr(case, "meta", None)
    return meta is not None and meta.generation.mode == GenerationMode.POSITIVE


@schemathesis.hook
def before_call(context, case, kwargs):
    run = ACTIVE
    if run is None:
        return
    run.sent += 1
    if is_positive(case):
        run.repairer.repair(case.body)
    if run.settings.ak:
        kwargs["auth"] = AkSkAuth(run.settings.ak, run.settings.sk)
