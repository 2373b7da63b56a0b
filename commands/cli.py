"""The `vpnconn` command: one subcommand per Makefile verb."""

from __future__ import annotations

import argparse
import os
import sys

from vpnconn.errors import VpnconnError


def _check(args: argparse.Namespace) -> int:
    from commands.check import run_check

    return run_check(lint=not args.no_lint)


def _latency(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a number of milliseconds, not {text!r}") from None
    if not 0 <= value <= 60_000:
        raise argparse.ArgumentTypeError(f"between 0 and 60000 milliseconds, not {text}")
    return value


def _serve(args: argparse.Namespace) -> int:
    from contract_tests.command import told_of
    from contract_tests.settings import RunSettings
    from reference_server.serve import serve
    from vpnconn.errors import SettingsError

    try:  # (the gateway facts, checked as a contract run checks them: one place)
        told = RunSettings(vgw_id=args.vgw_id, vgw_ip=args.vgw_ip, **told_of(args))
    except SettingsError as exc:
        print(f"vpnconn serve: {exc}", file=sys.stderr)
        return 2
    return serve(args.port, args.world, args.ak, args.token, args.quiet, args.fault, args.variant, args.latency, args.quotas,
                 told, args.stop_when_stdin_closes)


def _contract(args: argparse.Namespace) -> int:
    from contract_tests.command import run

    return run(args)


def _cleanup(args: argparse.Namespace) -> int:
    from contract_tests.command import run_cleanup

    return run_cleanup(args)


def _fixtures(args: argparse.Namespace) -> int:
    from generators.fixture_files import run_fixtures

    return run_fixtures(args.check, args.seed, args.per_style)


def _pack(args: argparse.Namespace) -> int:
    from generators.pack import run_pack

    return run_pack()


def _publish(args: argparse.Namespace) -> int:
    from commands.publish import run_publish

    return run_publish()


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0-65535; 0 picks a free one)")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vpnconn",
        description="Contract tests, reference server and fixtures for the Huawei Cloud VPN connection "
        "(/v5/{project_id}/vpn-connection: create, show, list, update, delete).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    from contract_tests.command import EPILOG, add_arguments, add_gateway_facts
    from contract_tests.settings import DEFAULT_VGW_ID, DEFAULT_VGW_IP

    contract = sub.add_parser(
        "contract",
        help="run the contract suite against a server (default: the embedded reference server)",
        description="Schemathesis property tests of create (examples, coverage, fuzzing; positive and negative) plus "
        "this project's semantic checks, named-rule cases and lifecycle sequences (create, show, list, update, delete), "
        "against any server implementing /v5/{project_id}/vpn-connection. Every connection a run creates is deleted "
        "before it ends.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(contract)
    contract.set_defaults(run=_contract)

    from contract_tests.command import add_cleanup_arguments

    cleanup = sub.add_parser(
        "cleanup", help="delete the connections that killed contract runs left on a target",
        description="Read the ledgers that contract runs keep in .vpnconn-cache/created/ (a run that ends, even by "
        "Ctrl-C, deletes what it created and removes its ledger; a killed one leaves it) and DELETE every connection "
        "they list for TARGET. A create that got no clear answer (a timeout, a gateway's 5xx) may have made a "
        "connection all the same: a ledger that notes such creates is kept by its run when they were not all found, "
        "and cleanup lists the gateway once more to find and delete what they made. Exit 0 when nothing is left, 1 "
        "when some connection could not be deleted or the gateway could not be listed to look (the ledger is kept).",
    )
    add_cleanup_arguments(cleanup)
    cleanup.set_defaults(run=_cleanup)

    from generators import DEFAULT_PER_STYLE, DEFAULT_SEED

    fixtures = sub.add_parser("fixtures", help="write fixtures/ from the spec (or --check it, never writing)",
                              description="Generate the request/response/error fixtures of every style into "
                              "fixtures/, deterministically (the same spec and seed give the same bytes).")
    fixtures.add_argument("--check", action="store_true", help="compare fixtures/ with fresh output; report, never write")
    fixtures.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the property-generated scenarios (default %(default)s)")
    fixtures.add_argument("--per-style", type=int, default=DEFAULT_PER_STYLE,
                          help="property-generated scenarios per style (default %(default)s)")
    fixtures.set_defaults(run=_fixtures)

    pack = sub.add_parser("pack", help="build dist/vpnconn-fixtures-<version>.tar.gz (reproducible) and its .sha256")
    pack.set_defaults(run=_pack)

    publish = sub.add_parser("publish", help="bundle the spec (YAML, JSON), build the offline HTML reference into dist/spec/",
                             description="Publish the spec: bundled YAML and JSON, an offline Redoc page, the "
                             "CHANGELOG; records spec/published/openapi.yaml as the baseline of the breaking-change check.")
    publish.set_defaults(run=_publish)

    check = sub.add_parser("check", help="validate and lint the spec; check examples, fixture drift and breaking changes (never writes)")
    check.add_argument("--no-lint", action="store_true", help="skip Spectral (no Node.js needed)")
    check.set_defaults(run=_check)

    serve = sub.add_parser(
        "serve",
        help="run the reference server on 127.0.0.1 in the foreground",
        description="Run the reference server on 127.0.0.1 until Ctrl-C. It validates every request against the "
        "spec and answers as the documentation promises, errors included; one log line per request, no secrets.",
    )
    serve.add_argument("--port", type=_port, default=8080, help="port on 127.0.0.1 (default 8080; 0 = any free port)")
    serve.add_argument("--world", metavar="FILE", help="YAML file declaring gateways and customer gateways; without "
                       "it every well-formed id exists (see docs/world-file.md)")
    serve.add_argument("--ak", default=os.environ.get("VPNCONN_AK") or None,
                       help="verify SDK-HMAC-SHA256 signatures for this access key (env VPNCONN_AK; `make serve AK=.. SK=..`); "
                       "the secret key is read from the environment variable VPNCONN_SK")
    serve.add_argument("--token", default=os.environ.get("VPNCONN_TOKEN") or None,
                       help="accept only this X-Auth-Token (env VPNCONN_TOKEN; `make serve TOKEN=..`); default: any non-empty token")
    serve.add_argument("--quiet", action="store_true", help="no log line per request")
    serve.add_argument("--stop-when-stdin-closes", action="store_true",
                       help="stop once standard input closes: a program that starts the server with a pipe on its stdin "
                            "stops it by closing the pipe, and by ending, even when it is killed (the embedded server of "
                            "`vpnconn contract` runs so)")
    serve.add_argument("--latency", type=_latency, default=0.0, metavar="MS",
                       help="answer every request MS milliseconds late, as a distant cloud API does (default 0)")
    serve.add_argument("--fault", metavar="NAME", help="inject one deliberate fault (see reference_server/faults.py), "
                       "to see what `make contract` reports about a broken server")
    serve.add_argument("--variant", metavar="NAME", help="run a correct-but-different variant (other-choices: the other "
                       "choice wherever the documentation is silent); `make contract` must pass it, listing divergences")
    serve.add_argument("--no-quotas", dest="quotas", action="store_false",
                       help="do not keep the account's quotas (100 connections per gateway; one per gateway address and "
                       "customer gateway, which refuses the same example created twice): for client tests that create "
                       "the same body again and again")
    serve.add_argument("--vgw-id", default=DEFAULT_VGW_ID,
                       help="the VPN gateway the options below describe, in the open world (default %(default)s, the examples')")
    serve.add_argument("--vgw-ip", default=DEFAULT_VGW_IP, help="that gateway's address --vgw-ip-role names (default %(default)s)")
    add_gateway_facts(serve)
    serve.set_defaults(run=_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except VpnconnError as exc:  # a user's mistake (a broken spec, a bad option): one line, exit 2
        print(f"vpnconn {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"vpnconn {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
