"""Say what a run found: violations, divergences and what was not judged apart, each grouped by check and cause, a few examples
per group with a curl that replays it (the user's credentials masked), the spec coverage; and the REPORT
files (JUnit XML, failures.json with every failing case)."""

from __future__ import annotations

import json
import os
import shlex
from collections import defaultdict
from pathlib import Path
from xml.etree import ElementTree as ET

from contract_tests.coverage import SpecCoverage, spec_coverage
from contract_tests.masking import mask_headers, mask_text
from contract_tests.records import DIVERGENCE, NOT_JUDGED, VIOLATION, CaseRecord, Failure
from contract_tests.runner import RunResult
from contract_tests.settings import check_report_dir
from contract_tests.verdicts import check_provenance
from vpnconn import load_spec
from vpnconn.errors import SettingsError
from vpnconn.spec import Provenance

SHOWN_HEADERS = ("content-type", "x-auth-token", "authorization", "x-sdk-date", "x-project-id")
EXAMPLES_SHOWN = 2  # cases printed per group on the terminal (failures.json has all of them)
GROUPS_SHOWN = 25  # groups listed per verdict on the terminal
HEADINGS = {
    VIOLATION: "VIOLATIONS: documented behaviour the target breaks",
    DIVERGENCE: "DIVERGENCES: the target chose differently where the documentation leaves it open (inferred constraints)",
    NOT_JUDGED: "NOT JUDGED: answers that were not the target's (a proxy's refusal), counted by no verdict",
}
SEVERITIES = (VIOLATION, DIVERGENCE, NOT_JUDGED)

Group = tuple[str, str]  # (check, cause)


def curl(record: CaseRecord, secrets: list[str]) -> str:
    """A curl command that replays the request once the masked credentials are put back."""
    parts = ["curl", "-i", "-X", record.method, shlex.quote(record.url)]
    for key, value in mask_headers(record.request_headers).items():
        if key.lower() in SHOWN_HEADERS:
            parts += ["-H", shlex.quote(f"{key}: {value}")]
    if record.request_body is not None:
        parts += ["--data-raw", shlex.quote(mask_text(record.request_body, secrets))]
    return " ".join(parts)


def failure_groups(result: RunResult, severity: str) -> dict[Group, list[tuple[CaseRecord, Failure]]]:
    """(check, cause) -> the failing cases of that severity, smallest request first."""
    groups: dict[Group, list[tuple[CaseRecord, Failure]]] = defaultdict(list)
    for record in result.records:
        for failure in record.failures:
            if failure.severity == severity:
                groups[(failure.check, failure.group)].append((record, failure))
    for members in groups.values():
        members.sort(key=lambda m: len(m[0].request_body or ""))
    return dict(sorted(groups.items()))


def _provenance(failure: Failure) -> Provenance:
    """The failure's provenance; a check that names none holds the target to the spec's documented default."""
    return failure.provenance or check_provenance(failure.check)


def _provenance_line(failure: Failure) -> str:
    return _provenance(failure).label()


def _section(result: RunResult, severity: str, first: int) -> list[str]:
    secrets = result.settings.secrets
    groups = failure_groups(result, severity)
    if not groups:
        return []
    cases = {id(r) for members in groups.values() for r, _ in members}
    lines = ["", f"{HEADINGS[severity]}: {len(cases)} cases, {len(groups)} causes"]
    for (check, cause), members in list(groups.items())[:GROUPS_SHOWN]:
        lines.append(f"  {check:28} {cause[:60]:60} {len(members):5} cases")
    if len(groups) > GROUPS_SHOWN:
        lines.append(f"  ... and {len(groups) - GROUPS_SHOWN} more causes (all in failures.json with --report)")
    for n, ((check, cause), members) in enumerate(list(groups.items())[:GROUPS_SHOWN], start=first):
        failure = members[0][1]
        lines += ["", f"[{n}] {check}: {failure.title}  (cause: {cause[:100]})", f"    {_provenance_line(failure)[:200]}"]
        for record, example in members[:EXAMPLES_SHOWN]:
            message = " / ".join(line.strip() for line in mask_text(example.message, secrets).splitlines() if line.strip())
            lines += [f"    {message[:400]}",
                      f"    reproduce: {curl(record, secrets)}" if record.request_body is not None
                      else f"    request: {record.method} {record.url}",
                      f"    answer:    {record.status if record.answered else 'none'} {mask_text(record.response_body[:300], secrets)}"]
        if len(members) > EXAMPLES_SHOWN:
            lines.append(f"    (+{len(members) - EXAMPLES_SHOWN} more cases)")
    return lines


