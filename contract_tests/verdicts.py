"""Violation or divergence: the provenance of what a finding holds the target to.

A finding is a *violation* when what it expects is documented, and a *divergence* when it rests only on an
inference (the documentation leaves the choice open). These helpers read the provenance from the spec for
the two things a finding can rest on: the constraints a request breaks, and the status or error code the
spec gives for that kind of failure.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from contract_tests import answer_json
from contract_tests.error_bodies import OTHER_SHAPE, error_code_in, in_error_codes_page_shape
from contract_tests.records import Failure
from vpnconn import load_spec
from vpnconn.constraints import readings_outside
from vpnconn.documented import UNLISTED_FIELDS, also_documented, documented_only, open_answers
from vpnconn.nulls import EMPTY_AS_LEFT_OUT, NULL_AS_LEFT_OUT, has_null_members, left_out
from vpnconn.rules import ADDRESS_CLASSES, addresses_in_unsupported_classes, breaks_address_classes
from vpnconn.spec import Provenance, Spec
from vpnconn.validation import Violation, request_check, schema_errors
from vpnconn.world import OPEN_WORLD

_KNOWN: dict[str, tuple[Violation, ...]] = {}  # a body's canonical JSON text -> its violations
_KNOWN_MAX = 4096


def body_violations(body: Any) -> tuple[Violation, ...]:
    """What the spec (schema and body rules; no world) refuses in a request body; empty for a valid one.
    Remembered per body text: a case's record and the error check ask for the same body."""
    try:
        text = json.dumps(body, sort_keys=True, allow_nan=False)
    except TypeError:  # not a JSON value at all (no body was sent): nothing to judge
        return ()
    except ValueError:  # a JSON value that is not JSON text (NaN, say): judged as it is, not remembered
        return tuple(request_check(load_spec()).violations(body, world=None))
    return _violations_of(text)


def _violations_of(text: str) -> tuple[Violation, ...]:
    found = _KNOWN.get(text)
    if found is None:
        found = tuple(request_check(load_spec()).violations(json.loads(text), world=None))
        remember(text, found)
    return found


def judged(body: Any) -> tuple[str, tuple[Violation, ...]] | None:
    """(canonical text, violations) of a body, for :func:`remember` in another process or run; None when the
    body is not JSON text."""
    try:
        text = json.dumps(body, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError):
        return None
    return text, _violations_of(text)


def remember(text: str, violations: tuple[Violation, ...]) -> None:
    """Keep what :func:`body_violations` says of the body whose canonical text is ``text``. A plan's cases carry
    it, worked out when they were generated, so a run with a cached plan does not work it out again."""
    if len(_KNOWN) >= _KNOWN_MAX:
        _KNOWN.clear()
    _KNOWN[text] = violations


def combined(provenances: Iterable[Provenance]) -> Provenance | None:
    """One provenance for a finding that rests on several: the first documented one if any, else the
    inferences joined. None for an empty list: the finding rests on the spec itself (its default)."""
    inferred = []
    for provenance in provenances:
        if provenance.documented:
            return provenance
        inferred.append(provenance.why or "")
    return Provenance(False, why=" / ".join(dict.fromkeys(inferred))) if inferred else None


def not_rejected(labels: list[str], title: str, message: str, body: Any = None) -> list[Failure]:
    """negative_data_rejection for an accepted body: one failure per constraint it breaks, as none was enforced. A
    constraint that only a field written null breaks, in a body a correct server must accept with its nulls read as
    left out (:func:`_broken_by_nulls`), rests on that reading (``null_as_left_out``), not on the constraint."""
    spec = load_spec()
    by_nulls = _broken_by_nulls(body)
    return [Failure("negative_data_rejection", title, message, label,
                    spec.check_provenance(NULL_AS_LEFT_OUT) if label in by_nulls else
                    spec.provenance_of(label) if label != "headers-or-path" else spec.check_provenance("negative_data_rejection"))
            for label in labels]


def refusals_with_nulls_left_out(body: Any) -> tuple[Violation, ...]:
    """What the spec refuses in ``body`` read with each member written null left out (the named rules of an open
    world's gateway too): what a correct server that reads a null as left out may refuse it for. Empty when ``body``
    holds no null member."""
    if not has_null_members(body):
        return ()
    return tuple(request_check(load_spec()).violations(left_out(body), world=OPEN_WORLD))


def _broken_by_nulls(body: Any) -> frozenset[str]:
    """The constraints ``body`` breaks only by its fields written null, when a correct server must accept it with them
    read as left out (it keeps every documented constraint then, the named rules of an open world's gateway too: a
    null ``peer_subnets`` read as left out still breaks ``peer-subnets-required-unless-er``); else none."""
    if not has_null_members(body):
        return frozenset()
    read = left_out(body)
    if not isinstance(read, dict) or not isinstance(read.get("vpn_connection"), dict) or \
            request_check(documented_only(load_spec())).violations(read, world=OPEN_WORLD):
        return frozenset()
    return frozenset(v.rule for v in body_violations(body)) - {v.rule for v in body_violations(read)}


