"""The reference server: a faithful implementation of CreateVpnConnection driven by the spec.

It validates with :mod:`vpnconn.validation` (the spec's schema and named rules), answers with
:class:`~reference_server.connection.ConnectionBuilder` (the spec's defaults and style variants), and keeps
created connections in a :class:`~reference_server.store.ConnectionStore`.
"""

from reference_server.app import ReferenceServer, Reject
from reference_server.connection import Identity, timestamp
from reference_server.embedded import running_server

__all__ = ["Identity", "ReferenceServer", "Reject", "running_server", "timestamp"]
