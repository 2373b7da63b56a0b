"""`vpnconn contract`: options, environment, exit codes.

Exit status: 0 the run judged enough answers and found no violation; 1 violations (divergences too with
--strict); 2 what stops a run (a usage mistake, a broken spec, an unusable report directory, an unreachable
target, refused credentials, a URL that does not serve this API, too few answers to judge); 3 a bug of the
toolkit. Ctrl-C (SIGINT) ends with 130 and SIGTERM with 143, once the requests in flight have finished and what
the run created is deleted (a second signal ends it at once).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import traceback
from pathlib import Path
from types import FrameType
from typing import Any

from contract_tests.settings import (
    ADDRESS_ROLES,
    ATTACHMENT_TYPES,
    DEFAULT_CGW_ID,
    DEFAULT_CONCURRENCY,
    DEFAULT_PROJECT_ID,
    DEFAULT_VGW_ID,
    DEFAULT_VGW_IP,
    GATEWAY_FACTS,
    IP_VERSIONS,
    MAX_CONCURRENCY,
    MODES,
    PHASES,
    REMOTE_MAX_CREATES,
    REMOTE_RATE_LIMIT,
)

EPILOG = f"""\
verdicts: a finding against documented behaviour is a VIOLATION (exit 1). A finding against a constraint the
spec only infers (its provenance says why; e.g. canonical CIDRs, unique tag keys, 405 for other methods) is a
DIVERGENCE: listed in its own section and reports, exit 0 unless --strict (STRICT=1 in make). A request a
proxy refused (407) got no answer of the target's: NOT JUDGED, its own section, counted by no verdict.

