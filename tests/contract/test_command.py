"""`vpnconn contract` as users run it: exit codes CI can trust, one clear line for their mistakes, the
loopback safety rule, AK/SK signing, and secrets masked in every output while reproductions still replay."""

from __future__ import annotations

import json
import shlex
import subprocess
from dataclasses import replace

import pytest
import requests
from support import closed_port
from support import contract_command as contract

from contract_tests import RunSettings, run_contract
from contract_tests.report import render_summary, write_reports
from contract_tests.target import embedded_server
from vpnconn.errors import TargetError


def test_an_unreachable_target_is_one_line_and_exit_2():
    result = contract("--target", f"http://127.0.0.1:{closed_port()}")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "unreachable" in result.stderr and "Traceback" not in result.stderr


def test_an_embedded_server_that_cannot_start_says_why(tmp_path):
    server = embedded_server(RunSettings(), ("--world", str(tmp_path / "no-such-world.json")))
    with pytest.raises(TargetError, match="did not start: .*no-such-world.json"):
        with server:
            pass
    server.stop()  # (again: nothing)


def test_an_embedded_server_that_prints_tracebacks_keeps_answering():
    """Its errors go to a file, not to a pipe nobody reads: such a pipe filled after 88 tracebacks of this fault (a
    500 and a traceback for each unknown id shown) and the server stopped answering in the middle of the run."""
    with embedded_server(RunSettings(), ("--fault", "unknown-id-500")) as (url, run_settings):
        with requests.Session() as session:
            statuses = {session.get(f"{url}/v5/{'0' * 32}/vpn-connection/{i:08d}-0000-4000-8000-000000000000",
                                    headers={"X-Auth-Token": run_settings.token}, timeout=5).status_code for i in range(300)}
    assert statuses == {500}


def test_usage_mistakes_are_one_line_and_exit_2():
    for args, words in [(["--target", "ftp://x"], "TARGET must be an http(s) URL"),
                        (["--ak", "A"], "give both AK and SK"),
                        (["--vgw-id", "nope"], "VGW_ID must be a 36-character id"),
                        (["--target", "http://user:pass@127.0.0.1:1"], "must not carry credentials"),
                        (["--target", "http://ALIAS:R\\@127.0.0.1:1"], "backslash"),
                        (["--max-failures", "0"], "MAX_FAILURES"),
                        (["--request-timeout", "0"], "REQUEST_TIMEOUT"),
                        (["--concurrency", "0"], "CONCURRENCY must be between 1 and 64"),
                        (["--cgw-id", "11111111-2222-4333-8444-555555555555,nope"], "CGW_ID must be a 36-character id"),
                        (["--cgw-id", "11111111-2222-4333-8444-555555555555,11111111-2222-4333-8444-555555555555"],
                         "CGW_ID names each customer gateway once")]:
        result = contract(*args)
        assert result.returncode == 2 and words in result.stderr and "Traceback" not in result.stderr


def test_help_explains_each_option():
    out = contract("--help").stdout
    for option in ("--target", "--token", "--ak", "--sk", "--vgw-id", "--mode", "--examples", "--seed", "--report",
                   "--allow-create", "--strict", "--max-failures", "--request-timeout", "--max-time", "divergence",
                   "--concurrency", "--no-cache", ".vpnconn-cache/plans", "exit status", "130", "143"):
        assert option in out


def test_a_non_loopback_target_gets_negative_cases_only(monkeypatch):
    monkeypatch.setattr(RunSettings, "on_loopback", property(lambda self: False))
    settings = RunSettings(examples=20, rate_limit=10_000)  # the rate a remote target gets by default would take a minute
    assert settings.effective_mode == "negative"
    with embedded_server(settings) as (url, run_settings):
        result = run_contract(replace(run_settings, target=url), progress=lambda _: None)
    assert result.records and {r.mode for r in result.records} == {"negative"}
    assert not any(r.status == 201 for r in result.records), "nothing may be created"
    assert "only negative cases are sent" in render_summary(result)


def test_a_negative_only_run_creates_nothing_even_on_a_server_that_accepts_what_is_only_inferred(monkeypatch):
    monkeypatch.setattr(RunSettings, "on_loopback", property(lambda self: False))
    settings = RunSettings(examples=20, rate_limit=10_000)
    with embedded_server(settings, ("--variant", "other-choices")) as (url, run_settings):
        result = run_contract(replace(run_settings, target=url), progress=lambda _: None, live=False)
    assert result.records and not any(r.status == 201 for r in result.records), "nothing may be created"


