"""What a run does before judging, and whatever a target does: refused credentials and a wrong URL stop it
with a hint (exit 2); a target that accepts any token is one finding; a target that stops answering ends
in a clear message and exit 2, never a traceback; signals end it with 130/143 and no child left behind."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

from support import contract_command as contract
from support import raw_http_server, run_against

from reference_server import ReferenceServer, running_server

VPNCONN = [sys.executable, "-m", "commands.cli", "contract"]
ERROR = json.dumps({"error_code": "VPN.0001", "error_msg": "invalid request: x", "request_id": "r-1"}).encode()




@contextlib.contextmanager
def scripted_target(answers: int, html: bool = False, then: str = "hang") -> Iterator[str]:
    """A raw HTTP target: the first ``answers`` requests get a Huawei 400 (or an HTML 404); later ones hang, or
    (``then="reset"``) have their connection closed without an answer, as a target that died mid-run, or
    (``then="trickle"``) get a head and then a body a byte every 0.2 s, each byte sooner than any read timeout."""
    served = [0]

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        with conn:
            conn.settimeout(0.2)
            data = b""
            while b"\r\n\r\n" not in data and not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    data += conn.recv(65536) or b""
            served[0] += 1
            if served[0] > answers:
                if then == "hang":
                    stop.wait()  # never answer
                if then == "trickle":
                    with contextlib.suppress(OSError):
                        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
                        while not stop.wait(0.2):
                            conn.sendall(b" ")
                return  # reset: the connection closes with no answer
            status, kind, body = (b"404 Not Found", b"text/html", b"<html>nope</html>") if html else \
                (b"400 Bad Request", b"application/json", ERROR)
            conn.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Type: " + kind + b"\r\nX-Request-Id: r-1\r\n"
                         b"Connection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)

    with raw_http_server(handle) as url:
        yield url


def test_refused_credentials_stop_the_run_with_the_option_to_pass():
    with running_server(ReferenceServer(token="the-right-token-77")) as url:
        result = contract("--target", url)  # no TOKEN
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "refused the credentials" in result.stderr and "TOKEN=" in result.stderr


def test_a_url_that_does_not_serve_this_api_stops_the_run_with_a_hint():
    with scripted_target(answers=5, html=True) as url:
        result = contract("--target", url, env={"VPNCONN_TOKEN": "x"})
    assert result.returncode == 2 and "wrong base URL or project id?" in result.stderr


def test_a_target_that_accepts_any_token_is_one_finding_not_one_per_case():
    result = run_against(("--fault", "ignores-credentials"))
    found = [f for r in result.records for f in r.failures if f.check == "ignored_auth"]
    assert len(found) == 1 and found[0].title == "The target accepts any token"
    assert result.exit_code == 1


def test_a_target_that_hangs_after_the_preflight_ends_in_a_clear_message_and_exit_2():
    with scripted_target(answers=2) as url:
        result = contract("--target", url, "--request-timeout", "1", "--max-time", "20", "--examples", "5",
                          env={"VPNCONN_TOKEN": "x"}, timeout=120)
    assert result.returncode == 2, result.stdout[-1500:] + result.stderr[-1500:]
    assert "too few to judge" in result.stderr and "Traceback" not in result.stderr + result.stdout


def test_a_target_that_trickles_its_answers_ends_in_a_clear_message_and_exit_2():
    """Each byte comes sooner than the read timeout, so only the answer's own deadline ends the wait: in the
    preflight (httpx) and, once the preflight has its answers, in schemathesis' cases (requests)."""
    for answers, where in ((0, "is unreachable: the answer did not arrive whole within 1 s"),
                           (2, "too few to judge; no verdict (last: ReadTimeout: the answer did not arrive whole within 1 s")):
        with scripted_target(answers=answers, then="trickle") as url:
            result = contract("--target", url, "--request-timeout", "1", "--max-time", "20", "--examples", "5",
                              env={"VPNCONN_TOKEN": "x"}, timeout=120)
        assert result.returncode == 2, result.stdout[-1500:] + result.stderr[-1500:]
        assert where in result.stderr and "Traceback" not in result.stderr + result.stdout, result.stderr[-1500:]


def test_a_target_that_dies_after_the_preflight_ends_in_a_clear_message_and_exit_2():
    with scripted_target(answers=2, then="reset") as url:
        result = contract("--target", url, "--examples", "5", env={"VPNCONN_TOKEN": "x"}, timeout=120)
    assert result.returncode == 2, result.stdout[-1500:] + result.stderr[-1500:]
    assert "too few to judge" in result.stderr and "Traceback" not in result.stderr + result.stdout


def test_an_unusable_report_directory_stops_the_run_before_it_starts(tmp_path):
    afile = tmp_path / "a-file"
    afile.write_text("x")
    for report, words in ((afile, "is not a directory"), (afile / "under", "not a directory")):
        result = contract("--report", str(report))
        assert result.returncode == 2 and words in result.stderr and "Traceback" not in result.stderr
        assert "contract run against" not in result.stdout  # refused before any request
    # one that only making it shows unusable: /proc takes no directory, even from root (for whom it looks writable)
    result = contract("--report", "/proc/vpnconn-reports")
    assert result.returncode == 2 and "/proc/vpnconn-reports" in result.stderr and "Traceback" not in result.stderr
    assert "contract run against" not in result.stdout
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "junit.xml").symlink_to(afile)
    result = contract("--report", str(tmp_path / "reports"))
    assert result.returncode == 2 and "symbolic link" in result.stderr and afile.read_text() == "x"


