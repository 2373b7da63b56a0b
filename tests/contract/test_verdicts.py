"""Verdicts a user can trust on a server nobody here wrote: a finding against documented behaviour is a
violation, one against an inferred constraint a divergence; a correct server that makes the other choice
where the documentation is silent passes, its differences listed; the error contract holds status and code."""

from __future__ import annotations

import copy
import ipaddress
import json
from dataclasses import replace

import httpx
import pytest
from support import scripted_lifecycle

from contract_tests.checks import (
    AUTO_NAME_HEX,
    IP_ID_ECHOED,
    PHASE1_V1_ONLY,
    REQUEST_ID_EQUAL,
    REQUEST_ID_HEADER,
    UPDATED_EQUAL_ON_CREATE,
    Answer,
    error_contract,
)
from contract_tests.lifecycle_phase import Seen
from contract_tests.listing import WRITTEN_AS_SENT
from contract_tests.records import DIVERGENCE, VIOLATION, Finding
from contract_tests.report import render_summary, write_reports
from contract_tests.rules_phase import RulesPhase
from contract_tests.settings import RunSettings
from contract_tests.verdicts import (
    ADDRESS_CLASS_WIDER,
    INFERRED_RESPONSE,
    NARROWER_READING,
    body_violations,
    narrower_reading,
    valid_refusal,
)
from reference_server.variants import UNLISTED, busy_at_first
from vpnconn import load_spec
from vpnconn.documented import UNLISTED_FIELDS, documented_only
from vpnconn.nulls import EMPTY_AS_LEFT_OUT, NULL_AS_LEFT_OUT
from vpnconn.validation import check_request

CANONICAL = {"vpn_connection": {"vgw_id": "b32d91a4-52c8-4b17-a8df-e907174eb11d", "vgw_ip": "0c464dad-7f31-4a6e-9c84-c22bb0eb0bde",
                                "cgw_id": "5247ae10-93e1-4c6b-b1b2-dd36659a7f5d", "peer_subnets": ["192.168.44.0/24"],
                                "psk": "Fake-Psk-1234"}}


def body(**changes):
    conn = json.loads(json.dumps(CANONICAL["vpn_connection"]))
    conn.update(changes)
    return {"vpn_connection": conn}


def answer(status: int, code: str | None) -> Answer:
    payload = {"error_code": code, "error_msg": "x", "request_id": "r"} if code else {}
    return Answer(status, {"X-Request-Id": "r"}, json.dumps(payload).encode())


def finding(status: int, code: str | None, sent) -> Finding | None:
    try:
        error_contract(answer(status, code), sent)
    except Finding as found:
        return found
    return None


# ------------------------------------------------------------------------------------------ the error contract

@pytest.mark.parametrize("status, code, sent, severity", [
    (409, "VPN.0001", body(psk="short"), "violation"),  # a documented schema violation must get 400
    (400, "VPN.0002", body(psk="short"), "violation"),  # ... and VPN.0001
    (400, "VPN.0001", body(colour="red"), "violation"),  # an unsupported attribute, when refused, must get VPN.0013
    (409, "VPN.0001", body(peer_subnets=["192.168.37.7/24"]), "divergence"),  # only x-cidr-canonical (inferred)
], ids=["409-for-a-schema-violation", "wrong-code", "VPN.0001-for-an-unsupported-attribute", "inferred-rule-only"])
def test_a_wrong_status_or_code_is_reported_with_its_provenance(status, code, sent, severity):
    found = finding(status, code, sent)
    assert found is not None
    assert (found.provenance is not None and not found.provenance.documented) == (severity == "divergence")
    assert "must get 400" in str(found) and f"got {status} {code}" in str(found)


