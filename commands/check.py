"""`vpnconn check`: is the spec sound? Reports only, never writes.

1. the spec loads and validates as OpenAPI 3.1 (openapi-spec-validator);
2. every example matches its schema, and request examples also keep the spec's rules;
3. the spec's ``x-vpnconn-rules`` and the rule implementations are the same set;
4. fixtures/ equals what the generators emit now;
5. no breaking change against the published version that the version and changelog do not announce;
6. Spectral lints the spec clean (warnings count as failures).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator

from vpnconn.rules import RULES
from vpnconn.spec import REPO_ROOT, Spec, SpecError, load_spec
from vpnconn.validation import request_check, schema_errors

SPECTRAL = REPO_ROOT / "node_modules" / ".bin" / "spectral"


def example_problems(spec: Spec) -> Iterator[str]:
    """Every example of every operation, checked against its schema (create requests with the named rules too)."""
    for operation in spec.operations:
        where = "" if operation.id == spec.create.id else f"{operation.id} "
        if operation.request_schema:
            check = request_check(spec, operation.request_schema)
            for name, body in spec.examples("request", operation.id).items():
                found = check.violations(body) if operation.id == spec.create.id else check.schema_violations(body)
                for v in found:
                    yield f"{where}request example {name!r}: {v.rule} at {v.pointer}: {v.message}"
        for status in operation.node["responses"]:
            schema_name = operation.response_schema(status)
            for name, value in (spec.examples(status, operation.id).items() if schema_name else ()):
                for problem in schema_errors(schema_name or "", value, spec):
                    yield f"{where}{status} example {name!r}: {problem}"


def rule_registry_problems(spec: Spec) -> Iterator[str]:
    declared = {r.id for r in spec.rules}
    for missing in sorted(declared - RULES.keys()):
        yield f"x-vpnconn-rules declares {missing!r} but vpnconn/rules.py has no @rule({missing!r})"
    for extra in sorted(RULES.keys() - declared):
        yield f"vpnconn/rules.py implements {extra!r}, which the spec's x-vpnconn-rules does not declare"


def lint_problems(spec: Spec) -> Iterator[str]:
    if not SPECTRAL.exists():
        yield f"Spectral is not installed at {SPECTRAL}: run 'make check' (it installs node_modules)"
        return
    if shutil.which("node") is None:
        yield "node is not on PATH; Spectral needs Node.js 20+"
        return
    result = subprocess.run(
        [str(SPECTRAL), "lint", str(spec.path), "--ruleset", str(REPO_ROOT / ".spectral.yaml"),
         "--fail-severity=warn", "--format=text", "--quiet"],
        capture_output=True, text=True, timeout=120,
    )
    if result.returncode != 0:
        lines = [ln for ln in (result.stdout + result.stderr).splitlines() if ln.strip()]
        yield from (f"spectral: {ln}" for ln in lines or ["failed without output"])


def fixture_problems(spec: Spec) -> Iterator[str]:
    from generators.fixture_files import drift, generate

    for kind, paths in drift(generate()).items():
        yield from (f"{kind}: fixtures/{p} (run 'make fixtures'; never edit fixtures/ by hand)" for p in paths[:20])


def compatibility(spec: Spec) -> Iterator[str]:
    from commands.compatibility import compatibility_problems

    yield from compatibility_problems(spec)


def run_check(lint: bool = True) -> int:
    try:
        spec = load_spec()
    except SpecError as exc:
        print(f"FAIL spec: {exc}")
        return 1
    print(f"spec {spec.path.relative_to(REPO_ROOT)} version {spec.version} (sha256 {spec.sha256[:12]}): valid OpenAPI 3.1")
    sections = [("examples", example_problems), ("rules", rule_registry_problems), ("fixtures", fixture_problems),
                ("compatibility", compatibility)]
    if lint:
        sections.append(("lint", lint_problems))
    failed = False
    for label, producer in sections:
        problems = list(producer(spec))
        print(f"{'ok  ' if not problems else 'FAIL'} {label}" + (f": {len(problems)} problem(s)" if problems else ""))
        for p in problems:
            print(f"     {p}")
        failed = failed or bool(problems)
    return 1 if failed else 0
