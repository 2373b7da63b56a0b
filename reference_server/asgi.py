"""The reference server as an ASGI application for any ASGI server: ``reference_server.asgi:create_app``
(a factory; the token, if any, from the environment variable VPNCONN_TOKEN, never the command line).

    granian --interface asgi --factory reference_server.asgi:create_app
    uvicorn --factory reference_server.asgi:create_app

``vpnconn serve`` remains the supported way: it runs the app under uvicorn with the protocol limits of
:mod:`reference_server.limits` (header size, read timeouts, connections at once), which answer a breach with
the spec's Huawei error body. Another server answers those breaches in its own way. ``make bench`` measures
the app under uvicorn and under granian side by side (benchmarks/server_vs_prism.py).
"""

from __future__ import annotations

import os

from reference_server.app import ReferenceServer


def create_app() -> ReferenceServer:
    return ReferenceServer(token=os.environ.get("VPNCONN_TOKEN") or None)