credentials: TOKEN is sent as X-Auth-Token; AK/SK sign every request with SDK-HMAC-SHA256 as the official
SDKs do; with neither, no credentials are sent. Pass secrets in the environment (VPNCONN_TOKEN, VPNCONN_AK,
VPNCONN_SK; `make contract TOKEN=...` does this) so that they do not show in the process list. They are
masked in every output and report, as whole values; the test data the run generates (a case's psk) is not.

preflight: before any phase the run checks that the target answers, that it serves this API at TARGET and
PROJECT_ID, that the credentials are accepted (else exit 2 with a hint) and that a wrong token is refused
(else one finding, "the target accepts any token").

safety: against a TARGET that is not on loopback, requests that a correct server would accept (and so
create a connection) are sent only with --allow-create (ALLOW_CREATE=1); otherwise the run is negative-only.
There a run also sends at most --max-creates requests that could create (default {REMOTE_MAX_CREATES}, half the published
quota of 100 connections per gateway) at --rate-limit requests a second (default {REMOTE_RATE_LIMIT:g}), and waits as
long as a 429's Retry-After asks.

busy answers: a 429, 503 or 504 (504 VPN.0014: system busy) is asked again after its Retry-After (1 s without
one), three times in all; a request still busy then is not judged (a target_busy divergence). A 429 also halves
the run's rate, which grows back while the target does not throttle (never past --rate-limit).

cleanup: every connection a run creates is noted the moment it is created (in .vpnconn-cache/created/) and
deleted before the run ends, also after failures, MAX_TIME and Ctrl-C; what could not be deleted is listed
with its URL. `vpnconn cleanup --target URL` deletes what a killed run left behind.

phases: examples, coverage, fuzzing (schemathesis, on create), rules (our targeted cases, on create) and
lifecycle (each style through create, show, list, update and delete, with the checks a schema cannot state).

speed: schemathesis' cases are generated before anything is sent (from the spec, seed and options only) and
kept in .vpnconn-cache/plans/, so a repeat run sends without generating (--no-cache: neither read nor kept;
`make clean` empties it). Requests go --concurrency at a time; which requests are sent, in which order
they are reported and every verdict are the same for any concurrency. The rate limit and MAX_CREATES hold
for all requests in flight.

exit status: 0 no violation (enough answers judged); 1 violations (a target that stopped answering mid-run
too: 10 requests in a row without an answer stop the sending, and what was sent is judged); 2 the run could
not judge (usage error, broken spec, unusable REPORT, target unreachable or not this API, credentials refused,
too few answers); 3 internal error of the toolkit; 130 interrupted (SIGINT); 143 terminated (SIGTERM).
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    env = os.environ.get
    parser.add_argument("--target", metavar="URL", help="base URL of the server under test, e.g. http://127.0.0.1:8080 "
                        "(default: start the embedded reference server on a free loopback port); an https:// target's "
                        "certificate is verified with the system's CAs or the CA file in SSL_CERT_FILE")
    parser.add_argument("--project-id", default=DEFAULT_PROJECT_ID, help="project id put in the path of every case (default %(default)s)")
    parser.add_argument("--token", default=env("VPNCONN_TOKEN") or None, help="IAM token sent as X-Auth-Token (env VPNCONN_TOKEN)")
    parser.add_argument("--ak", default=env("VPNCONN_AK") or None, help="access key for SDK-HMAC-SHA256 signing (env VPNCONN_AK)")
    parser.add_argument("--sk", default=env("VPNCONN_SK") or None, help="secret key for signing; prefer env VPNCONN_SK")
    parser.add_argument("--vgw-id", default=DEFAULT_VGW_ID, help="an existing VPN gateway of the target used by positive cases")
    parser.add_argument("--vgw-ip", default=DEFAULT_VGW_IP, help="an EIP id (or private IPv4) of that gateway")
    parser.add_argument("--cgw-id", default=DEFAULT_CGW_ID, metavar="ID[,ID...]",
                        help="existing customer gateways of the target, comma-separated; a gateway address and a customer "
                        "gateway hold one connection, so a run holds one connection per customer gateway named at once, "
                        "and deletes them before the next round of creates (without it, each create names a customer "
                        "gateway of its own where the target creates a connection for one nobody made, asked once first; "
                        "elsewhere every create names the default, %(default)s)")
    add_gateway_facts(parser)
    parser.add_argument("--mode", choices=MODES, default="all", help="positive, negative or all cases (default all)")
    parser.add_argument("--examples", type=int, default=100,
                        help="fuzzing examples per run, shared by the modes (default 100: 50 positive, 50 negative)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every generator; the same seed gives the same cases (default 0)")
    parser.add_argument("--report", metavar="DIR", type=Path, help="write junit.xml and failures.json there (checked before the run)")
    parser.add_argument("--strict", action="store_true", default=env("STRICT") == "1",
                        help="divergences (findings against inferred constraints) count as violations (env STRICT=1)")
    parser.add_argument("--max-failures", type=int, metavar="N", help="stop sending after about N failing cases (default: no limit)")
    parser.add_argument("--request-timeout", type=float, default=10.0, metavar="SECONDS",
                        help="seconds for one whole answer, counted from its request (an answer that trickles in is cut then); "
                             "a request that times out is a finding (default 10)")
    parser.add_argument("--max-time", type=float, default=600.0, metavar="SECONDS",
                        help="deadline of the whole run; when reached it stops sending and judges what it has (default 600)")
    parser.add_argument("--allow-create", action="store_true", default=env("ALLOW_CREATE") == "1",
                        help="send creating requests to a non-loopback target (env ALLOW_CREATE=1)")
    parser.add_argument("--phases", type=_phases, default=PHASES, metavar="LIST",
                        help=f"comma-separated phases to run (default all: {','.join(PHASES)})")
    parser.add_argument("--max-creates", type=int, metavar="N",
                        help=f"creating requests at most (default: no limit on loopback, {REMOTE_MAX_CREATES} elsewhere)")
    parser.add_argument("--rate-limit", type=float, metavar="PER_SECOND",
                        help=f"requests per second at most (default: none on loopback, {REMOTE_RATE_LIMIT:g} elsewhere)")
    parser.add_argument("--ledger-dir", default=".vpnconn-cache/created", metavar="DIR",
                        help="where the run notes each connection it creates until it is deleted (default %(default)s)")
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY, metavar="N",
                        help=f"requests in flight at once (1-{MAX_CONCURRENCY}); the cases, their order in reports and the "
                        "verdicts are the same for every N; the rate limit and MAX_CREATES still hold (default %(default)s)")
    parser.add_argument("--no-cache", action="store_true",
                        help="generate the cases afresh and keep nothing (default: reuse the cases a run with the same "
                        "spec, seed, options and versions generated, from .vpnconn-cache/plans; `make clean` empties it)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines, only the summary")