@pytest.mark.parametrize("status, code, sent", [
    (400, "VPN.0001", body(psk="short")),
    (400, "VPN.0013", body(colour="red")),
    (400, "VPN.0001", body(colour="red", psk="short")),  # several failures: naming either is right
    (400, "VPN.0013", body(colour="red", psk="short")),
    (201, None, body(psk="short")),  # acceptance is negative_data_rejection's finding, not this check's
    (429, "VPN.0429", body(psk="short")),  # throttling may come at any time
    (400, "VPN.0001", CANONICAL),  # a valid body: nothing to hold the refusal to here
], ids=["schema", "unsupported", "both-first", "both-last", "accepted", "throttled", "valid-body"])
def test_a_documented_refusal_is_not_reported(status, code, sent):
    assert finding(status, code, sent) is None


# ------------------------------------------------------------------------------------------ documented only

def test_the_documented_only_spec_drops_exactly_the_inferred_constraints(spec):
    """Each fail case breaks one rule of the spec; without the inferred ones, exactly the documented rules remain."""
    relaxed = documented_only(spec)
    for path in sorted((spec.path.parent / "cases" / "fail").glob("*.json")):
        rule = path.stem.split("--")[0]
        if rule.startswith("x-") and spec.rule(rule[2:]).scope == "world":
            continue  # world rules need a world of gateways; not what this test is about
        still = {v.rule for v in check_request(json.loads(path.read_text()), world=None, spec=relaxed)}
        assert (rule in still) == spec.provenance_of(rule).documented, rule


# ------------------------------------------------------------------------------------------ both ways, end to end

