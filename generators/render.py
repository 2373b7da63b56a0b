"""Render scenarios into files: JSON (canonical: sorted keys, two-space indent, trailing newline) written
by code; the .http, curl, SDK and Terraform forms through jinja2 templates (StrictUndefined, layout only).
Everything is returned as {relative path: bytes} so that writing and drift checking share one output."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

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


def scenario_files(scenario: Scenario) -> dict[str, tuple[str, bytes]]:
    """{file name: (file kind, bytes)} of one scenario."""
    answer_file = "response.json" if scenario.status == 201 else "error.json"
    error_code = scenario.response.get("error_code")
    title = f"{scenario.name} ({scenario.kind}{': breaks ' + scenario.rule if scenario.rule else ''})"
    common = dict(title=title, status=scenario.status, error_code=error_code, answer_file=answer_file,
                  world=scenario.world, project_id=scenario.project_id,
                  body_json=json.dumps(scenario.request, indent=2, sort_keys=True, ensure_ascii=False))
    files = {
        "request.json": ("request", canonical_json(scenario.request)),
        answer_file: ("response" if scenario.status == 201 else "error", canonical_json(scenario.response)),
        "request.http": ("http", _render("request.http.j2", **common)),
        "curl.sh": ("curl", _render("curl.sh.j2", **common)),
    }
    if scenario.status == 201:
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
        "volatile": ["vpn_connection.id", "vpn_connection.created_at", "vpn_connection.updated_at", "request_id",
                     "vpn_connection.name when the request has none", "vpn_connection.tunnel_local_address and "
                     "tunnel_peer_address when the request has none"],
        "scenarios": catalogue,
        "files": sorted(entries, key=lambda e: e["path"]),
    })
    return output
