"""What a run saw: one record per case sent, with the failures found on its answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Failure:
    check: str  # the check's name: a schemathesis built-in or one of ours
    title: str
    message: str


@dataclass
class CaseRecord:
    phase: str  # examples, coverage, fuzzing (schemathesis) or rules (ours)
    mode: str  # positive or negative
    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str | None
    status: int | None
    response_headers: dict[str, str]
    response_body: str
    body: Any = None  # the request body as JSON, when it was JSON
    labels: list[str] = field(default_factory=list)  # for negative cases: the rules the body breaks
    failures: list[Failure] = field(default_factory=list)

    @property
    def style(self) -> str | None:
        conn = self.body.get("vpn_connection") if isinstance(self.body, dict) else None
        if not isinstance(conn, dict):
            return None
        style = conn.get("style", "static")
        return style if isinstance(style, str) else None