def test_a_correct_but_different_server_passes_and_lists_its_divergences(other_choices_run):
    result = other_choices_run
    violations = [(f.check, f.group, f.message[:200]) for r in result.records for f in r.failures if f.severity == VIOLATION]
    assert violations == []
    assert result.exit_code == 0
    causes = {f.group for r in result.divergences for f in r.failures}
    assert {"x-cidr-canonical", "x-tag-keys-unique", "peer_subnets.uniqueItems"} <= causes, causes
    # it accepts a create without a psk, as the English page of 2025-09 lists it (the zh pages require it but for GM)
    assert "x-psk-required-unless-gm" in causes, causes
    # it accepts a rule_index past 50 or given twice: the 2025 pages deprecate it ("do not set"), the 2024 ones bound it
    assert "x-policy-rule-indexes-unique" in causes and "policy_rules[].rule_index.maximum" in causes, causes
    # it accepts a subnet in 214.0.0.0/8, which the 2025 page reserves in some regions only
    assert "x-peer-subnets-not-reserved-in-some-regions" in causes and "x-peer-subnets-not-reserved" not in causes
    # it refuses any IPv4 address of class D, class E or the loopback range, and any network that holds one (0.0.0.0/0),
    # in any field, with the error codes page's VPN.0204: where the spec's rule would take the body, a divergence
    wider = [f for r in result.divergences for f in r.failures
             if f.provenance == load_spec().check_provenance(ADDRESS_CLASS_WIDER)]
    assert wider and all("an address of class D, class E or the loopback range" in f.message for f in wider)
    # it refuses a value that is no IP address with the error codes page's VPN.0203, where the spec gives VPN.0001
    assert "answered_as_invalid-ip-address" in causes, causes
    # it answers an IKE id of type ip that a create gave with its gateway's IP, as the zh pages say
    assert any(f.rule == IP_ID_ECHOED for r in result.divergences for f in r.failures)
    # it stamps a create's updated_at a millisecond after its created_at (a clock read twice), the examples equal
    assert any(f.rule == UPDATED_EQUAL_ON_CREATE for r in result.divergences for f in r.failures)
    # it writes its stamps in whole seconds, as the zh list and show pages give them (beside a field no source lists)
    whole_seconds = load_spec().check_provenance("timestamps_with_milliseconds").why or ""
    stamped = {r.phase for r in result.divergences for f in r.failures if whole_seconds in (f.provenance.why or "")}
    assert {"examples", "lifecycle"} <= stamped, stamped
    # it refuses a psk with `*`, as the zh pages list none (the English page of 2025-09 does): the refusal of a valid
    # body is a divergence, naming the page
    narrower = [f for r in result.divergences for f in r.failures if f.check == "positive_data_acceptance"
                and f.provenance == load_spec().check_provenance(NARROWER_READING)]
    assert narrower and all("its psk: the zh pages list no `*`" in f.message for f in narrower)
    # it ignores an attribute no request schema lists, where the reference server refuses it (VPN.0013)
    assert {"body.additionalProperties", "ikepolicy.additionalProperties"} <= causes, causes
    # it keeps its lists as sets of networks: another order, a duplicate merged, one policy rule per destination
    # numbered by itself, host bits masked
    rewritten = [f for r in result.divergences for f in r.failures if f.rule == WRITTEN_AS_SENT]
    assert {f.check for f in rewritten} == {"response_echoes_request"}, {f.check for f in rewritten}
    assert any("policy_rules" in f.message.split(", written otherwise")[0] for f in rewritten)  # (split, renumbered)
    masked = [r for r in result.divergences if any(f.rule == WRITTEN_AS_SENT for f in r.failures)
              and any(cidr != str(ipaddress.ip_network(cidr, strict=False))
                      for cidr in (json.loads(r.request_body or "{}").get("vpn_connection") or {}).get("peer_subnets") or [])]
    assert masked, "no case sent a subnet with host bits that the server masked"
    # its X-Request-Id is a request id of its own, not the body's: a divergence with the spec's why, wherever both are there
    own_ids = [(r, f) for r in result.divergences for f in r.failures if f.rule == REQUEST_ID_EQUAL]
    assert {f.check for _, f in own_ids} == {"request_id_in_body_and_header"}
    assert {r.phase for r, _ in own_ids} >= {"examples", "coverage", "fuzzing", "rules", "lifecycle"}
    assert {f.provenance.why for _, f in own_ids} == {load_spec().check_provenance(REQUEST_ID_EQUAL).why}
    # and its answers to a show or a list carry none: no page of the API documents its response headers
    no_header = [r for r in result.divergences for f in r.failures if f.rule == REQUEST_ID_HEADER]
    assert no_header and {r.method for r in no_header} == {"GET"} and {r.phase for r in no_header} == {"lifecycle"}
    # it answers enable_hub to a create of any style, as the 2025 create table lists it (its shows: only for BGP)
    assert [r for r in result.records if r.status == 201 and '"STATIC"' in (r.response_body or "")
            and '"enable_hub"' in (r.response_body or "")]
    # and the deprecated fields the OTC create table lists, which its shows, lists and updates leave out (at_will)
    lifecycle = [r for r in result.records if r.phase == "lifecycle" and r.labels]
    assert any('"route_mode": "static"' in (r.response_body or "") for r in lifecycle if r.labels[0].endswith(": create"))
    assert not any('"route_mode": "' in (r.response_body or "") for r in lifecycle if r.labels[0].endswith((": show", ": update")))
    # it ignores what an update may not change, where the reference server refuses it: the other choice
    assert "update_refuses_fixed_fields" in {f.check for r in result.divergences for f in r.failures}
    # it deletes in a while: shows after a delete find the connection PENDING_DELETE, then 404; nothing reported
    after_delete = [r for r in result.records if r.labels and r.labels[0].endswith(": show after delete")]
    assert {r.status for r in after_delete} == {200, 404}
    assert {f.check for r in after_delete for f in r.failures} <= {"integers_without_fraction", "lifecycle_response_schema",
                                                                   "huawei_error_body", "request_id_in_body_and_header"}
    assert all(json.loads(r.response_body)["vpn_connection"]["status"] == "PENDING_DELETE" for r in after_delete if r.status == 200)
    # and a delete of a connection it has deleted answers 204 again (idempotent), where the reference server answers 404
    again = [r for r in result.records if r.labels and r.labels[0].endswith(": delete after delete")]
    assert again and {r.status for r in again} == {204}
    assert all([f.check for f in r.failures if f.severity == DIVERGENCE] == ["delete_again_not_found"] for r in again)
    # it writes integers with a fraction: JSON Schema passes 86400.0, a typed client does not; in every kind of answer
    fractions = [r for r in result.divergences for f in r.failures if f.check == "integers_without_fraction"]
    assert {r.phase for r in fractions} >= {"lifecycle", "rules"}, {r.phase for r in fractions}
    assert any("/ikepolicy/lifetime_seconds is 86400.0" in f.message for r in fractions for f in r.failures)
    # every answer carries a field no source lists: a divergence with the spec's why, in every phase and every
    # operation's answer; the lifecycle goes on with such answers (each style reaches its delete)
    unlisted = [(r, f) for r in result.divergences for f in r.failures if UNLISTED in f.message]
    assert {f.check for _, f in unlisted} == {"response_schema_conformance", "lifecycle_response_schema"}
    # (the general why where an answer also breaks another inference; after the why of the nulls it writes, below, and
    # that of its stamps in whole seconds)
    null_why, empty_why, seconds_why = (load_spec().check_provenance(name).why for name in
                                        (NULL_AS_LEFT_OUT, EMPTY_AS_LEFT_OUT, "timestamps_with_milliseconds"))
    whys = {f.provenance.why.removeprefix(f"{null_why} / ").removeprefix(f"{empty_why} / ").removeprefix(f"{seconds_why} / ")
            for _, f in unlisted}
    assert whys == {load_spec().check_provenance(UNLISTED_FIELDS).why, INFERRED_RESPONSE}, whys
    assert {r.phase for r, _ in unlisted} >= {"examples", "coverage", "fuzzing", "rules", "lifecycle"}
    steps = {r.labels[0].split(": ", 1)[1] for r, _ in unlisted if r.phase == "lifecycle"}
    assert {"create", "show", "list", "update"} <= steps, steps
    # it writes each field an answer leaves out as null (Jackson's and pydantic's default), in every answer: a divergence
    # with the spec's why, and no check of ours reads a null as a field there; it reads a request's null as left out
    nulled = [(r, f) for r in result.divergences for f in r.failures if null_why in f.provenance.why]
    assert {f.check for _, f in nulled} == {"response_schema_conformance", "lifecycle_response_schema", "negative_data_rejection"}
    assert {r.phase for r, _ in nulled} >= {"examples", "coverage", "fuzzing", "rules", "lifecycle"}
    assert {"create", "show", "list", "update"} <= {r.labels[0].split(": ", 1)[1] for r, _ in nulled if r.phase == "lifecycle"}
    assert any('"next_marker": null' in (r.response_body or "") for r, _ in nulled)
    # and each list field it leaves out as an empty list: another style's (policy_rules of a static connection) too
    emptied = [f for r in result.divergences for f in r.failures if f.rule == EMPTY_AS_LEFT_OUT]
    assert emptied and {f.check for f in emptied} == {"fields_present_per_style"}
    assert any(empty_why in f.provenance.why for _, f in nulled)
    accepted = [r for r, f in nulled if f.check == "negative_data_rejection"]
    assert accepted and all(r.status == 201 and ": null" in (r.request_body or "") for r in accepted)
    # it names a connection created without a name vpn- and four letters: the page says vpn-****, the examples are hex
    letters = [f for r in result.divergences for f in r.failures if f.rule == AUTO_NAME_HEX]
    assert letters and {f.check for f in letters} == {"auto_name_format"}
    # it answers phase1_negotiation_mode (its default) for an IKE v2 connection too, where the examples leave it out
    phase1 = [f for r in result.divergences for f in r.failures if f.rule == PHASE1_V1_ONLY]
    assert phase1 and {f.check for f in phase1} == {"documented_defaults"}
    assert len({r.labels[0] for r in after_delete}) == 3  # one per style: every sequence went on to its delete
    # a create and an update take a while, and it refuses an update meanwhile: the lifecycle waited each time
    waits = [r for r in result.records if r.labels and r.labels[0].endswith(": show until settled")]
    assert {json.loads(r.response_body)["vpn_connection"]["status"] for r in waits} == {"PENDING_CREATE", "PENDING_UPDATE", "ACTIVE"}
    updates = [r for r in result.records if r.labels and r.labels[0].endswith(": update")]
    assert len(updates) == 3 and {r.status for r in updates} == {200}
    # it writes the service's errors as the error codes page does ({code, message}): a divergence with the spec's why,
    # and their codes are judged as ever (no error_contract or named_rule_rejection finding above)
    shaped = [(r, f) for r in result.divergences for f in r.failures if f.provenance.why == load_spec().check_provenance(
        "error_body_as_in_the_examples").why]
    assert {f.check for _, f in shaped} == {"huawei_error_body", "response_schema_conformance"}
    assert {json.loads(r.response_body)["code"][:4] for r, _ in shaped} == {"VPN."}
    assert {r.phase for r, _ in shaped} >= {"coverage", "rules", "lifecycle"}
    # it is busy or not ready the first time for some requests (504 VPN.0014, 409 VPN.0016, 400 VPN.0507, VPN.0030 or
    # VPN.0031): each was asked again and judged, none stayed busy
    created = {"project_id": result.settings.project_id, "query": ""}
    asked_again = [r for r in result.records if r.phase != "lifecycle" and r.status == 201
                   and busy_at_first(load_spec().create.id, created, (r.request_body or "").encode())]
    kinds = {busy_at_first(load_spec().create.id, created, (r.request_body or "").encode()) for r in asked_again}
    assert kinds & {"gateway-not-ready", "gateway-being-updated", "service-busy"} and not any(r.busy for r in result.records)
    assert "repeated-operation" in kinds  # (the error codes page: try again later; not judged while it says so)
    # it refuses the header schemathesis adds to a few valid cases, where the reference server ignores it
    refused = [f for r in result.divergences for f in r.failures if f.check == "positive_data_acceptance"
               and f.provenance not in (load_spec().check_provenance(NARROWER_READING),  # (its psk without `*`, its
                                        load_spec().check_provenance(ADDRESS_CLASS_WIDER))]  # address classes: above)
    assert refused and all("x-schemathesis-unknown-property" in f.message for f in refused), refused
    # it refuses schemathesis' own X-Schemathesis-TestCaseId too: the suite sends it with no request, its checks'
    # probes included (else every valid case, and ignored_auth's probes, would be refused: violations)
    sent = {name.lower() for r in result.records for name in r.request_headers}
    assert "x-auth-token" in sent and "x-schemathesis-testcaseid" not in sent
    assert all(not f.provenance.documented for r in result.divergences for f in r.failures)
    summary = render_summary(result)
    assert "DIVERGENCES" in summary and "VIOLATIONS" not in summary and "PASSED" in summary


