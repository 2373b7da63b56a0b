"""A field written null, a list that holds nothing, a field an answer carries at will, both ways (vpnconn/nulls.py,
contract_tests/listing.py, the spec's ``at_will``): a server that writes each field it leaves out as null (as Jackson
and pydantic do by default), reads a request's null as the field left out, writes an empty list where another answer
left it out, or leaves a deprecated field out of its shows, is not reported a violation; a null where a field must be,
or one that hides what was sent, is a violation as before."""

from __future__ import annotations

import copy
import json

import httpx
import pytest
from support import scripted_show, shown

from contract_tests.checks import PHASE1_V1_ONLY, Answer, run_checks
from contract_tests.hooks import acceptable
from contract_tests.listing import WRITTEN_AS_SENT, compare
from contract_tests.records import DIVERGENCE, VIOLATION
from contract_tests.verdicts import body_violations, not_rejected, response_provenance
from reference_server import ReferenceServer
from reference_server.variants import written_as_not_given
from vpnconn import load_spec
from vpnconn.nulls import EMPTY_AS_LEFT_OUT, NULL_AS_LEFT_OUT, has_null_members, left_out
from vpnconn.validation import schema_errors

REQUEST_ID = "9b5bc2d3-0c1e-4a0a-9c41-6a2a8f0a4f11"


def test_a_null_member_is_left_out_at_every_depth_and_a_null_item_kept():
    value = {"a": None, "b": {"c": None, "d": 1}, "e": [None, {"f": None}], "g": []}
    assert left_out(value) == {"b": {"d": 1}, "e": [None, {}], "g": []}
    assert left_out(value, empty_lists=True) == {"b": {"d": 1}, "e": [None, {}]}
    assert has_null_members(value) and not has_null_members(left_out(value))
    assert not has_null_members([None, 1]) and not has_null_members(None)


# ------------------------------------------------------------------------------------------- answers

def created(style: str = "static", edit=lambda connection: None, empty_lists: bool = False) -> tuple[Answer, dict]:
    """The spec's ``style`` request example and the reference server's 201 to it, with each field it leaves out
    written null (with ``empty_lists``: a list field written empty, as the correct-but-different server writes them),
    then edited by ``edit``."""
    sent = copy.deepcopy(load_spec().examples("request")[style])
    answered = ReferenceServer().respond(copy.deepcopy(sent))
    body = written_as_not_given(load_spec(), load_spec().schema("CreateVpnConnectionResponse"),
                                {"vpn_connection": answered, "request_id": REQUEST_ID})
    if not empty_lists:
        body["vpn_connection"].update({k: None for k, v in body["vpn_connection"].items() if v == [] and k not in answered})
    edit(body["vpn_connection"])
    return Answer(201, {"x-request-id": REQUEST_ID}, json.dumps(body).encode()), sent


@pytest.mark.parametrize("style", ["static", "policy", "bgp"])
def test_a_create_answer_that_writes_what_it_leaves_out_as_null_is_a_divergence_only(style):
    answer, sent = created(style)
    nulls = [k for k, v in answer.written["vpn_connection"].items() if v is None]
    assert {"tags", "peer_subnets_v6", "eip_id"} <= set(nulls)  # written null, where the reference server leaves them out
    assert "enable_nqa" in nulls if style != "static" else "policy_rules" in nulls  # fields the style may not carry too
    assert run_checks(answer, sent) == []  # no check of ours reports a field written null
    provenance = response_provenance(201, answer.content)  # how the schema check's finding is judged
    assert provenance == load_spec().check_provenance(NULL_AS_LEFT_OUT) and not provenance.documented


@pytest.mark.parametrize("style", ["static", "policy", "bgp"])
def test_a_create_answer_that_writes_a_list_it_leaves_out_empty_is_a_divergence_only(style):
    answer, sent = created(style, empty_lists=True)
    written = answer.written["vpn_connection"]
    assert written["tags"] == written["peer_subnets_v6"] == [] and written["eip_id"] is None
    findings = [(f.check, f.rule, f.severity) for f in run_checks(answer, sent)]
    provenance = response_provenance(201, answer.content)
    if style == "policy":  # its lists are its own: only the nulls (enable_nqa) are another style's
        assert findings == [] and provenance == load_spec().check_provenance(NULL_AS_LEFT_OUT)
    else:  # policy_rules: [] for a static or BGP connection
        assert written["policy_rules"] == [] and findings == [("fields_present_per_style", EMPTY_AS_LEFT_OUT, DIVERGENCE)]
        assert not provenance.documented and {load_spec().check_provenance(name).why for name in (
            NULL_AS_LEFT_OUT, EMPTY_AS_LEFT_OUT)} == set(provenance.why.split(" / "))


