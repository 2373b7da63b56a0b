"""Client-side forms of a request, decided here so that templates only lay them out.

* a ``huaweicloud_vpn_connection`` Terraform block (argument names of the provider; fields it does not
  model are listed in a comment, not dropped silently);
* the Python SDK (``huaweicloudsdkvpn``) model expression that builds the request body.
"""

from __future__ import annotations

import json
from typing import Any

# request field -> Terraform argument (terraform-provider-huaweicloud resource_huaweicloud_vpn_connection)
TERRAFORM_ARGUMENTS = {
    "name": "name", "vgw_id": "gateway_id", "vgw_ip": "gateway_ip", "style": "vpn_type",
    "cgw_id": "customer_gateway_id", "peer_subnets": "peer_subnets", "psk": "psk",
    "tunnel_local_address": "tunnel_local_address", "tunnel_peer_address": "tunnel_peer_address",
    "enable_nqa": "enable_nqa", "ha_role": "ha_role",
}
TERRAFORM_BLOCKS = ("ikepolicy", "ipsecpolicy", "policy_rules")
SDK_MODELS = {"ikepolicy": "IkePolicy", "ipsecpolicy": "IpsecPolicy", "dpd": "Dpd", "policy_rules": "PolicyRule",
              "policy_rules_v6": "PolicyRule", "tags": "VpnResourceTag"}


def _hcl_value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _hcl_block(name: str, fields: dict[str, Any], indent: str) -> list[str]:
    lines = [f"{indent}{name} {{"]
    for key, value in fields.items():
        if isinstance(value, dict):
            lines += _hcl_block(key, value, indent + "  ")
        else:
            lines.append(f"{indent}  {key} = {_hcl_value(value)}")
    return lines + [f"{indent}}}"]


def terraform_lines(conn: dict[str, Any], name_if_missing: str) -> tuple[list[str], list[str]]:
    """(argument lines of the resource block, request fields the provider has no argument for)."""
    lines, unmodelled = [], []
    values = {"name": name_if_missing, **conn}  # the provider requires a name; the API makes one up
    values.setdefault("style", "static")
    for field, argument in TERRAFORM_ARGUMENTS.items():
        if field in values:
            lines.append(f"  {argument} = {_hcl_value(values[field])}")
    for block in TERRAFORM_BLOCKS:
        if block == "policy_rules":
            for rule in conn.get(block, []):
                lines += _hcl_block("policy_rules", rule, "  ")
        elif block in conn:
            lines += _hcl_block(block, conn[block], "  ")
    if conn.get("tags"):
        lines.append("  tags = {")
        lines += [f"    {_hcl_value(t['key'])} = {_hcl_value(t['value'])}" for t in conn["tags"]]
        lines.append("  }")
    for field in conn:
        if field not in TERRAFORM_ARGUMENTS and field not in TERRAFORM_BLOCKS and field != "tags":
            unmodelled.append(field)
    return lines, unmodelled


def sdk_expression(value: Any, key: str | None = None, indent: str = "    ") -> str:
    """The SDK constructor call (or literal) that builds ``value``; nested objects become their models."""
    inner = indent + "    "
    if isinstance(value, dict):
        model = SDK_MODELS.get(key or "", "CreateVpnConnectionRequestBodyContent")
        if not value:
            return f"{model}()"  # an empty object in the request: the model with nothing set
        args = ",\n".join(f"{inner}{k}={sdk_expression(v, k, inner)}" for k, v in value.items())
        return f"{model}(\n{args},\n{indent})"
    if isinstance(value, list) and key in SDK_MODELS:
        if not value:
            return "[]"
        items = ",\n".join(f"{inner}{sdk_expression(v, key, inner)}" for v in value)
        return f"[\n{items},\n{indent}]"
    return repr(value)


def sdk_imports(conn: dict[str, Any]) -> list[str]:
    used = {"CreateVpnConnectionRequest", "CreateVpnConnectionRequestBody", "CreateVpnConnectionRequestBodyContent"}
    for key, model in SDK_MODELS.items():
        if key in conn or (key == "dpd" and "dpd" in conn.get("ikepolicy", {})):
            used.add(model)
    return sorted(used)