def test_a_valid_request_refused_is_a_violation_unless_it_carries_an_undeclared_header():
    """Refusing a valid request breaks the documented contract; refusing one that carries a header the spec
    does not declare may be the server's choice about that header, which no source settles."""
    from types import SimpleNamespace

    from contract_tests.engine_phases import _failures
    from contract_tests.verdicts import undeclared_headers

    refused = SimpleNamespace(title="Rejected positive data", message="Expected 2xx, got 400")
    plain = {"X-Auth-Token": "t", "Content-Type": "application/json"}
    extra = {"X-Auth-Token": "t", "x-schemathesis-unknown-property": "42"}
    assert (undeclared_headers(plain), undeclared_headers(extra)) == ([], ["x-schemathesis-unknown-property"])
    [documented] = _failures("positive_data_acceptance", refused, [], None, plain)
    [inferred] = _failures("positive_data_acceptance", refused, [], None, extra)
    assert (documented.severity, inferred.severity) == (VIOLATION, DIVERGENCE)
    assert "RFC 9110" in inferred.provenance.why and "x-schemathesis-unknown-property" in inferred.message


def test_strict_turns_divergences_into_a_failing_verdict(other_choices_run):
    strict = replace(other_choices_run, settings=replace(other_choices_run.settings, strict=True))
    assert strict.exit_code == 1
    assert "FAILED" in render_summary(strict)