@pytest.mark.parametrize("ike, edit, finding", [
    ("v2", lambda c: None, None),
    ("v2", lambda c: c["ikepolicy"].update(phase1_negotiation_mode="main"), (PHASE1_V1_ONLY, DIVERGENCE)),  # its default
    ("v2", lambda c: c["ikepolicy"].update(phase1_negotiation_mode="main", dh_group="group14"), ("", VIOLATION)),
    ("v1", lambda c: None, None),
    ("v1", lambda c: c["ikepolicy"].update(phase1_negotiation_mode="aggressive"), ("", VIOLATION)),  # not the default
], ids=["v2 without it", "v2 with main", "v2 with main and another default off", "v1 with main", "v1 with aggressive"])
def test_the_phase1_mode_in_an_ike_v2_answer_is_a_divergence_alone(ike, edit, finding):
    """The examples leave phase1_negotiation_mode out of IKE v2 answers; no page says that an answer does."""
    def answered(connection):
        connection["ikepolicy"].pop("phase1_negotiation_mode", None)
        if ike == "v1":
            connection["ikepolicy"].update(ike_version="v1", phase1_negotiation_mode="main")
        edit(connection)

    answer, sent = created(edit=answered)
    if ike == "v1":
        sent["vpn_connection"]["ikepolicy"] = {"ike_version": "v1"}
    findings = [(f.rule, f.severity) for f in run_checks(answer, sent, only=("documented_defaults",))]
    assert findings == ([finding] if finding else [])


def test_a_list_that_holds_something_where_another_style_has_it_is_a_violation():
    rules = [{"rule_index": 1, "source": "10.0.0.0/24", "destination": ["192.168.44.0/24"]}]
    answer, sent = created("static", edit=lambda c: c.update(policy_rules=rules), empty_lists=True)
    [failure] = run_checks(answer, sent, only=("fields_present_per_style",))
    assert failure.severity == VIOLATION and "not allowed ['policy_rules']" in failure.message
    assert response_provenance(201, answer.content).documented


def test_nulls_beside_a_field_no_source_lists_give_both_whys():
    answer, _ = created(edit=lambda c: c.update(added_later=True))
    provenance = response_provenance(201, answer.content)
    assert not provenance.documented
    assert "none mentions JSON null" in provenance.why and "none says that an answer carries no other field" in provenance.why


def test_a_null_where_a_field_must_be_is_a_violation():
    answer, sent = created(edit=lambda c: c.update(name=None))
    assert response_provenance(201, answer.content).documented  # the answer always carries the name
    sent["vpn_connection"]["name"] = "vpn-named"
    [failure] = run_checks(answer, sent, only=("response_echoes_request",))
    assert failure.severity == VIOLATION and 'name: sent "vpn-named", got null' in failure.message


def test_a_null_that_hides_what_was_sent_is_a_violation():
    def tagged(connection):
        connection["tags"] = None

    answer, sent = created(edit=tagged)
    sent["vpn_connection"]["tags"] = [{"key": "team", "value": "net"}]
    [failure] = run_checks(answer, sent, only=("response_echoes_request",))
    assert failure.severity == VIOLATION and failure.message.startswith("the answer does not echo the request: tags: sent")


def test_a_request_that_a_server_should_have_refused_does_not_break_the_echo_check():
    """A target that takes a dpd that is not an object, or an ikepolicy written null: the check says what came back."""
    answer, sent = created()
    sent["vpn_connection"]["ikepolicy"] = {"dpd": 5, "ike_version": "v2"}
    [failure] = run_checks(answer, sent, only=("response_echoes_request", "documented_defaults"))
    assert "ikepolicy.dpd: sent 5, got {" in failure.message
    sent["vpn_connection"]["ikepolicy"] = None  # read as left out: the defaults came back
    assert run_checks(answer, sent, only=("response_echoes_request", "documented_defaults")) == []