def render_summary(result: RunResult, coverage: SpecCoverage | None = None) -> str:
    coverage = coverage or spec_coverage(result.records)
    by_phase: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for r in result.records:
        by_phase[(r.phase, r.mode)][0] += 1
        by_phase[(r.phase, r.mode)][1] += r.judged_failing
    answered = sum(1 for r in result.records if r.answered)
    busy = sum(1 for r in result.records if r.busy)
    lines = [f"{len(result.records)} cases in {result.seconds:.1f} s ({result.rate:.0f} cases/s) against {result.base_url}; "
             f"{answered} answered" + (f", {busy} of them left busy (not judged: target_busy)" if busy else "")]
    for (phase, mode), (n, failed) in sorted(by_phase.items()):
        lines.append(f"  {phase:9} {mode:8} {n:5} cases  {failed:4} with findings")
    first = 1
    for severity in SEVERITIES:
        lines += _section(result, severity, first)
        first += len(failure_groups(result, severity))
    styles = ", ".join(f"{s} {coverage.styles.get(s, 0)}" for s in load_spec().styles)
    lines += ["", "spec coverage:", f"  styles (positive cases)   {styles}",
              f"  enum values               {coverage.enum_values[0]}/{coverage.enum_values[1]} accepted in some case"
              + _not_reached(coverage.enum_values[2]),
              f"  boundaries                {coverage.boundaries[0]}/{coverage.boundaries[1]} hit by an accepted case"
              + _not_reached(coverage.boundaries[2]),
              f"  named rules (x-)          {coverage.rules[0]}/{coverage.rules[1]} broken on purpose"
              + _not_reached(coverage.rules[2], limit=len(coverage.rules[2])),
              "  documented statuses"]
    for operation_id, (seen, unseen) in coverage.statuses.items():
        lines.append(f"    {operation_id:23} seen {', '.join(seen) or 'none'}; not seen {', '.join(unseen) or 'none'}")
    if coverage.undocumented:
        lines.append(f"  undocumented statuses     {', '.join(coverage.undocumented)} (e.g. schemathesis' 405 probes of "
                     f"methods the spec does not declare)")
    for note in result.notes:
        lines.append(f"  note: {note}")
    lines += ["", _verdict_line(result)]
    return "\n".join(lines)


def _not_reached(missing: list[str], limit: int = 6) -> str:
    if not missing:
        return ""
    return f"; not: {', '.join(missing[:limit])}" + (" ..." if len(missing) > limit else "")


def _verdict_line(result: RunResult) -> str:
    v, d, n = len(result.violations), len(result.divergences), len(result.not_judged)
    not_judged = f"; {n} not judged (a proxy refused them: see NOT JUDGED)" if n else ""
    if result.exit_code == 0:
        return ("PASSED: no violation" + (f"; {d} cases diverge where the documentation leaves the choice open "
                                            f"(STRICT=1 / --strict makes them fail)" if d else "") + not_judged)
    return (f"FAILED: {v} cases with violations" + (f", {d} with divergences" if d else "")
            + (" (--strict: divergences count)" if result.settings.strict and not v else "") + not_judged
            + ("; the target stopped answering, and the run stopped sending (see the note)" if result.target_silent else ""))


