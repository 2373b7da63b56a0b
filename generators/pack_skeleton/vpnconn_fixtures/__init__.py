"""Request/response fixtures of the Huawei Cloud VPN connection (create, show, list, update, delete), from
vpnconn-contract.

    from vpnconn_fixtures import load
    fixture = load("static", "canonical")
    fixture.request, fixture.status, fixture.response
    show = load("static", "lifecycle-show")        # also lifecycle-list, -list-page-1, -list-page-2, -update, -delete
    show.method, show.path, show.response           # GET /v5/{project_id}/vpn-connection/<id of canonical's sequence>

Every fixture matches the spec and the vpnconn reference server (see manifest.json for what is volatile).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

__all__ = ["Fixture", "load", "fixtures", "manifest", "read_form", "without_volatile"]

FORMS = ("request", "response", "error", "http", "curl", "sdk", "terraform")


@dataclass(frozen=True)
class Fixture:
    name: str  # "<style>/<scenario>"
    style: str  # static, policy or bgp
    kind: str  # canonical, minimal, maximal, property, error, or lifecycle-show/-list/-update/-delete
    rule: str | None  # for errors: the spec rule the request breaks
    status: int  # the expected HTTP status
    error_code: str | None
    world: str  # "open" or "world.yaml" (shipped in the package data)
    request: dict[str, Any] | None  # None: the operation sends no body (show, list, delete)
    response: dict[str, Any] | None  # the answer's body or the error body; None for a 204
    files: dict[str, str]  # form -> path inside the package data
    operation: str = "CreateVpnConnection"  # the spec's operationId
    method: str = "POST"
    path: str = "/v5/{project_id}/vpn-connection"  # with the connection id and the query filled in


def _data():
    return resources.files(__package__).joinpath("data")


@lru_cache(maxsize=1)
def manifest() -> dict[str, Any]:
    """The manifest: spec version and sha256, seed, every scenario and every file with its sha256."""
    return json.loads(_data().joinpath("manifest.json").read_text(encoding="utf-8"))


def _read_json(path: str) -> Any:
    return json.loads(_data().joinpath(path).read_text(encoding="utf-8"))


def _fixture(entry: dict[str, Any]) -> Fixture:
    files = entry["files"]
    answer = files.get("response") or files.get("error")
    return Fixture(name=entry["name"], style=entry["style"], kind=entry["kind"], rule=entry["rule"],
                   status=entry["expected_status"], error_code=entry["error_code"], world=entry["world"],
                   request=_read_json(files["request"]) if "request" in files else None,
                   response=_read_json(answer) if answer else None, files=files,
                   operation=entry["operation"], method=entry["method"], path=entry["path"])


def fixtures(style: str | None = None, kind: str | None = None) -> list[Fixture]:
    """All fixtures, or those of one style and/or kind."""
    return [_fixture(e) for e in manifest()["scenarios"]
            if (style is None or e["style"] == style) and (kind is None or e["kind"] == kind)]


def load(style: str, scenario: str) -> Fixture:
    """One fixture by style and scenario name, e.g. load("policy", "maximal") or load("static", "error--psk.minLength")."""
    name = f"{style}/{scenario}"
    for entry in manifest()["scenarios"]:
        if entry["name"] == name:
            return _fixture(entry)
    known = ", ".join(sorted(e["name"] for e in manifest()["scenarios"] if e["style"] == style)[:8])
    raise KeyError(f"no fixture {name!r}; some of style {style!r}: {known} ...")


def read_form(fixture: Fixture, form: str) -> str:
    """The text of one form of a fixture: request, response, error, http, curl, sdk or terraform."""
    if form not in fixture.files:
        raise KeyError(f"{fixture.name} has no {form!r} form; it has {', '.join(sorted(fixture.files))}")
    return _data().joinpath(fixture.files[form]).read_text(encoding="utf-8")


def _resolve(document: Any, pointer: str) -> list[tuple[Any, str]]:
    """(container, key) pairs that an RFC 6901 pointer names in ``document``; a ``*`` segment is every index."""
    places: list[tuple[Any, str]] = [({"": document}, "")]
    for raw in pointer.split("/")[1:]:
        segment = raw.replace("~1", "/").replace("~0", "~")
        nxt: list[tuple[Any, str]] = []
        for container, key in places:
            node = container[key] if isinstance(container, dict) else container[int(key)]
            if isinstance(node, list):
                nxt += [(node, str(i)) for i in range(len(node))] if segment == "*" else \
                    ([(node, segment)] if segment.isdigit() and int(segment) < len(node) else [])
            elif isinstance(node, dict) and segment in node:
                nxt.append((node, segment))
        places = nxt
    return places


def without_volatile(answer: Any, request: Any = None) -> Any:
    """A copy of ``answer`` without what a real server fills differently (the manifest's ``volatile`` pointers:
    ids, times, request ids, markers; a name or tunnel pair only when ``request`` did not give one).

    Compare ``without_volatile(real_answer, sent)`` with ``without_volatile(fixture.response, fixture.request)``.
    """
    copy = json.loads(json.dumps(answer))
    for entry in manifest()["volatile"]:
        if "unless_sent" in entry and request is not None and _resolve(request, entry["unless_sent"]):
            continue
        for container, key in reversed(_resolve(copy, entry["pointer"])):
            if isinstance(container, dict):
                del container[key]
    return copy
