"""`vpnconn serve`: the reference server in the foreground on 127.0.0.1, one log line per request."""

from __future__ import annotations

import errno
import os
import signal
import sys
from datetime import datetime
from typing import Any

from reference_server.app import ReferenceServer
from reference_server.embedded import bind_loopback, uvicorn_server
from vpnconn.stdin_end import when_stdin_ends
from vpnconn.world import OPEN_WORLD, Gateway, WorldError, load_world, told_world


def _log(line: str) -> None:
    print(f"{datetime.now().strftime('%H:%M:%S.%f')[:-3]} {line}", flush=True)


def _told(gateway: Gateway) -> str:
    """What a told gateway is, in a few words: 'GM, ER-attached, local subnets 192.168.0.0/16'."""
    parts = [f"flavor {gateway.flavor}" if gateway.flavor != Gateway.flavor else "",
             "attached to an enterprise router" if gateway.attachment_type == "er" else "",
             gateway.ip_version if gateway.ip_version != Gateway.ip_version else "",
             f"active-standby, {gateway.ips[0].key} its {gateway.ips[0].role} address" if gateway.ha_mode == "active-standby" else "",
             f"local subnets {', '.join(gateway.local_subnets)}" if gateway.local_subnets else ""]
    return "; ".join(p for p in parts if p)


def serve(port: int, world_path: str | None, ak: str | None, token: str | None, quiet: bool = False,
          fault: str | None = None, variant: str | None = None, latency_ms: float = 0.0, quotas: bool = True,
          told: Any = None, stop_when_stdin_closes: bool = False) -> int:
    """``told``: what the open world's gateway ``told.vgw_id`` is (vpnconn.world.told_world: its local subnets, an
    active-standby address, ER attachment, GM flavor, IPv6), where no world file declares the gateways.
    ``stop_when_stdin_closes``: stop as on SIGTERM once standard input ends, as it does when the process that holds its
    other end is gone, even killed (SIGKILL leaves that process no time to stop its children)."""
    told_open = told_world(told) if told is not None else OPEN_WORLD
    if world_path and told_open is not OPEN_WORLD:
        print("vpnconn serve: --world declares the gateways; describe them there (docs/world-file.md), not with "
              "--local-subnets or --vgw-* as well", file=sys.stderr)
        return 2
    try:
        world = load_world(world_path) if world_path else told_open
    except WorldError as exc:
        print(f"vpnconn serve: {exc}", file=sys.stderr)
        return 2
    sk = os.environ.get("VPNCONN_SK")
    if ak and not sk:
        print("vpnconn serve: --ak needs the secret key in the environment variable VPNCONN_SK "
              "(kept off the command line so that it does not show in ps)", file=sys.stderr)
        return 2
    try:
        sock = bind_loopback(port)
    except OSError as exc:
        why = "is already in use" if exc.errno == errno.EADDRINUSE else f"cannot be used ({exc.strerror})"
        print(f"vpnconn serve: port {port} on 127.0.0.1 {why}; choose another with PORT=... (make) or --port", file=sys.stderr)
        return 2
    options: dict[str, Any] = {"world": world, "keys": {ak: sk} if ak else None, "token": token, "log": None if quiet else _log,
                               "quotas": quotas}
    app: Any
    if fault:
        from reference_server.faults import FAULTS, FaultyServer

        if fault not in FAULTS:
            print(f"vpnconn serve: no fault {fault!r}; the faults are: {', '.join(FAULTS)}", file=sys.stderr)
            return 2
        app = FaultyServer(FAULTS[fault], **options)
    elif variant:
        from reference_server.variants import VARIANTS

        if variant not in VARIANTS:
            print(f"vpnconn serve: no variant {variant!r}; the variants are: {', '.join(VARIANTS)}", file=sys.stderr)
            return 2
        app = VARIANTS[variant][1](**options)
    else:
        app = ReferenceServer(**options)
    if latency_ms:
        from reference_server.latency import Delayed

        app = Delayed(app, latency_ms / 1000)
    server = uvicorn_server(app)
    stopped_early = _stop_before_uvicorn_listens(server)  # (from here on: a user has the banner and may press Ctrl-C)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    where = world_path or "open (every well-formed id exists)"
    if not world_path and world is not OPEN_WORLD:
        where += f", but gateway {told.vgw_id}: {_told(world.gateways[told.vgw_id])}"
    auth = "AK/SK signatures verified" if ak else ("any X-Auth-Token or SDK-HMAC-SHA256 header accepted (a contract run "
                                                    "reports that once; TOKEN=... makes it require one)")
    if token:
        auth = "X-Auth-Token must match --token" + (", AK/SK signatures verified" if ak else "")
    print(f"reference server on {url}  (POST {url}/v5/{{project_id}}/vpn-connection)", flush=True)
    print(f"world: {where}; credentials: {auth}; Ctrl-C stops it", flush=True)
    if not quotas:
        print("quotas: not kept (--no-quotas): a gateway takes any number of connections, a gateway address and a customer "
              "gateway any number too", flush=True)
    if fault:
        print(f"FAULT INJECTED ({fault}): this server {FAULTS[fault].description}", flush=True)
    if variant:
        print(f"VARIANT ({variant}): this server {VARIANTS[variant][0]}", flush=True)
    if latency_ms:
        print(f"LATENCY: every answer comes {latency_ms:g} ms late, as from a distant cloud API", flush=True)
    if stop_when_stdin_closes:
        when_stdin_ends(lambda: os.kill(os.getpid(), signal.SIGTERM))  # stopped as SIGTERM does (uvicorn's graceful shutdown)
    server.run(sockets=[sock])
    signal.signal(signal.SIGINT, signal.default_int_handler)  # (uvicorn put back the early handlers as it stopped)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for caught in stopped_early:  # stopped as the signal stops it once uvicorn listens: 130 (interrupted) or SIGTERM's
        signal.raise_signal(caught)
    return 0


def _stop_before_uvicorn_listens(server: Any) -> list[int]:
    """Until uvicorn has put its own handlers in place, SIGINT (Ctrl-C) and SIGTERM tell ``server`` to stop, as they
    do after; the signals so caught are returned (filled in later). Python's own SIGINT raised KeyboardInterrupt
    wherever uvicorn was starting, and a server so interrupted now and then hung for good, or wrote a traceback."""
    caught: list[int] = []

    def stop(number: int, _frame: Any) -> None:
        if number not in caught:
            caught.append(number)
        server.should_exit = True

    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, stop)
    return caught