def test_reports_keep_divergences_apart_with_their_provenance(other_choices_run, tmp_path):
    junit, failures = write_reports(other_choices_run, tmp_path)
    report = json.loads(failures.read_text())
    assert report["exit_code"] == 0 and report["violations"] == [] and report["divergences"]
    kinds = {f["severity"]: f["provenance"]["kind"] for case in report["failures"] for f in case["failures"]}
    assert kinds == {DIVERGENCE: "inferred"}
    assert all(f["provenance"].get("why") for case in report["failures"] for f in case["failures"])
    assert "<failure" not in junit.read_text()  # divergences do not fail CI unless --strict
    strict = replace(other_choices_run, settings=replace(other_choices_run.settings, strict=True))
    junit, _ = write_reports(strict, tmp_path / "strict")
    assert "<failure" in junit.read_text()


PSK = "XctBrS26"


def _psk_findings(answer: dict, name: str) -> list[str]:
    from contract_tests.checks import run_checks

    sent = {"vpn_connection": {"name": name, "psk": PSK, "peer_subnets": ["192.168.44.0/24"]}}
    return [f.message for f in run_checks(Answer(201, {}, json.dumps(answer).encode()), sent, only=("psk_never_returned",))]


def test_a_name_that_is_the_psk_echoed_is_not_the_psk_returned():
    """A default run with the named seed 41017 sent a create whose name and psk hypothesis both drew as "XctBrS26": the
    correct-but-different server echoed the name, and the check, which looks for the psk's value anywhere in the
    answer's text, found it: 2 violation cases, exit 1, against a correct server. An echo of what the request sent
    in another field is no psk returned; anything else that holds the value still is."""
    echo = {"vpn_connection": {"id": "c-1", "name": PSK}}
    assert _psk_findings(echo, PSK) == []
    assert _psk_findings({"vpn_connection": {"id": "c-1", "name": f"vpn-{PSK}-a"}}, f"vpn-{PSK}-a") == []
    leaked = {"vpn_connection": {"id": "c-1", "name": f"vpn-{PSK}-a", "secret": PSK}}
    assert _psk_findings(leaked, f"vpn-{PSK}-a") == ["the answer contains the psk (it must never be returned)"]
    in_a_message = {"error_code": "VPN.0001", "error_msg": f"weak psk {PSK} for vpn-{PSK}-a"}
    assert _psk_findings(in_a_message, f"vpn-{PSK}-a") != []
    assert _psk_findings({"vpn_connection": {"id": "c-1", "name": "other", "x": PSK}}, "other") != []  # (as before)
    assert _psk_findings({"vpn_connection": {"id": "c-1", "psk": "***"}}, PSK) != []  # (the field, by name)


