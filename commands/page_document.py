"""The document the reference page is drawn from: the bundled spec with each operation's ``x-vpnconn-*``
extensions written out as readable tables, folded under the operation's description.

Redoc prints an extension as one JSON line, and above the request body: the create operation's provenance,
rules and server defaults filled the first 6,000 pixels of the page, so the request example (which Redoc
aligns with the request body) was never on screen (measured in Chromium at 1400x2000). Here they become
tables inside a ``<details>`` block, closed at first paint and one click away. The published
``openapi.yaml``/``openapi.json`` keep the extensions as they are; only the page's copy is rewritten.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")
FOLDED = ("x-vpnconn-provenance", "x-vpnconn-rules", "x-vpnconn-server-defaults")
SUMMARY = "Where each constraint comes from (vpnconn-provenance), named rules and server-filled defaults"


def page_document(bundle: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``bundle`` whose operations carry their extensions as a folded Markdown section."""
    document = copy.deepcopy(bundle)
    sources = document.get("x-vpnconn-sources", {})
    for item in document.get("paths", {}).values():
        for method in HTTP_METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict) or not any(key in operation for key in FOLDED):
                continue
            folded = {key: operation.pop(key) for key in FOLDED if key in operation}
            section = _section(folded, sources)
            operation["description"] = f"{operation.get('description', '').rstrip()}\n\n{section}\n"
    return document


def _section(folded: dict[str, Any], sources: dict[str, Any]) -> str:
    parts = [f"<details>\n<summary>{SUMMARY}</summary>\n"]
    provenance = folded.get("x-vpnconn-provenance", {})
    if "default" in provenance:
        parts.append(f"**Default provenance** of this operation's constraints and checks: "
                     f"{_provenance(provenance['default'], sources)}.\n")
    for group, title in (("constraints", "Constraints"), ("checks", "Checks")):
        if provenance.get(group):
            rows: list[tuple[Any, ...]] = [(f"`{name}`", _provenance(value, sources)) for name, value in provenance[group].items()]
            parts.append(_table(f"**{title}** whose provenance differs from the default", (title[:-1], "provenance"), rows))
    readings = [(f"`{name}`", f"pattern `{r['pattern']}`" if "pattern" in r else ", ".join(f"{k} {v}" for k, v in r["schema"].items()),
                 _provenance({"documented": r["documented"]}, sources), r["note"])
                for group in ("narrower_readings", "query_readings") for name, listed in provenance.get(group, {}).items()
                for r in listed]
    if readings:
        parts.append(_table("**Narrower readings**: where another page of the API reads a constraint or a query parameter "
                            "narrower than the spec (which takes the widest), what it reads; a target that follows it "
                            "makes the other choice", ("constraint or parameter", "that page reads", "page", "what it says"),
                            readings))
    if folded.get("x-vpnconn-rules"):
        rules = [(f"`{rule['id']}`", rule["description"], ", ".join(f"`{field}`" for field in rule.get("fields", [])),
                 _error(rule.get("error")),
                 _provenance(rule.get("provenance", provenance.get("default", {})), sources))
                 for rule in folded["x-vpnconn-rules"]]
        parts.append(_table("**Named rules** (x-vpnconn-rules), each refused with its error kind",
                            ("rule", "what it requires", "fields", "error", "provenance"), rules))
    if folded.get("x-vpnconn-server-defaults"):
        defaults = [(f"`{default['id']}`", f"`{default['field']}`", default["description"])
                    for default in folded["x-vpnconn-server-defaults"]]
        parts.append(_table("**Server-filled defaults** (x-vpnconn-server-defaults)", ("default", "field", "what the server fills"),
                            defaults))
    parts.append("</details>")
    return "\n".join(parts)


def _provenance(value: dict[str, Any], sources: dict[str, Any]) -> str:
    if "documented" in value:
        source = value["documented"]
        title = sources.get(source, {}).get("title")
        return f"documented: `{source}`" + (f" ({title})" if title else "")
    return f"*inferred*: {value.get('inferred', '')}"


def _error(error: Any) -> str:
    if isinstance(error, dict):
        return f"{error.get('status')} `{error.get('error_code')}`"
    return f"`{error}`"


def _table(title: str, header: tuple[str, ...], rows: Sequence[tuple[Any, ...]]) -> str:
    lines = [title, "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")