def _failure_json(record: CaseRecord, failure: Failure, secrets: list[str]) -> dict:
    return {
        "check": failure.check, "cause": failure.group, "title": failure.title, "severity": failure.severity,
        "provenance": _provenance(failure).as_json(),
        "message": mask_text(failure.message, secrets),
    }


def _record_json(record: CaseRecord, secrets: list[str]) -> dict:
    return {
        "phase": record.phase, "mode": record.mode, "labels": record.labels,
        "failures": [_failure_json(record, f, secrets) for f in record.failures],
        "request": {"method": record.method, "url": record.url, "headers": mask_headers(record.request_headers),
                    "body": mask_text(record.request_body, secrets) if record.request_body is not None else None},
        "response": {"status": record.status, "headers": mask_headers(record.response_headers),
                     "body": mask_text(record.response_body, secrets)},
        "curl": curl(record, secrets) if record.request_body is not None else None,
    }


def _write(path: Path, data: bytes) -> None:
    """Write a report file without following a symbolic link planted in its place."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as exc:
        raise SettingsError(f"cannot write the report {path}: {exc.strerror}") from None
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def write_reports(result: RunResult, directory: Path) -> list[Path]:
    """``failures.json`` (every failing case, masked) and ``junit.xml`` (one test case per group; divergences
    are passing test cases with their finding in system-out, failures only with --strict; what was not judged,
    skipped test cases)."""
    check_report_dir(directory)  # (and made)
    secrets = result.settings.secrets
    summary = {"target": result.base_url, "seed": result.settings.seed, "cases": len(result.records),
               "answered": sum(1 for r in result.records if r.answered), "seconds": round(result.seconds, 2),
               "exit_code": result.exit_code, "strict": result.settings.strict,
               "violation_cases": len(result.violations), "divergence_cases": len(result.divergences),
               "not_judged_cases": len(result.not_judged)}
    groups = {severity: [{"check": check, "cause": cause, "cases": len(members)}
                         for (check, cause), members in failure_groups(result, severity).items()]
              for severity in SEVERITIES}
    failures = directory / "failures.json"
    _write(failures, (json.dumps({**summary, "violations": groups[VIOLATION], "divergences": groups[DIVERGENCE],
                                  "not_judged": groups[NOT_JUDGED],
                                  "failures": [_record_json(r, secrets) for r in result.failed]},
                                 indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    suite = ET.Element("testsuite", name="vpnconn-contract", tests=str(len(result.records)),
                       failures=str(len(result.violations) + (len(result.divergences) if result.settings.strict else 0)),
                       skipped=str(len(failure_groups(result, NOT_JUDGED))),
                       time=f"{result.seconds:.3f}")
    for phase, mode in sorted({(r.phase, r.mode) for r in result.records}):
        passed = sum(1 for r in result.records if (r.phase, r.mode) == (phase, mode) and not r.failures)
        ET.SubElement(suite, "testcase", classname=f"contract.{phase}", name=f"{mode} cases ({passed} passed)")
    for severity in SEVERITIES:
        for (check, cause), members in failure_groups(result, severity).items():
            record, failure = members[0]
            case = ET.SubElement(suite, "testcase", classname=f"contract.{severity}.{check}", name=cause)
            text = (f"{severity}; {_provenance_line(failure)}\n{len(members)} cases\n{curl(record, secrets)}\n"
                    f"{record.status} {mask_text(record.response_body[:2000], secrets)}")
            if severity == NOT_JUDGED:
                ET.SubElement(case, "skipped", message=mask_text(failure.message, secrets)[:500]).text = text
            elif severity == VIOLATION or result.settings.strict:
                node = ET.SubElement(case, "failure", message=mask_text(failure.message, secrets)[:500])
                node.text = text
            else:
                ET.SubElement(case, "system-out").text = f"{mask_text(failure.message, secrets)[:500]}\n{text}"
    junit = directory / "junit.xml"
    _write(junit, ET.tostring(suite, encoding="utf-8", xml_declaration=True))
    return [junit, failures]
