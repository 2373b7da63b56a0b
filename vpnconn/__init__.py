"""vpnconn-contract: contract tests, reference server and fixtures for Huawei Cloud VPN CreateVpnConnection.

Public names are re-exported here; every tool goes through :func:`load_spec`.
"""

from vpnconn.spec import Spec, SpecError, load_spec
from vpnconn.validation import RequestCheck, Violation, check_request

__all__ = ["Spec", "SpecError", "load_spec", "RequestCheck", "Violation", "check_request"]
__version__ = "0.1.0"