def test_an_unusable_report_directory_starts_no_server(tmp_path, monkeypatch):
    import contract_tests.target
    from commands.cli import main

    started = []
    monkeypatch.setattr(contract_tests.target, "EmbeddedServer", lambda *args: started.append(args))
    (tmp_path / "a-file").write_text("x")
    assert main(["contract", "--report", str(tmp_path / "a-file")]) == 2
    assert started == []


def test_a_broken_spec_is_one_line_and_exit_2(tmp_path, monkeypatch):
    import vpnconn.spec
    from commands.cli import main

    broken = tmp_path / "openapi.yaml"
    broken.write_text(vpnconn.spec.SPEC_PATH.read_text().replace("          scope: body\n", "", 1))
    for path in (tmp_path / "missing.yaml", broken):
        monkeypatch.setattr(vpnconn.spec, "SPEC_PATH", path)
        vpnconn.spec.load_spec.cache_clear()
        try:
            assert main(["contract", "--examples", "1"]) == 2
        finally:
            vpnconn.spec.load_spec.cache_clear()


def _children(pid: int) -> set[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    found = {int(p) for p in out}
    for child in list(found):
        found |= _children(child)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True).stdout.strip()
    return bool(state) and not state.startswith("Z")


def test_signals_end_the_run_with_130_or_143_and_leave_no_child(tmp_path):
    for sig, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
        token = "ps-visible-secret-4242"
        proc = subprocess.Popen([*VPNCONN, "--examples", "200"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env={**os.environ, "VPNCONN_TOKEN": token}, start_new_session=True)
        assert proc.stdout is not None
        line = proc.stdout.readline()  # the run has started: embedded server and fuzzing process are up
        assert "contract run against" in line
        time.sleep(1.0)
        children = _children(proc.pid)
        assert children, "the run has its embedded server and fuzzing process"
        listing = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
        assert token not in listing  # secrets never on a command line
        os.killpg(proc.pid, sig) if sig == signal.SIGINT else proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == code, err[-2000:]
        assert "Traceback" not in err
        time.sleep(0.5)
        assert [p for p in children if _alive(p)] == []


def test_a_run_killed_outright_leaves_no_embedded_server_nor_planner_behind():
    """SIGKILL gives a run no time to stop its children; the embedded server and the fuzzing planners stop when their
    stdin, whose other end the run held, closes. Before, the server served on, orphaned, until the machine restarted,
    and each planner drew on for minutes (``--examples 3000``: 2 planners still drawing 2 minutes after the kill)."""
    proc = subprocess.Popen([*VPNCONN, "--examples", "3000", "--no-cache", "--seed", "4242"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    assert proc.stdout is not None
    assert "contract run against" in proc.stdout.readline()

    def kinds() -> dict[int, str]:
        named = {p: subprocess.run(["ps", "-o", "args=", "-p", str(p)], capture_output=True, text=True).stdout
                 for p in _children(proc.pid)}
        return {p: kind for p, args in named.items() for kind in ("commands.cli serve", "plan_worker") if kind in args}

    deadline = time.monotonic() + 60
    while "plan_worker" not in kinds().values() and time.monotonic() < deadline:  # (drawing the fuzzing cases)
        time.sleep(0.2)
    children = kinds()
    assert sorted(set(children.values())) == ["commands.cli serve", "plan_worker"], "the run serves and plans"
    proc.kill()
    proc.wait(timeout=10)
    proc.stdout.close()
    deadline = time.monotonic() + 20
    while [p for p in children if _alive(p)] and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [p for p in children if _alive(p)]
    for pid in left:  # (a failing run of this test leaves none either)
        os.kill(pid, signal.SIGKILL)
    assert left == []


def test_a_child_process_that_ignores_sigterm_is_killed_after_its_grace():
    import signal

    from contract_tests import child_process

    stubborn = subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                                 "print('ready', flush=True); time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    assert stubborn.stdout is not None and stubborn.stdout.readline() == "ready\n"
    child_process.end(stubborn, grace=0.5)
    assert stubborn.returncode == -signal.SIGKILL
    stubborn.stdout.close()
    child_process.end(stubborn)  # (ended: nothing)


def test_a_refused_signature_names_a_clock_far_from_the_targets():
    """A signature carries this machine's time (X-Sdk-Date); an API gateway refuses one dated far from its clock.
    The answer's Date tells how far: beyond the API gateway's 15 minutes, the line says so (the keys may be right)."""
    import email.utils

    from support import request_server

    def refusing(date: float):
        def answer(head: bytes, body: bytes) -> bytes:
            text = json.dumps({"error_code": "APIG.0301", "error_msg": "Incorrect IAM authentication information"}).encode()
            return (b"HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nDate: " +
                    email.utils.formatdate(date, usegmt=True).encode() + b"\r\nContent-Length: " + str(len(text)).encode() +
                    b"\r\nConnection: close\r\n\r\n" + text)
        return answer

    for their_clock, said in ((time.time() - 3600, "this machine's clock is off: it is 60 min ahead of the target's"),
                              (time.time() + 1800, "this machine's clock is off: it is 30 min behind the target's"),
                              (time.time() - 600, None), (time.time(), None)):
        with request_server(refusing(their_clock)) as url:
            result = contract("--target", url, "--ak", "AKEXAMPLE", env={"VPNCONN_SK": "sk-secret-1234"})
        assert result.returncode == 2 and "the target refused the credentials" in result.stderr, result.stderr
        assert (said in result.stderr) if said else "clock" not in result.stderr, result.stderr
        assert "sk-secret-1234" not in result.stderr + result.stdout
