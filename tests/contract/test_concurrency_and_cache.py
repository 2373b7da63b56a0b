"""Speed never changes a verdict: the same seed sends the same requests and reaches the same findings at one
request in flight and at eight, and a cached plan is exactly the plan a fresh run generates. A plan is keyed
by everything it depends on, so a changed spec or option never reuses a stale one, and it never holds the
run's token."""

from __future__ import annotations

import copy
import pickle
import re
from dataclasses import replace

import pytest
from support import QUICK, drawn, patterns_of, run_against

from contract_tests import case_cache, case_plan, runner
from contract_tests.case_plan import Plan, fuzzing_parts, generate, plan_key
from contract_tests.engine_phases import plan_for
from contract_tests.records import VIOLATION
from contract_tests.settings import RunSettings
from reference_server.faults import FAULTS

SEED = 7  # named: the seed of the plan-level tests
# what the server makes up: connection ids, and the times that list markers carry
ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d{4}-\d\d-\d\dT[0-9%A:.]+Z")


@pytest.fixture(scope="module")
def _planned() -> list:
    return generate(RunSettings(seed=SEED, examples=10, token="tok"), ("examples", "coverage"))


@pytest.fixture
def planned(_planned) -> list:
    """The examples and coverage cases of seed SEED with a token (generated once; each test gets a copy)."""
    return copy.deepcopy(_planned)


def _sent_and_judged(result) -> list[tuple]:
    """What a run sent, in order, and what it found: what the server made up masked, answers' bodies left out."""
    return [_sent_and_judged_one(r) for r in result.records]


def _sent_and_judged_one(r) -> tuple:
    return (r.phase, r.mode, r.method, ID.sub("<id>", r.url.split("://", 1)[-1].split("/", 1)[-1]),
            ID.sub("<id>", r.request_body or ""), r.status, sorted((f.check, f.severity) for f in r.failures))


def _first_difference(one, eight) -> str:
    """Where two runs differ, with what each was answered (for the message of a failing comparison)."""
    for n, (a, b) in enumerate(zip(one.records, eight.records, strict=False)):
        if _sent_and_judged_one(a) != _sent_and_judged_one(b):
            return (f"record {n}: at 1 {a.status} {a.response_headers} {a.response_body[:400]!r} "
                    f"{[f.message[:200] for f in a.failures]}; at 8 {b.status} {b.response_headers} "
                    f"{b.response_body[:400]!r} {[f.message[:200] for f in b.failures]}")
    return f"{len(one.records)} records at 1, {len(eight.records)} at 8"


@pytest.mark.parametrize("target, options", [
    ((), {}),  # the reference server, every phase
    (("--fault", "conflict-409-for-schema-violations"), {"phases": ("examples", "coverage", "rules")}),
    (("--fault", "list-ignores-marker"), {"phases": ("lifecycle",)}),
    (("--variant", "other-choices"), {"phases": ("examples", "coverage", "fuzzing", "rules")}),
], ids=["reference", "create-fault", "lifecycle-fault", "correct-but-different"])
def test_one_and_eight_requests_in_flight_send_the_same_cases_and_reach_the_same_verdicts(target, options):
    one = run_against(target, concurrency=1, **options)
    eight = run_against(target, concurrency=8, **options)
    assert _sent_and_judged(one) == _sent_and_judged(eight), _first_difference(one, eight)
    assert one.exit_code == eight.exit_code == (0 if target[:1] != ("--fault",) else 1)


@pytest.mark.parametrize("name", ["ignores-credentials", "accepts-out-of-range-ike-lifetime", "delete-keeps-connection"])
def test_a_fault_is_caught_one_request_at_a_time_as_it_is_eight_at_a_time(name, monkeypatch):
    """The kill test of every fault runs at the default (8 in flight); these run at 1, each of another kind:
    credentials, a refused-value check, a lifecycle step."""
    monkeypatch.setattr(runner, "GONE_WAIT", 2.0)  # (what delete-keeps-connection keeps is waited for that long, not 60 s)
    phases = ("lifecycle",) if name == "delete-keeps-connection" else ("examples", "coverage", "rules")
    result = run_against(("--fault", name), concurrency=1, phases=phases)
    reported = {f.check for r in result.failed for f in r.failures if f.severity == VIOLATION}
    assert result.exit_code == 1 and set(FAULTS[name].caught_by) & reported