# ------------------------------------------------------------------------------------------ the pages disagree

def with_connection(**fields) -> dict:
    body = copy.deepcopy(CANONICAL)
    body["vpn_connection"].update(fields)
    return body


@pytest.mark.parametrize("fields, pages", [
    ({"name": "vpn.edge"}, []),  # `.`: every current page lists it (only the 2023 translations did not: superseded)
    ({"name": "分支vpn"}, ["the English pages"]),  # CJK: the zh page of 2026-06 lists them, the English pages do not
    ({"psk": "Fake*Psk-1234"}, ["the zh pages"]),  # `*`: the English page of 2025-09 lists it, the zh pages do not
    ({"name": "vpn-edge_1", "psk": "Fake-Psk-1234"}, []),  # every page lists these
    # an IKE id of type fqdn: the zh pages list it (and their examples give one), the English call it not yet supported
    ({"ikepolicy": {"local_id_type": "fqdn", "local_id": "gw.example.com"}}, ["the English pages call an IKE id"]),
    ({"ikepolicy": {"peer_id_type": "fqdn", "peer_id": "gw.example.com"}}, ["the English pages call an IKE id"]),
    ({"ikepolicy": {"local_id_type": "ip", "peer_id_type": "ip"}}, []),
])
def test_a_valid_value_that_a_page_of_the_api_does_not_list_is_named_with_that_page(fields, pages):
    """Where the API's current pages disagree on a field's values the spec takes the widest reading; a target that
    follows a page that lists fewer may refuse the others (narrower_documented_reading)."""
    body = with_connection(**fields)
    assert body_violations(body) == ()  # valid: the spec's reading is the widest
    found = narrower_reading(body)
    if not pages:
        assert found is None
        return
    provenance, sentence = found
    assert not provenance.documented and provenance == load_spec().check_provenance(NARROWER_READING)
    assert [page for page in pages if page in sentence] == pages
    assert "Fake*Psk" not in sentence  # the value is not quoted (a psk)