def _error_part(violation: Violation, part: str) -> Provenance:
    spec = load_spec()
    kind = violation.error_kind
    if kind in spec.errors:
        return spec.error_provenance(kind, part)
    rule = spec.rule(kind)  # a named rule: its error names a kind, or is its own (documented with the rule)
    return spec.error_provenance(rule.error_kind, part) if rule.error_kind else rule.provenance


def error_provenance(violations: Iterable[Violation], part: str) -> Provenance | None:
    """Documented when some broken constraint is documented and so is the ``part`` (status or error_code) of
    the answer the spec gives for it, or when that answer is documented for any refusal of its kind
    (``whenever_refused``: an unlisted attribute, which a target may ignore, but refuses with VPN.0013); else the
    inference(s) it rests on."""
    pairs = []
    spec = load_spec()
    for v in violations:
        constraint = spec.provenance_of(v.rule)
        answer = _error_part(v, part)
        if answer.documented and (constraint.documented or spec.errors.get(v.error_kind, {}).get("whenever_refused")):
            return answer
        pairs.append(constraint if not constraint.documented else answer)
    return combined(pairs)


UNDECLARED_HEADER = "undeclared_header_ignored"  # the spec's name for what a valid case with such a header expects


def undeclared_headers(headers: Any) -> list[str]:
    """The request headers the spec does not declare (neither a credential of its security schemes nor the body's
    Content-Type), lower-cased: schemathesis adds one to a few cases to see whether the server refuses it."""
    names = {str(name).lower() for name in dict(headers or {})}
    return sorted(names - load_spec().credential_header_names - {"content-type"})


ACCOUNT_STATE = "refused_for_account_state"  # the spec's name for a valid request refused for the account's own state


def account_state_refusal(status: int, content: bytes) -> Provenance | None:
    """When a valid request's refusal carries an error code the spec marks ``state: account`` (the account's tag
    policy, a feature it has not enabled, its route table), the provenance that refusal rests on (inferred: the
    run cannot see the account's configuration); None for any other answer."""
    spec = load_spec()
    return spec.check_provenance(ACCOUNT_STATE) if (status, error_code_in(content)) in spec.account_state_refusals else None


NARROWER_READING = "narrower_documented_reading"  # ... for a value one page of the API lists and another does not
ADDRESS_CLASS_WIDER = "address_class_read_wider"  # ... for an address of class D, E or loopback the rule does not refuse


def address_class_answer(status: int, code: str | None) -> bool:
    """Is the answer (its status and error code) the refusal the spec gives for a network of class D, class E or the
    loopback range (rule networks-not-multicast-reserved-or-loopback: 400 VPN.0204, the error codes page's)?"""
    error = load_spec().rule(ADDRESS_CLASSES).error
    return (status, code) == (error["status"], error["error_code"])


def address_class_refusal(status: int, code: str | None, body: Any) -> tuple[Provenance, str] | None:
    """Where ``body`` is refused with that answer (:func:`address_class_answer`) but does not break the rule, and holds
    an IPv4 address or network that a wider reading of the error codes page refuses (in another field, or a network
    that only holds such an address: 0.0.0.0/0), the provenance that refusal rests on (``address_class_read_wider``,
    inferred) and a sentence that names those values; None for any other answer or body."""
    spec = load_spec()
    if not address_class_answer(status, code) or breaks_address_classes(spec, body):
        return None
    held = addresses_in_unsupported_classes(spec, body)
    if not held:
        return None
    return spec.check_provenance(ADDRESS_CLASS_WIDER), (
        f"The body holds {', '.join(held[:3])}: an address of class D, class E or the loopback range, or a network that "
        "holds one, which the error codes page's VPN.0204 refuses read more widely than the spec's rule "
        f"{ADDRESS_CLASSES} (a network's address, in the subnets and policy rules).")


def valid_refusal(status: int, content: bytes, body: Any) -> tuple[Provenance, str] | None:
    """What the refusal of a valid body rests on where the spec cannot hold the target to it, with a sentence for the
    finding: the account's own state (:func:`account_state_refusal`), an address of class D, class E or the loopback
    range read more widely than the spec's rule (:func:`address_class_refusal`), or, refused as a schema violation, a
    value that a page of the API does not list (:func:`narrower_reading`); None: the refusal is the check's to judge."""
    if (state := account_state_refusal(status, content)) is not None:
        return state, "The answer's error code is one the account's own configuration gives (x-vpnconn-errors, state: account)."
    code = error_code_in(content)
    if (wider := address_class_refusal(status, code, body)) is not None:
        return wider
    violation = load_spec().errors["schema-violation"]
    if (status, code) == (violation["status"], violation["error_code"]):
        return narrower_reading(body)
    return None