def _phases(text: str) -> tuple[str, ...]:
    names = tuple(p.strip() for p in text.split(",") if p.strip())
    unknown = [n for n in names if n not in PHASES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"phases are {', '.join(PHASES)}; not {', '.join(unknown) or 'an empty list'}")
    return names


class Terminated(BaseException):
    """SIGTERM, turned into an exception so that the run unwinds (stops its children) like on Ctrl-C."""


_RECEIVED: list[int] = []  # the signals that ended the run (schemathesis swallows KeyboardInterrupt itself)


def _on_signal(signum: int, frame: FrameType | None) -> None:
    from contract_tests import hooks

    _RECEIVED.append(signum)
    if hooks.request_stop():  # the first signal during the phases: finish what is in flight, clean up, end
        print(f"vpnconn contract: {'SIGINT' if signum == signal.SIGINT else 'SIGTERM'}: stopping after the requests in "
              f"flight, then deleting what the run created (again to stop at once)", file=sys.stderr, flush=True)
        return
    raise KeyboardInterrupt() if signum == signal.SIGINT else Terminated()


def _interrupted() -> int | None:
    if not _RECEIVED:
        return None
    name, code = ("SIGINT", 130) if _RECEIVED[0] == signal.SIGINT else ("SIGTERM", 143)
    print(f"vpnconn contract: interrupted by {name}; no verdict", file=sys.stderr)
    return code


def _several(ids: str) -> tuple[str, ...]:
    """The ids of a comma-separated option, when it names more than one (one: the option's own field says it)."""
    named = tuple(part.strip() for part in ids.split(","))
    return named if len(named) > 1 else ()


def add_gateway_facts(parser: argparse.ArgumentParser) -> None:
    """The options that tell what the VPN gateway --vgw-id is, where it is not what the open world takes every gateway for
    (vpnconn.world.told_world): a contract run keeps its valid creates to them and breaks the rules they decide, and
    `vpnconn serve` (the embedded server too) serves such a gateway."""
    parser.add_argument("--local-subnets", type=_listed, default=(), metavar="CIDR[,CIDR...]",
                        help="the VPN gateway's local subnets (its local_subnets, as the VPN gateway API lists them), "
                        "comma-separated: no valid create puts a customer subnet within one, which the service refuses "
                        "(without it, a customer subnet a valid create gives, such as the examples' 192.168.44.0/24, may lie "
                        "within one, and its refusal is reported as a violation)")
    parser.add_argument("--vgw-ip-role", choices=ADDRESS_ROLES, default=None,
                        help="on an active-standby gateway, which of its addresses --vgw-ip is: every valid create takes the "
                        "ha_role the service requires there (master on the active address, slave on the standby); without it, "
                        "the gateway is taken for active-active, where a connection may give either")
    parser.add_argument("--vgw-attachment", choices=ATTACHMENT_TYPES, default=None,
                        help="what the VPN gateway is attached to: er (an enterprise router), where a POLICY or BGP connection "
                        "may leave out peer_subnets and its answers do; without it, vpc (a POLICY or BGP answer without "
                        "peer_subnets is reported)")
    parser.add_argument("--vgw-flavor", default=None, metavar="FLAVOR",
                        help="the VPN gateway's flavor as the VPN gateway API writes it; GM (national cryptography: certificates) "
                        "takes no psk, so no valid create gives one and the rules phase sends one, and its answers leave out "
                        "the IKE ids, dh_group and pfs; without it, a gateway of another flavor, which needs a psk")
    parser.add_argument("--vgw-ip-version", choices=IP_VERSIONS, default=None,
                        help="the VPN gateway's IP version: ipv6, where a POLICY connection gives policy_rules_v6; without it, "
                        "ipv4 (policy_rules)")


def told_of(args: argparse.Namespace) -> dict[str, Any]:
    """The gateway facts of parsed options (``add_gateway_facts``'), as RunSettings takes them."""
    return {fact: getattr(args, fact) for fact in GATEWAY_FACTS}


def _listed(text: str) -> tuple[str, ...]:
    """A comma-separated option as its values (blanks dropped)."""
    return tuple(value.strip() for value in text.split(",") if value.strip())


