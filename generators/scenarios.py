"""The scenarios of the fixture pack and their expected answers.

Per style: the spec's canonical example, a minimal request (required fields and what the named rules
require), a maximal one (every field the style allows), N property-generated valid requests (seeded
schemathesis generation, repaired to keep the named rules); and one invalid request per rule of the spec
(``spec/cases/fail``, named after the rule it breaks); and, per style, the lifecycle of the example
connection beside a second one (show, list on one page and on two, update, delete), in one store of its
own. Expected answers come from the reference server's
own :meth:`~reference_server.app.ReferenceServer.respond`, with ids and timestamps derived from the name.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from generators.identity import derived_identity, derived_uuid
from reference_server import ReferenceServer, Reject
from vpnconn.repair import DEFAULT_PROJECT_ID, Repairer, default_policy_rules
from vpnconn.spec import REPO_ROOT, Spec
from vpnconn.world import OPEN_WORLD, load_world

CASES = REPO_ROOT / "spec" / "cases"
WORLD_FILE = CASES / "world.yaml"


@dataclass(frozen=True)
class Scenario:
    name: str  # unique, also the folder: <style>/<scenario>
    style: str
    kind: str  # canonical, minimal, maximal, property, error
    request: dict[str, Any] | None  # None: the operation takes no body (show, list, delete)
    status: int
    response: dict[str, Any]  # the answer's body or the error body ({} for a 204)
    world: str  # "open" (every id exists) or "world.yaml" (shipped beside the fixtures)
    rule: str | None = None  # for errors: the rule the request breaks
    project_id: str = DEFAULT_PROJECT_ID
    operation: str = "CreateVpnConnection"  # the spec's operationId
    method: str = "POST"
    path: str = "/v5/{project_id}/vpn-connection"  # with the connection's id filled in, and the query


def _answer(server: ReferenceServer, name: str, body: Any) -> tuple[int, dict[str, Any]]:
    request_id = derived_uuid(name, "request")
    try:  # a fresh store per scenario: its auto-assigned tunnel pair does not depend on other scenarios
        connection = server.respond(copy.deepcopy(body), derived_identity(name), server.new_store())
    except Reject as r:
        return r.error["status"], r.payload(request_id)
    return 201, {"vpn_connection": connection, "request_id": request_id}


def _style_of(body: Any, spec: Spec) -> str:
    conn = body.get("vpn_connection") if isinstance(body, dict) else None
    style = conn.get("style", spec.default_style) if isinstance(conn, dict) else spec.default_style
    return style if style in spec.styles else spec.default_style


class ScenarioBuilder:
    def __init__(self, spec: Spec, seed: int, per_style: int) -> None:
        self.spec, self.seed, self.per_style = spec, seed, per_style
        self.styles = tuple(spec.examples("request"))  # one example per style, named after it: the fixtures' order
        self.repairer = Repairer(spec)
        self.open = ReferenceServer(world=OPEN_WORLD, spec=spec)
        self.closed = ReferenceServer(world=load_world(WORLD_FILE), spec=spec)

    def all(self) -> list[Scenario]:
        scenarios = []
        for style in self.styles:
            example = self.spec.examples("request")[style]
            scenarios.append(self._valid(style, "canonical", example))
            scenarios.append(self._valid(style, "minimal", self._minimal(example, style)))
            scenarios.append(self._valid(style, "maximal", self._maximal(example, style)))
        for n, (style, body) in enumerate(self._generated()):
            scenarios.append(self._valid(style, f"property-{n // len(self.styles) + 1:02d}", body))
        scenarios += self._errors()
        for style in self.styles:
            scenarios += self._lifecycle(style)
        return scenarios

    def _lifecycle(self, style: str) -> list[Scenario]:
        """The style's example connection (and a minimal one beside it, for two pages, with a customer gateway of its
        own: a gateway address and a customer gateway hold one connection) in a store of their own."""
        server, store, project = self.open, self.open.new_store(), DEFAULT_PROJECT_ID
        example = self.spec.examples("request")[style]
        beside = self._minimal(example, style)
        beside["vpn_connection"]["cgw_id"] = derived_uuid(f"{style}/lifecycle", "customer-gateway")
        ids = []
        for n, body in enumerate((example, beside), start=1):
            made = server.respond(copy.deepcopy(body), derived_identity(f"{style}/lifecycle/create-{n}"), store)
            store.add(made, project, copy.deepcopy(body["vpn_connection"]))
            ids.append(made["id"])
        item = f"/v5/{{project_id}}/vpn-connection/{ids[0]}"
        gateway = {"vgw_id": example["vpn_connection"]["vgw_id"]}
        collection = f"/v5/{{project_id}}/vpn-connection?vgw_id={gateway['vgw_id']}"
        # the marker of page 2 is the created_at of page 1's connection, which comes first in the store
        marker = store.listing(project)[0]["created_at"]
        steps: list[tuple[str, str, str, str, Any, Any]] = [  # name, operation, method, path, request, answer
            ("show", "ShowVpnConnection", "GET", item, None, lambda: {"vpn_connection": server.show(project, ids[0], store)}),
            ("list", "ListVpnConnections", "GET", collection, None, lambda: server.list_page(project, gateway, store)),
            ("list-page-1", "ListVpnConnections", "GET", f"{collection}&limit=1", None,
             lambda: server.list_page(project, {**gateway, "limit": 1}, store)),
            ("list-page-2", "ListVpnConnections", "GET", f"{collection}&limit=1&marker={marker}", None,
             lambda: server.list_page(project, {**gateway, "limit": 1, "marker": marker}, store)),
            ("update", "UpdateVpnConnection", "PUT", item, UPDATE, lambda: {"vpn_connection": server.update(
                project, ids[0], copy.deepcopy(UPDATE), derived_identity(f"{style}/lifecycle/update"), store)}),
            ("delete", "DeleteVpnConnection", "DELETE", item, None, lambda: server.delete(project, ids[0], store)),
        ]
        scenarios = []
        for step, operation_id, method, path, request, answer in steps:
            name = f"{style}/lifecycle-{step}"
            body = answer()
            response = {**body, "request_id": derived_uuid(name, "request")} if body is not None else {}
            scenarios.append(Scenario(name=name, style=style, kind=f"lifecycle-{step.split('-')[0]}", request=request,
                                      status=self.spec.operation_by_id(operation_id).success_status, response=response,
                                      world="open", operation=operation_id, method=method, path=path))
        return scenarios

    def _valid(self, style: str, kind_name: str, body: dict[str, Any]) -> Scenario:
        name = f"{style}/{kind_name}"
        status, response = _answer(self.open, name, body)
        if status != 201:
            raise AssertionError(f"fixture {name} is not accepted by the reference server: {response}")
        return Scenario(name=name, style=style, kind=kind_name.split("-")[0], request=body, status=status,
                        response=response, world="open")

    def _minimal(self, example: dict[str, Any], style: str) -> dict[str, Any]:
        """Required fields, and what the named rules require of a standard gateway (psk, peer_subnets)."""
        source = example["vpn_connection"]
        conn = {k: source[k] for k in ("vgw_id", "vgw_ip", "cgw_id", "peer_subnets", "psk")}
        if style != self.spec.default_style:
            conn["style"] = style
        if style == "policy":
            conn["policy_rules"] = default_policy_rules(self.spec)
        return {"vpn_connection": conn}

    def _maximal(self, example: dict[str, Any], style: str) -> dict[str, Any]:
        """Every field the style allows, each with a realistic value (a test checks none is missing)."""
        conn = copy.deepcopy(MAXIMAL)
        conn.update({k: example["vpn_connection"][k] for k in ("vgw_id", "vgw_ip", "cgw_id")}, style=style)
        return self.repairer.restyle({"vpn_connection": conn}, style)

    def _generated(self) -> list[tuple[str, dict[str, Any]]]:
        from generators.property_cases import generated_bodies

        bodies = generated_bodies(self.seed, self.per_style * len(self.styles))
        out = []
        for i, body in enumerate(bodies):
            body = self.repairer.restyle(body, self.styles[i % len(self.styles)])
            body["vpn_connection"]["psk"] = f"Fake-Psk-{i + 1:04d}"  # fixtures carry obviously fake keys
            out.append((self.styles[i % len(self.styles)], body))
        return out

    def _errors(self) -> list[Scenario]:
        scenarios = []
        for path in sorted((CASES / "fail").glob("*.json")):
            body = json.loads(path.read_text(encoding="utf-8"))
            style = _style_of(body, self.spec)
            name = f"{style}/error--{path.stem}"
            status, response = _answer(self.closed, name, body)
            scenarios.append(Scenario(name=name, style=style, kind="error", request=body, status=status,
                                      response=response, world="world.yaml", rule=path.stem.split("--")[0]))
        return scenarios


UPDATE: dict[str, Any] = {"vpn_connection": {"name": "vpn-renamed", "peer_subnets": ["192.168.45.0/24"]}}
MAXIMAL: dict[str, Any] = {
    "name": "branch-office.maximal_1",
    "peer_subnets": ["192.168.44.0/24", "192.168.45.0/24"],
    "peer_subnets_v6": ["2001:db8:44::/64"],
    "tunnel_local_address": "169.254.56.225/30",
    "tunnel_peer_address": "169.254.56.226/30",
    "enable_nqa": True,
    "enable_hub": True,
    "enable_health_check": True,
    "psk": "Fake-Psk-Maximal-1234",
    "policy_rules": [{"rule_index": 1, "source": "10.0.0.0/24", "destination": ["192.168.44.0/24", "192.168.45.0/24"]},
                     {"rule_index": 2, "source": "10.0.1.0/24", "destination": ["192.168.46.0/24"]}],
    "policy_rules_v6": [{"rule_index": 3, "source": "2001:db8:10::/64", "destination": ["2001:db8:44::/64"]}],
    "ikepolicy": {"ike_version": "v1", "phase1_negotiation_mode": "aggressive", "authentication_algorithm": "sha2-512",
                  "encryption_algorithm": "aes-256-gcm-16", "dh_group": "group20", "authentication_method": "pre-share",
                  "lifetime_seconds": 28800, "local_id_type": "fqdn", "local_id": "gw-local.example.com",
                  "peer_id_type": "fqdn", "peer_id": "gw-peer.example.com",
                  "dpd": {"timeout": 20, "interval": 60, "msg": "seq-notify-hash"}},
    "ipsecpolicy": {"authentication_algorithm": "sha2-512", "encryption_algorithm": "aes-256-gcm-16", "pfs": "group20",
                    "transform_protocol": "esp", "lifetime_seconds": 7200, "encapsulation_mode": "tunnel"},
    "ha_role": "master",
    "tags": [{"key": "env", "value": "example"}, {"key": "owner", "value": "network-team"}],
}