def test_a_plan_is_the_same_each_time_it_is_generated():
    settings = RunSettings(seed=SEED, examples=10)
    first, again = generate(settings, ("examples", "fuzzing")), generate(settings, ("examples", "fuzzing"))
    assert len(first) > 10
    assert [(c.phase, c.method, c.headers, c.query, c.body) for c in first] == \
           [(c.phase, c.method, c.headers, c.query, c.body) for c in again]


def test_the_key_follows_what_the_cases_depend_on_and_nothing_else(monkeypatch):
    base = RunSettings(seed=SEED)
    phases = case_plan.ENGINE_PHASES
    key = plan_key(base, phases)
    for changed in (replace(base, seed=SEED + 1), replace(base, examples=99), replace(base, mode="negative"),
                    replace(base, project_id="f" * 32), replace(base, token="a-token")):
        assert plan_key(changed, phases) != key, changed
    assert plan_key(base, ("examples", "coverage")) != key
    # not the target's address, the token's value, the concurrency or the time limits
    assert plan_key(replace(base, token="one"), phases) == plan_key(replace(base, token="two"), phases)
    assert plan_key(replace(base, concurrency=1, max_time=5, request_timeout=1, target="http://127.0.0.1:9"), phases) == key

    class EditedSpec:
        sha256 = "0" * 64

    monkeypatch.setattr(case_plan, "load_spec", lambda: EditedSpec())
    assert plan_key(base, phases) != key  # an edited spec is another key: its stale plan is never read


def test_a_change_to_the_code_that_draws_is_another_key(tmp_path, monkeypatch):
    """What hypothesis draws depends on the state of the drawing process, even on which modules it has imported:
    an edit to any module of the harness or the core is another key, so a plan drawn by other code is not read."""
    assert {"case_plan.py", "plan_worker.py", "regex_memo.py", "regex_groups.py", "format_probes.py", "engine_phases.py", "spec.py",
            "validation.py"} <= {p.name for p in case_plan.PLANNER_SOURCES}
    base, phases = RunSettings(seed=SEED), case_plan.ENGINE_PHASES
    module = tmp_path / "a_module.py"
    module.write_text("X = 1\n")
    monkeypatch.setattr(case_plan, "PLANNER_SOURCES", (*case_plan.PLANNER_SOURCES, module))
    key = plan_key(base, phases)
    assert plan_key(base, phases) == key
    module.write_text("X = 2\n")
    assert plan_key(base, phases) != key


def test_the_cache_never_returns_a_stale_or_broken_plan(tmp_path):
    plan = Plan("key-a", [])
    assert case_cache.store(plan, tmp_path) == tmp_path / "key-a.pickle"
    assert case_cache.load("key-a", tmp_path).key == "key-a"
    assert case_cache.load("key-b", tmp_path) is None  # another key: nothing
    (tmp_path / "key-b.pickle").write_bytes((tmp_path / "key-a.pickle").read_bytes())
    assert case_cache.load("key-b", tmp_path) is None  # a file under the wrong name is not trusted
    (tmp_path / "key-a.pickle").write_bytes(b"\x80\x05truncated")
    assert case_cache.load("key-a", tmp_path) is None
    (tmp_path / "key-a.pickle").write_bytes(pickle.dumps({"format": -1, "plan": plan}))
    assert case_cache.load("key-a", tmp_path) is None


