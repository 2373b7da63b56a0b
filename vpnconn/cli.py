"""The `vpnconn` command: one subcommand per Makefile verb."""

from __future__ import annotations

import argparse
import sys


def _check(args: argparse.Namespace) -> int:
    from vpnconn.check import run_check

    return run_check(lint=not args.no_lint)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vpnconn",
        description="Contract tests, reference server and fixtures for Huawei Cloud VPN "
        "'create VPN connection' (POST /v5/{project_id}/vpn-connection).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    check = sub.add_parser("check", help="validate and lint the spec, check its examples (never writes)")
    check.add_argument("--no-lint", action="store_true", help="skip Spectral (no Node.js needed)")
    check.set_defaults(run=_check)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
