"""Render scenarios into files: JSON (canonical: sorted keys, two-space indent, trailing newline) written
by code; the .http, curl, SDK and Terraform forms through jinja2 templates (StrictUndefined, layout only).
Everything is returned as {relative path: bytes} so that writing and drift checking share one output."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import jinja2

from generators.client_forms import sdk_expression, sdk_imports, terraform_lines
from generators.scenarios import WORLD_FILE, Scenario
from vpnconn import __version__
from vpnconn.spec import Spec

TEMPLATES = Path(__file__).parent / "templates"
_ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), undefined=jinja2.StrictUndefined,
                          keep_trailing_newline=True, autoescape=False)


def canonical_json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def folder(scenario: Scenario) -> str:
    return scenario.name.replace("[]", ".items")


def _render(template: str, **values: Any) -> bytes:
    return _ENV.get_template(template).render(**values).encode()


# The SDK's method and request model of each operation other than create (whose request body is built field
# by field, see client_forms).
SDK_OPERATIONS = {
    "ShowVpnConnection": ("show_vpn_connection", "ShowVpnConnectionRequest"),
    "ListVpnConnections": ("list_vpn_connections", "ListVpnConnectionsRequest"),
    "UpdateVpnConnection": ("update_vpn_connection", "UpdateVpnConnectionRequest"),
    "DeleteVpnConnection": ("delete_vpn_connection", "DeleteVpnConnectionRequest"),
}


def _sdk_call(scenario: Scenario) -> tuple[str, list[str], str]:
    """(method, imports, request expression) of a lifecycle scenario's SDK call."""
    method, model = SDK_OPERATIONS[scenario.operation]
    path, _, query = scenario.path.partition("?")
    args = [f"vpn_connection_id={path.rsplit('/', 1)[1]!r}"] if scenario.operation != "ListVpnConnections" else []
    args += [f"{k}={int(v) if v.isdigit() else v!r}" for k, v in parse_qsl(query)]
    imports = [model]
    if scenario.request is not None:
        fields = ", ".join(f"{k}={v!r}" for k, v in scenario.request["vpn_connection"].items())
        args.append(f"body=UpdateVpnConnectionRequestBody(vpn_connection=UpdateVpnConnectionRequestBodyContent({fields}))")
        imports += ["UpdateVpnConnectionRequestBody", "UpdateVpnConnectionRequestBodyContent"]
    return method, imports, f"{model}({', '.join(args)})"


# What a real server fills differently from the fixtures, as RFC 6901 JSON pointers into an answer; a `*`
# segment stands for every index of an array. `unless_sent`: volatile only when the request did not give it.
VOLATILE = [
    *({"pointer": f"{at}/{field}"} for at in ("/vpn_connection", "/vpn_connections/*") for field in ("id", "created_at", "updated_at")),
    {"pointer": "/request_id"},
    {"pointer": "/page_info/next_marker"},
    *({"pointer": f"/vpn_connection/{field}", "unless_sent": f"/vpn_connection/{field}"}
      for field in ("name", "tunnel_local_address", "tunnel_peer_address")),
]


def scenario_files(scenario: Scenario) -> dict[str, tuple[str, bytes]]:
    """{file name: (file kind, bytes)} of one scenario."""
    accepted = 200 <= scenario.status < 300
    answer_file = ("response.json" if scenario.response else "") if accepted else "error.json"
    error_code = scenario.response.get("error_code")
    title = f"{scenario.name} ({scenario.kind}{': breaks ' + scenario.rule if scenario.rule else ''})"
    common = dict(title=title, status=scenario.status, error_code=error_code, answer_file=answer_file,
                  world=scenario.world, project_id=scenario.project_id, method=scenario.method,
                  path=scenario.path.format(project_id=scenario.project_id),
                  body_json=json.dumps(scenario.request, indent=2, sort_keys=True, ensure_ascii=False)
                  if scenario.request is not None else "")
    files = {"request.json": ("request", canonical_json(scenario.request))} if scenario.request is not None else {}
    if scenario.response:
        files[answer_file] = ("response" if accepted else "error", canonical_json(scenario.response))
    files["request.http"] = ("http", _render("request.http.j2", **common))
    files["curl.sh"] = ("curl", _render("curl.sh.j2", **common))
    if scenario.operation in SDK_OPERATIONS:
        method, imports, request = _sdk_call(scenario)
        files["sdk_example.py"] = ("sdk", _render("sdk_operation.py.j2", **common, imports=sorted(imports),
                                                  sdk_method=method, sdk_request=request))
    elif scenario.status == 201 and scenario.request is not None:
        conn = scenario.request["vpn_connection"]
        lines, unmodelled = terraform_lines(conn, scenario.response["vpn_connection"]["name"])
        files["terraform.tf"] = ("terraform", _render(
            "terraform.tf.j2", **common, lines=lines, unmodelled=unmodelled,
            resource_name=folder(scenario).replace("/", "_").replace("-", "_")))
        files["sdk_example.py"] = ("sdk", _render("sdk_example.py.j2", **common, imports=sdk_imports(conn),
                                                  sdk_body=sdk_expression(conn, indent="")))
    return files


def render_all(spec: Spec, scenarios: list[Scenario], seed: int, per_style: int) -> dict[str, bytes]:
    output: dict[str, bytes] = {"world.yaml": WORLD_FILE.read_bytes(), "README.md": _render("README.md.j2",
                                version=__version__, spec_version=spec.version, count=len(scenarios))}
    entries, catalogue = [], []
    for scenario in scenarios:
        files = {}
        for name, (kind, data) in scenario_files(scenario).items():
            path = f"{folder(scenario)}/{name}"
            output[path] = data
            files[kind] = path
            entries.append({"path": path, "sha256": hashlib.sha256(data).hexdigest(), "style": scenario.style,
                            "kind": kind, "scenario": scenario.name, "expected_status": scenario.status})
        entry = {"name": scenario.name, "style": scenario.style, "kind": scenario.kind, "rule": scenario.rule,
                 "operation": scenario.operation, "method": scenario.method, "path": scenario.path,
                 "expected_status": scenario.status, "error_code": scenario.response.get("error_code"),
                 "world": scenario.world, "files": files}
        if scenario.rule:  # error scenarios: is the refusal documented, or only inferred (a server may accept it)?
            provenance = spec.provenance_of(scenario.rule)
            entry["provenance"] = provenance.kind
            entry["provenance_detail"] = provenance.as_json()
        catalogue.append(entry)
    for path in ("world.yaml", "README.md"):
        entries.append({"path": path, "sha256": hashlib.sha256(output[path]).hexdigest(), "style": None,
                        "kind": "world" if path == "world.yaml" else "readme", "scenario": None, "expected_status": None})
    output["manifest.json"] = canonical_json({
        "toolkit_version": __version__,
        "spec": {"path": "spec/openapi.yaml", "version": spec.version, "sha256": spec.sha256},
        "seed": seed, "property_cases_per_style": per_style,
        "volatile": VOLATILE,
        "scenarios": catalogue,
        "files": sorted(entries, key=lambda e: e["path"]),
    })
    return output