def test_a_repeat_run_reads_the_plan_and_no_cache_neither_reads_nor_writes(tmp_path, monkeypatch):
    monkeypatch.setattr(case_cache, "CACHE_DIR", tmp_path / "plans")
    monkeypatch.setattr(case_cache.load, "__defaults__", (tmp_path / "plans",))
    monkeypatch.setattr(case_cache.store, "__defaults__", (tmp_path / "plans",))
    settings, lines = RunSettings(seed=SEED, examples=5, token="secret-token-4242"), []
    fresh = plan_for(replace(settings, use_cache=False), ("examples",), lines.append)
    assert not (tmp_path / "plans").exists() and "generated" in lines[-1]
    made = plan_for(settings, ("examples",), lines.append)
    assert "kept in the case cache" in lines[-1]
    again = plan_for(settings, ("examples",), lines.append)
    assert "read from the case cache" in lines[-1]
    assert [c.body for c in again.cases] == [c.body for c in made.cases] == [c.body for c in fresh.cases]
    stored = next((tmp_path / "plans").iterdir()).read_bytes()
    assert b"secret-token-4242" not in stored and case_plan.TOKEN_PLACEHOLDER.encode() in stored


def test_the_token_is_put_in_at_send_time():
    headers = {"X-Auth-Token": case_plan.TOKEN_PLACEHOLDER, "Accept": "*/*"}
    assert case_plan.with_credentials(headers, "tok") == {"X-Auth-Token": "tok", "Accept": "*/*"}
    assert case_plan.with_credentials(headers, None) == {"Accept": "*/*"}


def test_a_token_goes_alone_without_the_authorization_header_schemathesis_fills_in(planned):
    # schemathesis gives most cases an Authorization header (the spec's other scheme, AK/SK), often empty
    plan = planned
    assert sum("Authorization" in c.headers for c in plan) > len(plan) // 2
    operation = case_plan.create_operation("http://127.0.0.1:9", RunSettings(seed=SEED))
    sent = [dict(c.to_case(operation, "tok").headers) for c in plan]
    assert not [h for h in sent if any(name.lower() == "authorization" for name in h)]
    assert all(h.get("X-Auth-Token") == "tok" for h in sent if "X-Auth-Token" in h)
    # without a token the headers go as generated (a run without credentials tests a mock)
    headers = {"X-Auth-Token": case_plan.TOKEN_PLACEHOLDER, "authorization": ""}
    assert case_plan.with_credentials(headers, None) == {"authorization": ""}
    assert case_plan.with_credentials(headers, "tok") == {"X-Auth-Token": "tok"}


def test_the_create_budget_holds_with_eight_requests_in_flight():
    result = run_against(concurrency=8, max_creates=5, phases=("examples", "coverage", "fuzzing", "rules"),
                         **{k: v for k, v in QUICK.items() if k != "seed"})
    answered_201 = sum(1 for r in result.records if r.status == 201)
    assert answered_201 <= 5 and any("MAX_CREATES (5) was reached" in note for note in result.notes)


def test_a_planned_negative_case_carries_what_the_spec_refuses_in_its_body_and_the_send_uses_it(planned):
    from contract_tests import verdicts

    cases = planned
    negative = [c for c in cases if not c.positive and c.has_body and isinstance(c.body, dict)]
    assert negative and all(c.judged is None for c in cases if c.positive)
    judged = [c for c in negative if c.judged is not None and c.judged[1]]
    assert len(judged) > len(negative) // 2
    for case in judged[:20]:  # worked out at generation: what a fresh look at the body says
        text, violations = case.judged
        verdicts._KNOWN.clear()
        assert verdicts.body_violations(case.body) == violations
    # sending a case hands its judgement to the checks: a made-up one stands in for it until the body changes
    case = judged[0]
    made_up = (replace(case.judged[1][0], rule="made-up.rule"),)
    case.judged = (case.judged[0], made_up)
    sent = case.to_case(case_plan.create_operation("http://127.0.0.1:9", RunSettings(seed=SEED)), "tok")
    assert verdicts.body_violations(sent.body) == made_up
    sent.body["vpn_connection"] = {}
    assert verdicts.body_violations(sent.body) != made_up


