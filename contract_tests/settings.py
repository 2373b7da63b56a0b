"""What a contract run is pointed at, and with what: validated once, with messages that name the fix."""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from vpnconn.errors import SettingsError  # noqa: F401  (re-exported)
from vpnconn.repair import DEFAULT_CGW_ID, DEFAULT_PROJECT_ID, DEFAULT_VGW_ID, DEFAULT_VGW_IP  # noqa: F401  (re-exported)
from vpnconn.world import ADDRESS_ROLES, ATTACHMENT_TYPES, GM, IP_VERSIONS  # noqa: F401  (re-exported)

MODES = ("all", "positive", "negative")
PHASES = ("examples", "coverage", "fuzzing", "rules", "lifecycle")  # in the order a run starts them
REMOTE_MAX_CREATES = 50  # half the spec's quota of connections per gateway (x-vpnconn-quotas; a test ties the two)
REMOTE_RATE_LIMIT = 10.0  # requests per second to a target that is not on loopback
DEFAULT_CONCURRENCY = 16  # requests in flight: hides a distant target's round trip (the rate limit still holds)
MAX_CONCURRENCY = 64
_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?$")


def _check_target(target: str) -> None:
    """Refuse a URL that HTTP clients could read differently from the safety check: userinfo (`user:pass@`),
    backslashes, whitespace or control characters, anything but a plain host and port. Every client of a run
    is then built from this one string, so the host judged is the host every request goes to."""
    example = "such as http://127.0.0.1:8080"
    if any(c in target for c in "\\ \t\r\n") or not target.isprintable():
        raise SettingsError(f"TARGET must be a plain http(s) URL {example}; it contains a backslash, a space or a control character")
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https"):
        raise SettingsError(f"TARGET must be an http(s) URL {example}, not one with scheme {parts.scheme or 'none'!r}")
    if "@" in parts.netloc:
        raise SettingsError("TARGET must not carry credentials (user:password@); pass TOKEN=... or AK=... SK=... "
                            "(--token/--ak with VPNCONN_SK), which are sent as headers and masked in every output")
    if not _HOST.match(parts.netloc) or not parts.hostname:
        raise SettingsError(f"TARGET must be an http(s) URL with a plain host and port {example}")
    if parts.query or parts.fragment:
        raise SettingsError(f"TARGET must be a base URL without ?query or #fragment, {example}")
    try:
        _ = parts.port  # urlsplit checks the port only when asked
    except ValueError:
        raise SettingsError(f"TARGET has an invalid port; use a number from 1 to 65535, {example}") from None
_ID = re.compile(r"^[0-9A-Za-z]{8}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{12}$")
# the settings that tell what the VPN gateway is (vpnconn.world.told_world), each a `vpnconn contract` and `vpnconn serve`
# option of the same name (contract_tests.command.add_gateway_facts)
GATEWAY_FACTS = ("local_subnets", "vgw_ip_role", "vgw_attachment", "vgw_flavor", "vgw_ip_version")
_FLAVOR = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")  # a gateway flavor: GM, Professional1, Professional2-NonFixedIP, ...



SECRET_VARIABLES = ("VPNCONN_TOKEN", "VPNCONN_AK", "VPNCONN_SK")  # how a user hands over credentials


CA_VARIABLES = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")  # where a user names the CA of an HTTPS target


def trusted_ca() -> str | None:
    """The CA certificates an HTTPS target is verified with, when the environment names any (CA_VARIABLES): both
    HTTP clients of a run use them, whichever of the variables the user set (a machine may set the others to its
    system bundle). Several files are joined into one (CA certificates are public), kept in the temporary folder."""
    files = tuple(f for f in dict.fromkeys(os.environ.get(name, "") for name in CA_VARIABLES) if f and Path(f).is_file())
    if len(files) <= 1:
        return files[0] if files else None
    return _joined(files)


@functools.cache
def _joined(files: tuple[str, ...]) -> str:
    """One bundle of the CA files ``files`` (joined once per process)."""
    joined = b"".join(Path(f).read_bytes().rstrip(b"\n") + b"\n" for f in files)
    path = Path(tempfile.gettempdir()) / f"vpnconn-ca-{hashlib.sha256(joined).hexdigest()[:16]}.pem"
    if not path.is_file():
        partial = path.with_suffix(f".{os.getpid()}.part")
        partial.write_bytes(joined)
        partial.replace(path)
    return str(path)