def run(args: argparse.Namespace) -> int:
    from contract_tests.settings import RunSettings, check_report_dir
    from contract_tests.target import EmbeddedServer
    from vpnconn.errors import VpnconnError

    _RECEIVED.clear()
    previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    server: EmbeddedServer | None = None
    try:
        settings = RunSettings(
            target=args.target, project_id=args.project_id, token=args.token, ak=args.ak, sk=args.sk,
            vgw_id=args.vgw_id, vgw_ip=args.vgw_ip, cgw_id=args.cgw_id.split(",")[0].strip(),
            cgw_ids=_several(args.cgw_id), **told_of(args), mode=args.mode, examples=args.examples,
            seed=args.seed, allow_create=args.allow_create, quiet=args.quiet, strict=args.strict,
            max_failures=args.max_failures, request_timeout=args.request_timeout, max_time=args.max_time,
            phases=args.phases, max_creates=args.max_creates, rate_limit=args.rate_limit, ledger_dir=args.ledger_dir,
            concurrency=args.concurrency, use_cache=not args.no_cache,
        )
        if args.report:
            check_report_dir(args.report)
        # without TARGET the embedded server starts now, while the runner and schemathesis load (0.7 s saved)
        server = None if settings.target else EmbeddedServer(settings)
        from contract_tests.report import render_summary, write_reports
        from contract_tests.runner import run_contract

        progress = (lambda _: None) if args.quiet else (lambda line: print(line, flush=True))
        result = run_contract(settings, progress, live=not args.quiet, server=server)
        if _RECEIVED:
            return _interrupted() or 130
        print(render_summary(result), flush=True)
        if args.report:
            for path in write_reports(result, args.report):
                print(f"report: {path}")
        return result.exit_code
    except (KeyboardInterrupt, Terminated):
        return _interrupted() or 130
    except VpnconnError as exc:
        if _RECEIVED:  # the interruption killed the target (the embedded server got the signal too)
            return _interrupted() or 130
        print(f"vpnconn contract: {exc}", file=sys.stderr)
        return 2
    except Exception:  # a bug of the toolkit, not a finding about the target
        if _RECEIVED:
            return _interrupted() or 130
        print("vpnconn contract: internal error (please report it):", file=sys.stderr)
        traceback.print_exc()
        return 3
    finally:
        if server is not None:
            server.stop()  # (stopped already, unless the run never began)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def add_cleanup_arguments(parser: argparse.ArgumentParser) -> None:
    env = os.environ.get
    parser.add_argument("--target", required=True, metavar="URL", help="base URL of the server the runs were pointed at")
    parser.add_argument("--token", default=env("VPNCONN_TOKEN") or None, help="IAM token sent as X-Auth-Token (env VPNCONN_TOKEN)")
    parser.add_argument("--ak", default=env("VPNCONN_AK") or None, help="access key for SDK-HMAC-SHA256 signing (env VPNCONN_AK)")
    parser.add_argument("--sk", default=env("VPNCONN_SK") or None, help="secret key for signing; prefer env VPNCONN_SK")
    parser.add_argument("--ledger-dir", default=".vpnconn-cache/created", metavar="DIR",
                        help="where the runs kept their ledgers (default %(default)s)")
    parser.add_argument("--rate-limit", type=float, metavar="PER_SECOND",
                        help=f"requests per second at most (default: none on loopback, {REMOTE_RATE_LIMIT:g} elsewhere)")


def run_cleanup(args: argparse.Namespace) -> int:
    """`vpnconn cleanup`: 0 nothing left, 1 some connection could not be deleted (or what an unsure create made could
    not be looked for: the gateway could not be listed), 2 a usage mistake."""
    from contract_tests.answer_limits import limited_client
    from contract_tests.cleanup import clean_leftovers
    from contract_tests.masking import mask_text
    from contract_tests.settings import RunSettings

    settings = RunSettings(target=args.target, token=args.token, ak=args.ak, sk=args.sk, rate_limit=args.rate_limit,
                           ledger_dir=args.ledger_dir)
    def mask(text: str) -> str:
        return mask_text(text, settings.secrets)

    with limited_client(settings.request_timeout) as client:
        done = clean_leftovers(settings, settings.base_url or args.target, client, Path(args.ledger_dir),
                               progress=lambda line: print(mask(line), flush=True))
    if not done.deleted and not done.left and not done.unlooked:
        print(f"vpnconn cleanup: no connection left by an earlier run on {settings.base_url}")
        return 0
    print(mask(done.summary().replace("the run created", "earlier runs left")))
    return 1 if done.left or done.unlooked else 0