def test_a_lifecycle_create_refused_for_such_a_value_is_a_divergence_and_for_another_a_violation(tmp_path):
    """The lifecycle's creates are the spec's examples; the bgp one gives IKE ids of type fqdn, as the zh page's does."""
    refused = json.dumps({"error_code": "VPN.0001", "error_msg": "fqdn not supported", "request_id": "r"}).encode()

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, content=refused, headers={"Content-Type": "application/json", "X-Request-Id": "r"})

    examples = load_spec().examples("request")
    with scripted_lifecycle(answer, tmp_path) as phase:
        found = {}
        for style in ("bgp", "static"):
            seen = Seen(style, copy.deepcopy(examples[style]))
            assert phase._create(seen) is None
            found[style] = [(f.check, f.severity) for f in seen.records[0].failures]
    assert examples["bgp"]["vpn_connection"]["ikepolicy"]["local_id_type"] == "fqdn"
    assert found == {"bgp": [("lifecycle_status", DIVERGENCE)], "static": [("lifecycle_status", VIOLATION)]}


def test_the_rules_phase_probes_a_value_on_a_body_every_page_reads_alike():
    """A dotted name probed on a body with an fqdn IKE id, refused, could be the fqdn's refusal (a divergence): the
    phase starts from bodies within every page's narrower reading, where there are such."""
    examples = load_spec().examples("request")
    with httpx.Client() as client:
        phase = RulesPhase("http://127.0.0.1:9", RunSettings(token="t"), client)
        try:
            assert narrower_reading(examples["bgp"]) is not None  # (its ids are of type fqdn)
            bases = phase._bases([copy.deepcopy(b) for b in examples.values()])
            assert len(bases) == len(examples) - 1 and all(narrower_reading(b) is None for b in bases)
            assert phase._bases([copy.deepcopy(examples["bgp"])]) == [examples["bgp"]]  # (no other: it all the same)
        finally:
            phase.close()


def test_only_a_schema_violations_refusal_of_such_a_value_rests_on_the_narrower_page():
    body = with_connection(psk="Fake*Psk-1234")
    refused = json.dumps({"error_code": "VPN.0001", "error_msg": "invalid psk", "request_id": "r"}).encode()
    assert valid_refusal(400, refused, body) is not None
    assert valid_refusal(400, refused, CANONICAL) is None  # a value every page lists: the check's violation
    conflict = json.dumps({"error_code": "VPN.0016", "error_msg": "not ready", "request_id": "r"}).encode()
    assert valid_refusal(409, conflict, body) is None  # refused otherwise: not the reading's
    assert valid_refusal(500, b"", body) is None
