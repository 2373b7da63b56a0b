"""Say what a run found: a summary grouped by check and rule, a minimal reproduction per failure (curl,
request, response) with the secrets masked, the spec coverage; and the REPORT files (JUnit XML, JSON)."""

from __future__ import annotations

import json
import shlex
from collections import defaultdict
from pathlib import Path
from xml.etree import ElementTree as ET

from contract_tests.coverage import SpecCoverage, spec_coverage
from contract_tests.masking import mask_headers, mask_text
from contract_tests.records import CaseRecord
from contract_tests.runner import RunResult

SHOWN_HEADERS = ("content-type", "x-auth-token", "authorization", "x-sdk-date", "x-project-id")


def curl(record: CaseRecord, secrets: list[str]) -> str:
    """A curl command that replays the request once the masked credentials are put back."""
    parts = ["curl", "-i", "-X", record.method, shlex.quote(record.url)]
    for key, value in mask_headers(record.request_headers).items():
        if key.lower() in SHOWN_HEADERS:
            parts += ["-H", shlex.quote(f"{key}: {value}")]
    if record.request_body is not None:
        parts += ["--data-raw", shlex.quote(mask_text(record.request_body, secrets))]
    return " ".join(parts)


def failure_groups(result: RunResult) -> dict[tuple[str, str], list[CaseRecord]]:
    """(check, rule-or-title) -> the failing cases, smallest request first."""
    groups: dict[tuple[str, str], list[CaseRecord]] = defaultdict(list)
    for record in result.failed:
        for failure in record.failures:
            rule = ", ".join(record.labels) if record.labels else failure.title
            groups[(failure.check, rule)].append(record)
    for records in groups.values():
        records.sort(key=lambda r: len(r.request_body or ""))
    return dict(sorted(groups.items()))


def render_summary(result: RunResult, coverage: SpecCoverage | None = None) -> str:
    secrets = result.settings.secrets
    coverage = coverage or spec_coverage(result.records)
    by_phase = defaultdict(lambda: [0, 0])
    for r in result.records:
        by_phase[(r.phase, r.mode)][0] += 1
        by_phase[(r.phase, r.mode)][1] += bool(r.failures)
    lines = [f"{len(result.records)} cases in {result.seconds:.1f} s ({result.rate:.0f} cases/s) against {result.base_url}"]
    for (phase, mode), (n, failed) in sorted(by_phase.items()):
        lines.append(f"  {phase:9} {mode:8} {n:5} cases  {failed:4} failed")
    groups = failure_groups(result)
    if groups:
        lines.append(f"\nFAILED: {len(result.failed)} cases broke {len(groups)} check/rule pairs")
        for (check, rule), records in groups.items():
            lines.append(f"  {check:32} {rule:44} {len(records):4} cases")
        for n, ((check, rule), records) in enumerate(groups.items(), start=1):
            smallest = records[0]
            failure = next(f for f in smallest.failures if f.check == check)
            lines += ["", f"[{n}] {check}: {failure.title}  (rule: {rule}; {smallest.phase}/{smallest.mode} phase)",
                      f"    {mask_text(failure.message, secrets)}",
                      f"    reproduce: {curl(smallest, secrets)}",
                      f"    answer:    {smallest.status} {mask_text(smallest.response_body[:600], secrets)}"]
    else:
        lines.append("\nPASSED: no check found a violation")
    styles = ", ".join(f"{s} {coverage.styles.get(s, 0)}" for s in ("static", "policy", "bgp"))
    lines += ["", "spec coverage:", f"  styles (positive cases)   {styles}",
              f"  enum values               {coverage.enum_values[0]}/{coverage.enum_values[1]} accepted in some case" +
              (f"; not: {', '.join(coverage.enum_values[2][:6])}" if coverage.enum_values[2] else ""),
              f"  boundaries                {coverage.boundaries[0]}/{coverage.boundaries[1]} hit by an accepted case" +
              (f"; not: {', '.join(coverage.boundaries[2][:6])}" + (" ..." if len(coverage.boundaries[2]) > 6 else "") if coverage.boundaries[2] else ""),
              f"  named rules (x-)          {coverage.rules[0]}/{coverage.rules[1]} broken on purpose" +
              (f"; not: {', '.join(coverage.rules[2])}" if coverage.rules[2] else ""),
              f"  documented statuses       seen {', '.join(coverage.statuses[0]) or 'none'}; not seen {', '.join(coverage.statuses[1]) or 'none'}"]
    if coverage.undocumented:
        lines.append(f"  undocumented statuses     {', '.join(map(str, coverage.undocumented))} (schemathesis probes, e.g. 405 for other methods)")
    for note in result.notes:
        lines.append(f"  note: {note}")
    return "\n".join(lines)


def _record_json(record: CaseRecord, secrets: list[str]) -> dict:
    return {
        "phase": record.phase, "mode": record.mode, "labels": record.labels,
        "failures": [{"check": f.check, "title": f.title, "message": mask_text(f.message, secrets)} for f in record.failures],
        "request": {"method": record.method, "url": record.url, "headers": mask_headers(record.request_headers),
                    "body": mask_text(record.request_body, secrets) if record.request_body is not None else None},
        "response": {"status": record.status, "headers": mask_headers(record.response_headers),
                     "body": mask_text(record.response_body, secrets)},
        "curl": curl(record, secrets),
    }


def write_reports(result: RunResult, directory: Path) -> list[Path]:
    """``failures.json`` (every failing case, masked) and ``junit.xml`` (one test case per check/rule group)."""
    directory.mkdir(parents=True, exist_ok=True)
    secrets = result.settings.secrets
    failures = directory / "failures.json"
    failures.write_text(json.dumps({
        "target": result.base_url, "seed": result.settings.seed, "cases": len(result.records),
        "failed_cases": len(result.failed), "seconds": round(result.seconds, 2),
        "failures": [_record_json(r, secrets) for r in result.failed],
    }, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    suite = ET.Element("testsuite", name="vpnconn-contract", tests=str(len(result.records)),
                       failures=str(len(result.failed)), time=f"{result.seconds:.3f}")
    groups = failure_groups(result)
    phases = sorted({(r.phase, r.mode) for r in result.records})
    for phase, mode in phases:
        members = [r for r in result.records if (r.phase, r.mode) == (phase, mode) and not r.failures]
        ET.SubElement(suite, "testcase", classname=f"contract.{phase}", name=f"{mode} cases ({len(members)} passed)")
    for (check, rule), records in groups.items():
        case = ET.SubElement(suite, "testcase", classname=f"contract.{check}", name=rule)
        failure = next(f for f in records[0].failures if f.check == check)
        node = ET.SubElement(case, "failure", message=mask_text(failure.message, secrets)[:500])
        node.text = f"{len(records)} cases\n{curl(records[0], secrets)}\n{records[0].status} {mask_text(records[0].response_body[:2000], secrets)}"
    junit = directory / "junit.xml"
    ET.ElementTree(suite).write(junit, encoding="utf-8", xml_declaration=True)
    return [junit, failures]
