"""What a run saw: one record per case sent, with the findings on its answer.

A :class:`Failure` is one finding. Its ``provenance`` says whether what it holds the target to is documented
(then it is a *violation*) or only inferred (then it is a *divergence*: the documentation leaves the choice
open and the target made the other one). A request whose answer was not the target's (a proxy refused it:
``refused_by_proxy``) is *not judged*: its finding says so, and no verdict counts it, --strict's neither.
``rule`` names what was broken (a constraint, a named rule, an error kind, or the check itself) and, with ``check``,
groups the findings of a run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from vpnconn.spec import Provenance, load_spec

VIOLATION = "violation"
DIVERGENCE = "divergence"
NOT_JUDGED = "not judged"
REFUSED_BY_PROXY = "refused_by_proxy"  # the one finding of a request a proxy refused (407): not judged (proxies)


@dataclass
class Failure:
    check: str  # the check's name: a schemathesis built-in or one of ours
    title: str
    message: str
    rule: str = ""  # what was broken; "" means the check itself
    provenance: Provenance | None = None  # None: documented by the spec (no weaker source to name)

    @property
    def severity(self) -> str:
        if self.check == REFUSED_BY_PROXY:
            return NOT_JUDGED
        return DIVERGENCE if self.provenance is not None and not self.provenance.documented else VIOLATION

    @property
    def group(self) -> str:
        """The cause within the check, for grouping: the rule, else the title."""
        return self.rule or self.title

    @classmethod
    def of(cls, check: str, finding: Finding) -> Failure:
        """The failure of ``check`` that ``finding`` describes."""
        return cls(check, finding.title or check.replace("_", " "), str(finding), finding.rule, finding.provenance)


class Finding(AssertionError):
    """What our checks raise: a structured failure (schemathesis keeps the exception, the run reads it back)."""

    def __init__(self, message: str, *, title: str = "", rule: str = "", provenance: Provenance | None = None) -> None:
        super().__init__(message)
        self.title, self.rule, self.provenance = title, rule, provenance


def header_value(headers: Mapping[str, Any], name: str) -> str | None:
    """An answer's header ``name`` (lower-case), whatever the case of its name; ``headers``: any mapping, its
    values strings or lists of strings (as schemathesis keeps them)."""
    found: Any = next((value for key, value in headers.items() if key.lower() == name), None)
    if isinstance(found, list):
        found = found[0] if found else None
    return None if found is None else str(found).strip()


BUSY = "target_busy"  # the one finding of a request whose answer stayed busy (contract_tests.pacing)
SENT_AGAIN = "create_sent_again"  # the one finding of a create sent again after a dropped connection, then refused


@dataclass
class CaseRecord:
    phase: str  # preflight, examples, coverage, fuzzing (schemathesis) or rules (ours)
    mode: str  # positive or negative
    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str | None
    status: int | None  # None: no HTTP answer (see the request_error finding)
    response_headers: dict[str, str]
    response_body: str
    body: Any = None  # the request body as JSON, when it was JSON
    labels: list[str] = field(default_factory=list)  # for negative cases: the rules the body breaks
    failures: list[Failure] = field(default_factory=list)

    @property
    def answered(self) -> bool:
        return self.status is not None

    @property
    def busy(self) -> bool:
        """Answered, but busy every time it was asked, or a create once (contract_tests.pacing): not judged."""
        return any(f.check == BUSY for f in self.failures)

    @property
    def style(self) -> str | None:
        conn = self.body.get("vpn_connection") if isinstance(self.body, dict) else None
        if not isinstance(conn, dict):
            return None
        style = conn.get("style", load_spec().default_style)
        return style if isinstance(style, str) else None

    def severities(self) -> set[str]:
        return {f.severity for f in self.failures}

    @property
    def judged_failing(self) -> bool:
        """Has the target's answer a finding, a violation or a divergence? (A request a proxy refused has none: its
        one finding says it is not judged, and no count of failures, MAX_FAILURES's neither, takes it.)"""
        return any(f.severity != NOT_JUDGED for f in self.failures)