def test_sending_judges_only_the_headers_again_and_leaves_the_plan_as_generated(planned):
    from schemathesis.core.parameters import ParameterLocation

    from contract_tests.hooks import is_positive

    cases = planned
    operation = case_plan.create_operation("http://127.0.0.1:9", RunSettings(seed=SEED))
    generated = [(c.meta.generation.mode, dict(c.meta.components)) for c in cases]
    sent = [is_positive(c.to_case(operation, "tok")) for c in cases]
    # the token put in makes schemathesis judge the headers again: an unexpected header it generated as a
    # negative case is not refused by OpenAPI, so the case as sent is positive
    assert any(mode != case.positive for mode, case in zip(sent, cases, strict=True))
    # ... and the plan (which the cache keeps) still holds what was generated
    assert [(c.meta.generation.mode, dict(c.meta.components)) for c in cases] == generated
    assert [is_positive(c.to_case(operation, "tok")) for c in cases] == sent
    # hashes another process wrote into the metadata (Python salts them per process) change nothing: a case
    # whose body was generated negative stays negative even when every container looks edited
    case = next(c for c in cases if c.has_body and c.meta.is_negative_at(ParameterLocation.BODY))
    valid = next(c for c in cases if c.positive)
    case.body, case.judged = copy.deepcopy(valid.body), None  # a body the spec accepts, labelled negative
    for location in case.meta.components:
        case.meta._initial_hashes[location] = case.meta._last_validated_hashes[location] = 12345
    assert is_positive(case.to_case(operation, "tok")) is False


def test_the_examples_and_coverage_are_handed_out_before_the_run_waits_for_the_fuzzing_cases(monkeypatch):
    from contract_tests import engine_phases

    events: list[str] = []
    result = engine_phases.FuzzingPlanner.result

    def waited(self, halted):
        events.append("waits for the fuzzing cases")
        return result(self, halted)

    monkeypatch.setattr(engine_phases.FuzzingPlanner, "result", waited)
    lines: list[str] = []
    settings = RunSettings(seed=SEED, examples=5, use_cache=False)
    for phase, cases in engine_phases.planned_phases(settings, ("examples", "coverage", "fuzzing"), lines.append):
        events.append(f"{phase} handed out ({len(cases)} cases)")
    assert [e.split(" (")[0] for e in events] == ["examples handed out", "coverage handed out",
                                                  "waits for the fuzzing cases", "fuzzing handed out"]
    assert all(not e.endswith("(0 cases)") for e in events if "handed out" in e)
    assert "sent while the fuzzing cases are generated in 2 other processes" in lines[0]
    assert "cases generated" in lines[-1]


PLAN_DIGEST = """
import json, sys
sys.path.insert(0, "tests")
from support import drawn
from contract_tests import case_plan, format_probes, regex_memo
from contract_tests.settings import RunSettings
if sys.argv[1] == "plain":
    regex_memo.install = format_probes.install = lambda: False  # schemathesis and hypothesis as they are
cases = case_plan.generate(RunSettings(seed=int(sys.argv[2]), examples=15), ("coverage", "fuzzing"))
from schemathesis.specs.openapi.coverage import _schema
print(json.dumps({"cases": len(cases), "shared": len(regex_memo._built), "ipv4_probed": "ipv4" in _schema._FORMAT_PROBES,
                  "digest": drawn(cases)}))
"""


def test_the_generation_shortcuts_draw_the_same_cases():
    """Sharing built regex strategies and probing IPv4 patterns change how fast the cases are drawn, never which.
    Each in a fresh process (hypothesis' own caches would otherwise carry over from one to the other)."""
    import json
    import subprocess
    import sys

    from vpnconn.spec import REPO_ROOT

    runs = {how: subprocess.Popen([sys.executable, "-c", PLAN_DIGEST, how, str(SEED)], cwd=REPO_ROOT,
                                  stdout=subprocess.PIPE, text=True) for how in ("plain", "shortcuts")}
    out = {how: json.loads(proc.communicate(timeout=300)[0].strip().splitlines()[-1]) for how, proc in runs.items()}
    assert out["plain"]["shared"] == 0 and out["shortcuts"]["shared"] > 0  # the second built its strategies once
    assert not out["plain"]["ipv4_probed"] and out["shortcuts"]["ipv4_probed"]
    assert out["plain"]["cases"] > 100
    assert out["plain"]["digest"] == out["shortcuts"]["digest"]