def narrower_reading(body: Any) -> tuple[Provenance, str] | None:
    """Where a valid body holds a value that a page of the API does not list (the pages disagree, and the spec takes
    the widest reading: ``narrower_readings`` of its provenance table), the provenance a refusal of it rests on
    (``narrower_documented_reading``, inferred) and which page lists fewer; None for any other body. The value is not
    quoted (a psk)."""
    spec = load_spec()
    pages = [f"its {r.constraint.rsplit('.', 1)[0]}: {r.note} ({r.page.title}, {r.page.date})"
             for r in readings_outside(spec, body)]
    if not pages:
        return None
    return spec.check_provenance(NARROWER_READING), f"A page of the API lists fewer values than the spec takes: {'; '.join(pages)}."


def check_provenance(check: str) -> Provenance:
    """The provenance of a schemathesis built-in check's expectation."""
    return load_spec().check_provenance(check)


INFERRED_RESPONSE = ("the answer keeps every documented constraint of the response schema and breaks only ones "
                     "the spec infers (shared with the request, e.g. a policy rule without a destination; or the "
                     "answer's list of fields, when it also carries a field the spec does not list)")


def answer_schema_provenance(schema: str, body: Any, operation_id: str) -> Provenance:
    """The provenance of an answer's failure of its ``schema``: documented if it also fails the documented-only
    schema, read as written, with each member written null left out, and with each written as an empty list left out
    too, in the spec's forms and in those another page documents (a timestamp in whole seconds); else inferred, by the
    first reading the documented-only schema takes (with the spec's own why when all that is wrong is a field the spec
    does not list, a field written null or as an empty list, a value in another page's form, or these together)."""
    spec = load_spec()
    if body is None:
        return spec.check_provenance("response_schema_conformance", operation_id)
    nulls = has_null_members(body)
    readings: list[tuple[Any, list[str]]] = [(body, [])]  # each reading of the answer, and the inferences it rests on
    if nulls:
        readings.append((left_out(body), [NULL_AS_LEFT_OUT]))
    readings.append((left_out(body, empty_lists=True), [NULL_AS_LEFT_OUT] * nulls + [EMPTY_AS_LEFT_OUT]))
    for read, choices in readings:
        forms = _other_forms_needed(spec, schema, read)
        if forms is None:
            continue
        other = spec.answer_forms_also_documented
        inferred = [spec.check_provenance(name) for name in [*choices, *(other[form][1] for form in sorted(forms))]]
        in_form = also_documented(spec, forms) if forms else spec
        if schema_errors(schema, read, in_form):
            inferred.append(spec.check_provenance(UNLISTED_FIELDS) if not schema_errors(schema, read, open_answers(in_form))
                            else Provenance(False, why=INFERRED_RESPONSE))
        return combined(inferred) or Provenance(False, why=INFERRED_RESPONSE)
    return spec.check_provenance("response_schema_conformance", operation_id)


def _other_forms_needed(spec: Spec, schema: str, read: Any) -> frozenset[str] | None:
    """The fewest of the forms other pages document (components of ``Spec.answer_forms_also_documented``: a
    timestamp in whole seconds, a connection of the style POLICY-TEMPLATE) with which ``read`` keeps the documented-only
    ``schema``: none where it keeps it in the spec's own; None where it does not even with all of them."""
    documented = documented_only(spec)
    if not schema_errors(schema, read, documented):
        return frozenset()
    needed = frozenset(spec.answer_forms_also_documented)
    if not needed or schema_errors(schema, read, also_documented(documented, needed)):
        return None
    for name in sorted(needed):  # (each form the answer keeps the schema without)
        if not schema_errors(schema, read, also_documented(documented, needed - {name})):
            needed -= {name}
    return needed


def response_provenance(status: int, content: bytes) -> Provenance:
    """The provenance of a create answer's response-schema failure (see :func:`answer_schema_provenance`); an
    error body in the shape the error codes page documents rests on the examples' shape alone (an inference)."""
    create = load_spec().create
    # read as schemathesis reads it, as UTF-8 text: a body it could not read (a BOM, UTF-16) is no JSON here either
    try:
        body = answer_json.loads(content.decode("utf-8"))
    except ValueError:
        body = None
    if status >= 400 and in_error_codes_page_shape(body):
        return load_spec().check_provenance(OTHER_SHAPE)
    schema = create.response_schema(status) if status == create.success_status else None
    if schema is None or body is None:
        return load_spec().check_provenance("response_schema_conformance")
    return answer_schema_provenance(schema, body, create.id)