def test_a_request_null_taken_is_read_as_left_out_by_the_checks_of_its_answer():
    """A server that reads ``"name": null`` as no name gives an auto name: held to the page's format, not to the null."""
    answer, sent = created()
    sent["vpn_connection"].update(name=None, enable_nqa=None)
    assert run_checks(answer, sent, only=("response_echoes_request", "auto_name_format", "documented_defaults")) == []
    renamed, _ = created(edit=lambda c: c.update(name="conn-1234", enable_nqa=True))
    findings = run_checks(renamed, sent, only=("response_echoes_request", "auto_name_format", "documented_defaults"))
    assert sorted((f.check, f.severity) for f in findings) == [("auto_name_format", VIOLATION), ("documented_defaults", VIOLATION)]


# ------------------------------------------------------------------------------------------- requests

def with_null(field: str, path: tuple[str, ...] = ()) -> dict:
    body = copy.deepcopy(load_spec().examples("request")["static"])
    node = body["vpn_connection"]
    for key in path:
        node = node.setdefault(key, {})
    node[field] = None
    return body


@pytest.mark.parametrize("body, documented", [
    (with_null("tags"), False),
    (with_null("ikepolicy"), False),
    (with_null("timeout", ("ikepolicy", "dpd")), False),
    (with_null("enable_nqa"), False),
    (with_null("peer_subnets"), True),  # read as left out, a gateway that is not ER-attached still needs it
    (with_null("vgw_id"), True),  # a field the request must give
], ids=["tags", "ikepolicy", "ikepolicy.dpd.timeout", "enable_nqa", "peer_subnets", "vgw_id"])
def test_an_accepted_null_is_a_divergence_where_a_correct_server_may_read_it_as_left_out(body, documented):
    labels = sorted({v.rule for v in body_violations(body)})
    assert labels and all(label.endswith(".type") for label in labels)
    failures = not_rejected(labels, "Invalid request accepted", "got 201", body)
    assert [f.provenance.documented for f in failures] == [documented] * len(labels)
    if not documented:
        assert all(f.provenance == load_spec().check_provenance(NULL_AS_LEFT_OUT) for f in failures)
        assert acceptable(body)  # and counted as a create that may be carried out (the create budget, the ledger)


def test_a_null_beside_a_documented_breach_is_no_excuse():
    body = with_null("tags")
    body["vpn_connection"]["ikepolicy"] = {"lifetime_seconds": 5}
    labels = sorted({v.rule for v in body_violations(body)})
    assert labels == ["ikepolicy.lifetime_seconds.minimum", "tags.type"]
    assert all(f.provenance.documented for f in not_rejected(labels, "t", "m", body))
    assert not acceptable(body)


def refused(status: int, code: str) -> Answer:
    body = {"error_code": code, "error_msg": "invalid request", "request_id": REQUEST_ID}
    return Answer(status, {"x-request-id": REQUEST_ID}, json.dumps(body).encode())


@pytest.mark.parametrize("status, code, finding", [
    (400, "VPN.0013", None),  # the unsupported attribute, as the spec gives it
    (400, "VPN.0001", (NULL_AS_LEFT_OUT, DIVERGENCE)),  # the weak psk: the attribute written null read as left out
    (409, "VPN.0001", ("unsupported-attribute: got 409", VIOLATION)),  # neither
])
def test_a_refusal_of_the_body_read_with_its_nulls_left_out_is_a_divergence(status, code, finding):
    """Seed 41017 sent a tag with an unsupported attribute written null ({"key": "4", "value": "", "": null}) and a
    weak psk; the correct-but-different server read the null as left out and refused the psk: 400 VPN.0001."""
    body = copy.deepcopy(load_spec().examples("request")["static"])
    body["vpn_connection"].update(psk="51000005", tags=[{"key": "4", "value": "", "": None}])
    findings = run_checks(refused(status, code), body, only=("error_contract",))
    assert [(f.rule, f.severity) for f in findings] == ([finding] if finding else [])


# ------------------------------------------------------------------------------------------- lists and shows

@pytest.mark.parametrize("sent, got, kind", [
    ([], None, "otherwise"),  # an empty list, left out
    (None, [], "otherwise"),
    ([{"key": "a", "value": ""}], [], "differ"),  # a tag lost
    ([{"key": "a", "value": ""}], None, "differ"),
])
def test_a_list_that_holds_nothing_is_the_same_written_empty_or_left_out(sent, got, kind):
    before, after = ({} if v is None else {"tags": v} for v in (sent, got))
    assert compare(before, after, ["tags"]) == (([], ["tags"]) if kind == "otherwise" else (["tags"], []))