def _shape(items):
    """A parsed regex (the standard library's parser: what both patterns compile from) as nested tuples, each group
    without flags spliced into the sequence around it: a group only groups, so two patterns of the same shape match
    the same strings (the parser splices a non-capturing group so itself)."""
    from re import _constants

    out = []
    for op, value in items:
        if op is _constants.SUBPATTERN and not value[1] and not value[2]:
            out.extend(_shape(value[3]))
        else:
            out.append((str(op), _value(value)))
    return tuple(out)


def _value(value):
    from re import _parser

    if isinstance(value, _parser.SubPattern):
        return _shape(value)
    if isinstance(value, (list, tuple)):
        return tuple(_value(v) for v in value)
    return str(value) if type(value).__name__ == "_NamedIntConstant" else value


def test_the_spec_patterns_drawn_without_groups_match_the_same_strings(spec):
    """Every pattern of the spec, its groups written non-capturing, has the same shape (so the same strings), and no
    group left for hypothesis to keep; a pattern whose groups something reads, or a parenthesis that is no group,
    is left as written."""
    from re import _parser

    from contract_tests.regex_groups import without_groups

    patterns = sorted(set(patterns_of(spec.document)))
    rewritten = [p for p in patterns if without_groups(p) != p]
    assert len(rewritten) >= 4  # the IPv4 and IPv6 address and network patterns, the tunnel address
    for pattern in patterns:
        plain = without_groups(pattern)
        assert re.compile(plain).groups == 0, pattern
        assert _shape(_parser.parse(plain)) == _shape(_parser.parse(pattern)), pattern
    for kept in (r"^(a)\1$", r"^(?P<n>a)(?P=n)$", r"^(a)?(?(1)b|c)$"):
        assert without_groups(kept) == kept
    assert without_groups(r"^[(]\((x|[^)]|[]()])$") == r"^[(]\((?:x|[^)]|[]()])$"
    assert without_groups(r"^(?P<n>a)(b)$") == r"^(?P<n>a)(?:b)$"  # a named group stays one (none in the spec)


def test_strings_drawn_without_groups_match_the_spec_pattern(spec):
    """What hypothesis draws for the spec's IPv4 network pattern, the groups dropped, each matches the pattern (as
    JSON Schema reads it), and hypothesis is handed the pattern without groups."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from contract_tests import regex_groups
    from vpnconn.json_schema import matches

    assert regex_groups.install() and regex_groups.install()  # (once: a second call changes nothing)
    handed: list[int] = []
    original = regex_groups._original

    def watching(regex, fullmatch, **kwargs):
        handed.append(regex.groups)
        return original(regex, fullmatch, **kwargs)

    pattern, drawn_strings = spec.schema("Ipv4Cidr")["pattern"], []
    regex_groups._original = watching
    try:
        @settings(max_examples=60, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
        @given(st.from_regex(pattern, fullmatch=True))
        def draw(text):
            drawn_strings.append(text)

        draw()
    finally:
        regex_groups._original = original
    assert handed and set(handed) == {0}
    assert len(set(drawn_strings)) > 20 and all(matches(pattern, text) for text in drawn_strings)


def test_the_ipv4_probes_spare_only_patterns_that_imply_the_format(spec):
    """The spec's Ipv4Address pattern admits no invalid address, so its invalid-format search is skipped; a looser
    pattern still gets it (an invalid-format value exists for it), as does every other format."""
    from schemathesis.specs.openapi.coverage._schema import _pattern_implies_format

    from contract_tests import format_probes

    assert format_probes.install()
    assert _pattern_implies_format(spec.schema("Ipv4Address")["pattern"], "ipv4")
    for looser in (r"^[0-9.]+$", r"^(\d{1,3}\.){3}\d{1,3}$", r"^([0-9]{1,3}\.){3}[0-9]{1,3}$", r"^(1\.2\.3\.4|1\.2\.3)$"):
        assert not _pattern_implies_format(looser, "ipv4"), looser


OTHER_CALLER = """
import sys
sys.path.insert(0, "tests")
from support import drawn
junk = [str(i) * 7 for i in range(50_000)]  # a process in another state than the test's
from contract_tests.engine_phases import FuzzingPlanner
from contract_tests.settings import RunSettings
planner = FuzzingPlanner(RunSettings(seed=int(sys.argv[1]), examples=10, token="".join(["an", "other-token"]),
                                     request_timeout=3, target="http://127.0.0.1:9"))
