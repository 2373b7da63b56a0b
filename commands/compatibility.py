"""Is the spec compatible with the last published version (``spec/published/openapi.yaml``)?

Two sources of breaking changes:

1. ``api-schema-diff`` (an existing OpenAPI differ, run as a tool): removed fields, operations and
   statuses, changed types, newly required fields.
2. What it does not see (measured: it passes a narrowed enum and a lowered maximum): the request's
   constraint inventory of both versions, compared. A request constraint that is new or tighter (a bound
   moved inwards, an enum value removed, a pattern changed, a named rule added or its parameters changed)
   refuses requests the published version accepted.

A breaking change is *announced* when the major version is raised and CHANGELOG.md has an entry for the
new version with a ``### Breaking`` section.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from vpnconn.constraints import request_constraints
from vpnconn.spec import REPO_ROOT, Spec, load_spec

PUBLISHED = REPO_ROOT / "spec" / "published" / "openapi.yaml"
CHANGELOG = REPO_ROOT / "CHANGELOG.md"
_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$")
_LOWER = ("minimum", "minLength", "minItems")
_UPPER = ("maximum", "maxLength", "maxItems")


def semver(version: str) -> tuple[int, int, int]:
    match = _SEMVER.match(version)
    if not match:
        raise ValueError(f"info.version {version!r} is not semver (MAJOR.MINOR.PATCH)")
    return int(match[1]), int(match[2]), int(match[3])


def _tool() -> str:
    found = shutil.which("api-schema-diff") or str(Path(sys.executable).parent / "api-schema-diff")
    return found


def tool_breaking(old: Path, new: Path) -> list[str]:
    result = subprocess.run([_tool(), str(old), str(new), "--format", "json", "--no-fail-on-breaking"],
                            capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"api-schema-diff failed: {(result.stderr or result.stdout).strip()[-300:]}")
    report = json.loads(result.stdout)
    return [f"{c['type']}: {c['path']} ({c.get('message', '')})" for c in report.get("breaking", [])]


def narrowing(old: Spec, new: Spec) -> list[str]:
    before = {c.name: c for c in request_constraints(old)}
    old_paths = {c.path for c in before.values()}
    found = []
    for c in request_constraints(new):
        was = before.get(c.name)
        if was is None:
            # a rule on a field that is itself new breaks nobody (no client sent it); any other new rule does
            if c.keyword == "required" or c.name.startswith("x-") or c.path in old_paths:
                found.append(f"new request rule {c.name}")
        elif c.keyword in _LOWER and c.value > was.value or c.keyword in _UPPER and c.value < was.value:
            found.append(f"{c.name} tightened from {was.value} to {c.value}")
        elif c.keyword == "enum" and set(was.value) - set(c.value):
            found.append(f"{c.name}: values removed {sorted(set(was.value) - set(c.value))}")
        elif c.keyword in ("pattern", "type") or c.name.startswith("x-"):
            if c.value != was.value:
                found.append(f"{c.name} changed from {was.value!r} to {c.value!r}")
    return found


def changelog_entry(version: str, text: str | None = None) -> str | None:
    text = CHANGELOG.read_text(encoding="utf-8") if text is None else text
    match = re.search(rf"^## \[{re.escape(version)}\][^\n]*\n(.*?)(?=^## \[|\Z)", text, re.M | re.S)
    return match.group(1) if match else None


def compatibility_problems(spec: Spec | None = None, published: Path = PUBLISHED, changelog: str | None = None) -> list[str]:
    spec = spec or load_spec()
    if not published.exists():
        return [f"no published baseline at {published.relative_to(REPO_ROOT)}: run 'make publish'"]
    old = load_spec(published, baseline=True)
    if old.sha256 == spec.sha256:
        return []
    breaking = tool_breaking(published, spec.path) + narrowing(old, spec)
    if not breaking:
        return []
    try:
        raised = semver(spec.version)[0] > semver(old.version)[0]
    except ValueError as exc:
        return [str(exc)]
    entry = changelog_entry(spec.version, changelog)
    if raised and entry is not None and "### Breaking" in entry:
        return []
    due = spec.version if raised else f"{semver(old.version)[0] + 1}.0.0"
    bump = "" if raised else f"set info.version to {due} (it is {spec.version}; the published one is {old.version}) and "
    why = f"version {due} is due: {bump}add '## [{due}]' with a '### Breaking' section to CHANGELOG.md"
    return [f"breaking change not announced ({why}):"] + [f"  {b}" for b in breaking]