def showing(connection: dict):
    """A target whose show answers ``connection`` (as it is: fields it leaves out are not there)."""
    def answer(request: httpx.Request) -> httpx.Response:
        body = {"vpn_connection": connection, "request_id": REQUEST_ID}
        return httpx.Response(200, json=body, headers={"X-Request-Id": REQUEST_ID})
    return answer


def show_findings(tmp_path, created_connection: dict, edit) -> list[tuple[str, str, str]]:
    answered = copy.deepcopy(created_connection)
    edit(answered)
    return [(f.check, f.rule, f.severity) for f in scripted_show(tmp_path, created_connection, showing(answered))]


AT_WILL = {"eip_id": "0c464dad-7f31-4a6e-9c84-c22bb0eb0bde", "type": "ROUTE", "route_mode": "static", "enable_health_check": False,
           "connection_monitor_id": "7c0b9a7e-3f2d-4a51-9c7e-1d2e3f4a5b6c"}  # (the zh create table lists the monitor's id)


@pytest.mark.parametrize("edit, findings", [
    (lambda c: None, []),
    (lambda c: [c.pop(k) for k in AT_WILL], []),  # the show leaves out what the create answer carried at will
    (lambda c: c.update(route_mode="bgp"), [("show_matches_create", "", VIOLATION)]),  # both carry it: they must agree
    (lambda c: c.update(tags=[]), [("show_matches_create", WRITTEN_AS_SENT, DIVERGENCE)]),  # none, written empty
    (lambda c: c.update(tags=None, connection_monitor_id=None), [("lifecycle_response_schema", "", DIVERGENCE)]),
    (lambda c: c.update(peer_subnets=None), [("lifecycle_response_schema", "", DIVERGENCE),
                                             ("show_matches_create", "", VIOLATION)]),  # a null that lost the subnets
    (lambda c: c.pop("name"), [("lifecycle_response_schema", "", VIOLATION)]),
], ids=["as created", "at-will fields left out", "an at-will field changed", "no tags written empty",
        "fields written null", "subnets written null", "name left out"])
def test_a_show_is_held_to_what_the_create_answer_carried_but_not_to_how_it_wrote_it(tmp_path, edit, findings):
    created_connection = {**shown("ACTIVE").json()["vpn_connection"], **AT_WILL}
    created_connection.pop("tags", None)
    assert show_findings(tmp_path, created_connection, edit) == findings


@pytest.mark.parametrize("style, findings", [
    ("POLICY", []),  # the create page's POLICY example answers a tunnel pair, the tables give it for STATIC and BGP
    ("STATIC", [("show_matches_create", "", VIOLATION)]),  # a static connection's pair is documented: the show must keep it
])
def test_a_policy_connections_tunnel_pair_is_each_answers_own(tmp_path, style, findings):
    created_connection = {**shown("ACTIVE").json()["vpn_connection"], "style": style}
    assert {"tunnel_local_address", "tunnel_peer_address"} <= created_connection.keys()
    if style == "POLICY":
        created_connection.pop("enable_nqa", None)
        created_connection["policy_rules"] = [{"rule_index": 1, "source": "10.0.0.0/24", "destination": ["192.168.44.0/24"]}]

    def without_pair(connection):
        connection.pop("tunnel_local_address")
        connection.pop("tunnel_peer_address")

    assert show_findings(tmp_path, created_connection, without_pair) == findings


def test_a_create_answer_may_carry_the_connection_monitor_id_the_zh_create_table_lists():
    """huaweicloudsdkvpn's create model has no connection_monitor_id (its show and update models have), the create
    page's response table lists it: a create answer that carries it breaks nothing; status stays refused."""
    spec = load_spec()
    create = spec.operation_by_id("CreateVpnConnection")
    connection = {**ReferenceServer().respond(copy.deepcopy(spec.examples("request")["static"])),
                  "connection_monitor_id": AT_WILL["connection_monitor_id"]}
    answer = {"vpn_connection": connection, "request_id": REQUEST_ID}
    assert schema_errors(create.response_schema(201), answer) == []
    assert schema_errors(create.response_schema(201), {**answer, "vpn_connection": {**connection, "status": "ACTIVE"}})


def test_the_spec_names_the_fields_an_answer_carries_at_will():
    assert load_spec().at_will("STATIC") == load_spec().at_will("bgp") == frozenset(AT_WILL)
    assert load_spec().at_will("POLICY") == frozenset(AT_WILL) | {"tunnel_local_address", "tunnel_peer_address"}