cases = planner.result(lambda: False)
planner.stop()
print(drawn(cases))
"""


def test_the_fuzzing_cases_of_a_key_are_the_same_whoever_asks_for_them():
    """schemathesis' fuzzing draws depend on the state of the process drawing them; the planner's worker is
    always the same program given only the plan's inputs, so a test, a run and a script get the same cases."""
    import subprocess
    import sys

    from contract_tests.engine_phases import FuzzingPlanner
    from vpnconn.spec import REPO_ROOT

    other = subprocess.Popen([sys.executable, "-c", OTHER_CALLER, str(SEED)], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    planner = FuzzingPlanner(RunSettings(seed=SEED, examples=10, token="token-one"))
    try:
        cases = planner.result(lambda: False)
        exits = [process.returncode for process in planner.processes]  # (each waited for, its stdin still held)
    finally:
        planner.stop()
    assert exits == [0, 0]  # each ended cleanly once it handed its cases over (not aborted at its exit: -6)
    assert [case.positive for case in cases] == [True] * 5 + [False] * 5  # a part per mode, in order
    assert other.communicate(timeout=300)[0].strip() == drawn(cases)


def test_the_fuzzing_examples_are_shared_by_the_modes_each_drawn_apart():
    """A run of both modes draws its positive and its negative fuzzing cases in a test of its own (in a process
    of its own), the examples shared; a run of one mode draws them all in one. Each part is made from the plan's
    inputs alone: the seed, the project id, the kind of credentials stay."""
    def parts(**options):
        return [(p.effective_mode, p.examples, p.seed, p.token) for p in fuzzing_parts(RunSettings(seed=SEED, **options))]

    placeholder = case_plan.TOKEN_PLACEHOLDER
    assert parts(examples=7, token="tok") == [("positive", 4, SEED, placeholder), ("negative", 3, SEED, placeholder)]
    assert parts(examples=1) == [("positive", 1, SEED, None)]  # no negative part of none
    assert parts(examples=7, mode="negative") == [("negative", 7, SEED, None)]
    assert parts(examples=7, mode="positive") == [("positive", 7, SEED, None)]
    assert case_plan.fuzzing_examples(RunSettings(examples=100)) == "50 positive and 50 negative"


def test_a_fuzzing_worker_that_dies_is_reported_not_waited_for():
    import signal

    from contract_tests.engine_phases import EngineError, FuzzingPlanner

    planner = FuzzingPlanner(RunSettings(seed=SEED, examples=10))
    first, second = planner.processes  # the positive part's, the negative part's
    second.send_signal(signal.SIGKILL)
    try:
        with pytest.raises(EngineError, match=r"the fuzzing planner died \(exit code -9\)"):
            planner.result(lambda: False)
    finally:
        planner.stop()
    assert first.poll() is not None and second.poll() is not None


def test_a_halted_run_stops_the_fuzzing_worker_at_once():
    from contract_tests.case_plan import PlanningStopped
    from contract_tests.engine_phases import FuzzingPlanner

    planner = FuzzingPlanner(RunSettings(seed=SEED, examples=100))
    with pytest.raises(PlanningStopped):
        planner.result(lambda: True)
    planner.stop()
    assert len(planner.processes) == 2 and all(p.poll() is not None for p in planner.processes)  # ended, not left drawing