def test_allow_create_lifts_the_rule():
    assert RunSettings(target="http://198.51.100.7:8080", allow_create=True).effective_mode == "all"
    assert RunSettings(target="http://[::1]:8080").on_loopback and RunSettings(target="http://localhost:1").on_loopback


def test_aksk_signed_run_passes_against_a_verifying_server(tmp_path):
    settings = RunSettings(examples=20, ak="FAKEAK0000", sk="FAKE-SK-not-secret-0000")
    with embedded_server(settings) as (url, run_settings):  # the server verifies signatures with the same pair
        result = run_contract(replace(run_settings, target=url), progress=lambda _: None)
    assert result.exit_code == 0 and any(r.status == 201 for r in result.records)
    for text in [render_summary(result)] + [p.read_text() for p in write_reports(result, tmp_path)]:
        assert "FAKEAK0000" not in text and "FAKE-SK-not-secret-0000" not in text


def test_secrets_are_masked_everywhere_and_the_reproduction_replays(tmp_path):
    token = "tok-SECRET-5f3a9"
    settings = RunSettings(examples=20, token=token)
    with embedded_server(settings, ("--fault", "psk-leaked")) as (url, run_settings):
        result = run_contract(replace(run_settings, target=url), progress=lambda _: None, live=False)
        outputs = [render_summary(result)] + [p.read_text() for p in write_reports(result, tmp_path)]
        for text in outputs:
            assert token not in text
        assert "authentication_algorithm" in outputs[2]  # nothing else is masked
        failure = json.loads(outputs[2])["failures"][0]
        assert "X-Auth-Token: ***" in failure["curl"]
        # the psk is test data the run generated, shown as sent; put the token back and the curl replays
        request = failure["request"]
        assert "***" not in request["body"]
        curl = shlex.split(failure["curl"].replace("X-Auth-Token: ***", f"X-Auth-Token: {token}"))
        replay = subprocess.run([*curl, "-s", "-o", "-", "-w", "\n%{http_code}"], capture_output=True, text=True, timeout=30)
        assert replay.stdout.rstrip().endswith("201") and '"psk"' in replay.stdout
    assert shlex.split(failure["curl"])[0] == "curl"


def test_a_short_token_is_masked_as_a_whole_value_only():
    from contract_tests.masking import mask_headers, mask_text

    assert mask_text('{"style": "STATIC", "t": "t"}', ["t"]) == '{"style": "STATIC", "***": "***"}'
    assert mask_headers({"X-Auth-Token": "t", "Content-Type": "application/json"})["X-Auth-Token"] == "***"
    assert mask_text("token abc-123 in abc-1234", ["abc-123"]) == "token *** in abc-1234"


def test_a_default_run_prints_progress_summary_and_coverage():
    result = contract("--examples", "20", timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    for words in ("coverage", "fuzzing", "rules", "lifecycle", "PASSED", "spec coverage:", "styles (positive cases)",
                  "enum values", "boundaries", "named rules (x-)", "documented statuses"):
        assert words in result.stdout


def test_progress_rewrites_one_line_on_a_terminal_and_prints_plain_lines_elsewhere():
    import io
    import time as clock

    from contract_tests.progress import Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen, lines = Terminal(), []
    with Progress(lines.append, stream=screen) as progress:
        progress.count(42)
        clock.sleep(1.3)
    assert "\r\x1b[K  ... 42 cases sent" in screen.getvalue() and lines == []
    plain = io.StringIO()
    with Progress(lines.append, stream=plain) as progress:
        progress.count(3)
    assert plain.getvalue() == "" and progress.line().startswith("  ... 3 cases sent")


def test_max_failures_stops_sending_after_that_many_failing_cases():
    from support import run_against

    create_phases = ("examples", "coverage", "fuzzing", "rules")  # as test_faults runs a fault of create: shared
    result = run_against(("--fault", "dpd-timeout-default-10"), mode="positive", max_failures=3, phases=create_phases)
    unlimited = run_against(("--fault", "dpd-timeout-default-10"), mode="positive", phases=create_phases)
    assert result.exit_code == 1 and len(result.records) < len(unlimited.records)
    assert len(result.failed) < len(unlimited.failed)
