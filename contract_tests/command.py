"""`vpnconn contract`: options, environment, exit codes (0 no violation, 1 violations, 2 usage or unreachable)."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from pathlib import Path

from contract_tests.settings import DEFAULT_CGW_ID, DEFAULT_PROJECT_ID, DEFAULT_VGW_ID, DEFAULT_VGW_IP, MODES

EPILOG = """\
credentials: TOKEN is sent as X-Auth-Token; AK/SK sign every request with SDK-HMAC-SHA256 as the official
SDKs do; with neither, no credentials are sent. Pass secrets in the environment (VPNCONN_TOKEN, VPNCONN_AK,
VPNCONN_SK; `make contract TOKEN=...` does this) so that they do not show in the process list. They are
masked in every output and report; nothing else is.

safety: against a TARGET that is not on loopback, requests that a correct server would accept (and so
create a connection) are sent only with --allow-create (ALLOW_CREATE=1); otherwise the run is negative-only.

exit status: 0 no violation; 1 violations found; 2 usage error or target unreachable; 3 internal error.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    env = os.environ.get
    parser.add_argument("--target", metavar="URL", help="base URL of the server under test, e.g. http://127.0.0.1:8080 "
                        "(default: start the embedded reference server on a free loopback port)")
    parser.add_argument("--project-id", default=DEFAULT_PROJECT_ID, help="project id put in the path of every case (default %(default)s)")
    parser.add_argument("--token", default=env("VPNCONN_TOKEN") or None, help="IAM token sent as X-Auth-Token (env VPNCONN_TOKEN)")
    parser.add_argument("--ak", default=env("VPNCONN_AK") or None, help="access key for SDK-HMAC-SHA256 signing (env VPNCONN_AK)")
    parser.add_argument("--sk", default=env("VPNCONN_SK") or None, help="secret key for signing; prefer env VPNCONN_SK")
    parser.add_argument("--vgw-id", default=DEFAULT_VGW_ID, help="an existing VPN gateway of the target used by positive cases")
    parser.add_argument("--vgw-ip", default=DEFAULT_VGW_IP, help="an EIP id (or private IPv4) of that gateway")
    parser.add_argument("--cgw-id", default=DEFAULT_CGW_ID, help="an existing customer gateway of the target")
    parser.add_argument("--mode", choices=MODES, default="all", help="positive, negative or all cases (default all)")
    parser.add_argument("--examples", type=int, default=100, help="fuzzing examples per run (default 100)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every generator; the same seed gives the same cases (default 0)")
    parser.add_argument("--report", metavar="DIR", type=Path, help="write junit.xml and failures.json there")
    parser.add_argument("--allow-create", action="store_true", default=env("ALLOW_CREATE") == "1",
                        help="send creating requests to a non-loopback target (env ALLOW_CREATE=1)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines, only the summary")


def run(args: argparse.Namespace) -> int:
    from contract_tests.report import render_summary, write_reports
    from contract_tests.runner import run_contract
    from contract_tests.settings import RunSettings, SettingsError
    from contract_tests.target import TargetUnreachable

    try:
        settings = RunSettings(
            target=args.target, project_id=args.project_id, token=args.token, ak=args.ak, sk=args.sk,
            vgw_id=args.vgw_id, vgw_ip=args.vgw_ip, cgw_id=args.cgw_id, mode=args.mode, examples=args.examples,
            seed=args.seed, report_dir=args.report, allow_create=args.allow_create, quiet=args.quiet,
        )
    except SettingsError as exc:
        print(f"vpnconn contract: {exc}", file=sys.stderr)
        return 2
    progress = (lambda _: None) if args.quiet else (lambda line: print(line, flush=True))
    try:
        result = run_contract(settings, progress)
    except TargetUnreachable as exc:
        print(f"vpnconn contract: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("vpnconn contract: interrupted", file=sys.stderr)
        return 130
    except Exception:  # a bug of the toolkit, not a finding about the target
        print("vpnconn contract: internal error (please report it):", file=sys.stderr)
        traceback.print_exc()
        return 3
    print(render_summary(result), flush=True)
    if args.report:
        for path in write_reports(result, args.report):
            print(f"report: {path}")
    return result.exit_code