def environment_without_secrets() -> dict[str, str]:
    """This process's environment for a child process, without the credentials the user passed in it."""
    return {k: v for k, v in os.environ.items() if k not in SECRET_VARIABLES}


@dataclass(frozen=True)
class RunSettings:
    target: str | None = None  # None: start the embedded reference server
    project_id: str = DEFAULT_PROJECT_ID
    token: str | None = None
    ak: str | None = None
    sk: str | None = None
    vgw_id: str = DEFAULT_VGW_ID
    vgw_ip: str = DEFAULT_VGW_IP
    cgw_id: str = DEFAULT_CGW_ID
    # every customer gateway the user named, cgw_id first (--cgw-id a,b): a run holds a connection on each at once;
    # empty: cgw_id alone
    cgw_ids: tuple[str, ...] = ()
    # the VPN gateway's local subnets (IPv4 CIDRs, --local-subnets a,b), where the user knows them: no valid create puts
    # a customer subnet within one (spec rule peer-subnets-outside-local-subnets); empty: none known
    local_subnets: tuple[str, ...] = ()
    # on an active-standby gateway, which of its addresses vgw_ip is (--vgw-ip-role active|standby): every valid create
    # takes the ha_role it needs (spec rule ha-role-matches-gateway-ip); None: an active-active gateway, or not known
    vgw_ip_role: str | None = None
    # what the VPN gateway is, where it is not what the open world takes every gateway for (a VPC-attached, IPv4 gateway
    # of another flavor than GM): attached to an enterprise router (--vgw-attachment er: a POLICY or BGP connection may
    # leave out peer_subnets, and its answers do), GM (--vgw-flavor GM: no psk, certificates) or IPv6 (--vgw-ip-version
    # ipv6: a POLICY connection gives policy_rules_v6); None: not told
    vgw_attachment: str | None = None
    vgw_flavor: str | None = None
    vgw_ip_version: str | None = None
    mode: str = "all"
    examples: int = 100  # fuzzing examples, shared by the generation modes (case_plan.fuzzing_parts)
    seed: int = 0
    allow_create: bool = False
    rule_cases: int = 12  # cases per named rule in the rules phase
    quiet: bool = False
    strict: bool = False  # divergences count as violations
    max_failures: int | None = None  # stop sending after this many failing cases
    request_timeout: float = 10.0  # seconds for one answer
    max_time: float = 600.0  # seconds for the whole run, preflight to the last phase
    ledger_dir: str = ".vpnconn-cache/created"  # where a run notes what it creates (kept if it is killed)
    phases: tuple[str, ...] = PHASES
    max_creates: int | None = None  # creating requests at most; None: no limit on loopback, REMOTE_MAX_CREATES elsewhere
    rate_limit: float | None = None  # requests per second at most; None: none on loopback, REMOTE_RATE_LIMIT elsewhere
    concurrency: int = DEFAULT_CONCURRENCY  # requests in flight at once; the cases and verdicts do not depend on it
    use_cache: bool = True  # read and keep generated cases under .vpnconn-cache/plans (--no-cache: neither)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise SettingsError(f"MODE must be one of {', '.join(MODES)}, not {self.mode!r}")
        if self.examples < 1:
            raise SettingsError(f"EXAMPLES must be a positive number of examples, not {self.examples}")
        if (self.ak is None) != (self.sk is None):
            raise SettingsError("give both AK and SK (AK/SK signing), or neither")
        if self.token and self.ak:
            raise SettingsError("give TOKEN or AK/SK, not both")
        for name, value in (("vgw_id", self.vgw_id), ("cgw_id", self.cgw_id), *(("cgw_id", c) for c in self.cgw_ids)):
            if not _ID.match(value):
                raise SettingsError(f"{name.upper()} must be a 36-character id in UUID layout, not {value!r}")
        if self.cgw_ids and (self.cgw_ids[0] != self.cgw_id or len(set(self.cgw_ids)) != len(self.cgw_ids)):
            raise SettingsError(f"CGW_ID names each customer gateway once, not {','.join(self.cgw_ids)!r}")
        from vpnconn.rules import is_ipv4_cidr

        for cidr in self.local_subnets:
            if not is_ipv4_cidr(cidr):
                raise SettingsError(f"LOCAL_SUBNETS must be IPv4 networks such as 192.168.0.0/16, comma-separated, not {cidr!r}")
        for option, told, allowed in (("VGW_IP_ROLE", self.vgw_ip_role, ADDRESS_ROLES),
                                      ("VGW_ATTACHMENT", self.vgw_attachment, ATTACHMENT_TYPES),
                                      ("VGW_IP_VERSION", self.vgw_ip_version, IP_VERSIONS)):
            if told is not None and told not in allowed:
                raise SettingsError(f"{option} must be {' or '.join(allowed)}, not {told!r}")
        if self.vgw_flavor is not None and (not _FLAVOR.match(self.vgw_flavor) or
                                            (self.vgw_flavor.upper() == GM and self.vgw_flavor != GM)):
            raise SettingsError(f"VGW_FLAVOR must be the gateway's flavor as the VPN gateway API writes it (GM, Professional1, "
                                f"...), not {self.vgw_flavor!r}")
        if not self.project_id or "/" in self.project_id:
            raise SettingsError(f"PROJECT_ID must be a non-empty project id without '/', not {self.project_id!r}")
        if self.max_failures is not None and self.max_failures < 1:
            raise SettingsError(f"MAX_FAILURES must be a positive number of failing cases, not {self.max_failures}")
        if not 0 < self.request_timeout <= 600:
            raise SettingsError(f"REQUEST_TIMEOUT must be between 0 and 600 seconds, not {self.request_timeout}")
        if not 0 < self.max_time <= 86400:
            raise SettingsError(f"MAX_TIME must be between 0 and 86400 seconds, not {self.max_time}")
        if self.target is not None:
            _check_target(self.target)
        unknown = [p for p in self.phases if p not in PHASES]
        if unknown or not self.phases:
            raise SettingsError(f"PHASES must be a comma-separated list of {', '.join(PHASES)}, not {','.join(self.phases)!r}")
        if self.max_creates is not None and self.max_creates < 0:
            raise SettingsError(f"MAX_CREATES must be 0 or more creating requests, not {self.max_creates}")
        if not 1 <= self.concurrency <= MAX_CONCURRENCY:
            raise SettingsError(f"CONCURRENCY must be between 1 and {MAX_CONCURRENCY} requests in flight, not {self.concurrency}")
        if self.rate_limit is not None and not 0 < self.rate_limit <= 10_000:
            raise SettingsError(f"RATE_LIMIT must be between 0 and 10000 requests per second, not {self.rate_limit}")

    @property
    def base_url(self) -> str | None:
        return self.target.rstrip("/") if self.target else None

    @property
    def customer_gateways(self) -> tuple[str, ...]:
        """The customer gateways the user named (cgw_id alone, or every one of --cgw-id a,b), in their order."""
        return self.cgw_ids or (self.cgw_id,)

    @property
    def on_loopback(self) -> bool:
        """The embedded server, or a TARGET on 127.0.0.0/8, ::1 or localhost."""
        if self.target is None:
            return True
        host = urlsplit(self.target).hostname or ""
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False

    @property
    def creates(self) -> bool:
        """May requests that would create a connection be sent? Only on loopback or with ALLOW_CREATE=1."""
        return self.on_loopback or self.allow_create

    @property
    def create_budget(self) -> int | None:
        """How many creating requests the run may send (None: no limit)."""
        return self.max_creates if self.max_creates is not None else None if self.on_loopback else REMOTE_MAX_CREATES

    @property
    def requests_per_second(self) -> float | None:
        return self.rate_limit if self.rate_limit is not None else None if self.on_loopback else REMOTE_RATE_LIMIT

    @property
    def effective_mode(self) -> str:
        return self.mode if self.creates else "negative"

    @property
    def secrets(self) -> list[str]:
        """Values that must never appear unmasked in any output."""
        return [s for s in (self.token, self.ak, self.sk) if s]


def check_report_dir(directory: Path) -> None:
    """Refuse, before the run, a report directory that cannot take the files, and make it (checked again on writing)."""
    if directory.exists() and not directory.is_dir():
        raise SettingsError(f"REPORT {directory} exists and is not a directory")
    probe = directory
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise SettingsError(f"REPORT {directory} lies under {probe}, which is not a directory")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise SettingsError(f"REPORT {directory}: {probe} is not writable")
    try:  # made now: a directory that only making it shows unusable (under /proc, even for root) stops nothing later
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingsError(f"REPORT {directory} cannot be made: {exc.strerror or exc}") from None
    for name in ("junit.xml", "failures.json"):
        if (directory / name).is_symlink():
            raise SettingsError(f"REPORT {directory / name} is a symbolic link; remove it (reports never follow links)")
