"""What a contract run is pointed at, and with what: validated once, with messages that name the fix."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

MODES = ("all", "positive", "negative")
_ID = re.compile(r"^[0-9A-Za-z]{8}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{12}$")

# Resources the embedded server accepts (its open world has every well-formed id). Obviously fake.
DEFAULT_VGW_ID = "b32d91a4-52c8-4b17-a8df-e907174eb11d"
DEFAULT_VGW_IP = "0c464dad-7f31-4a6e-9c84-c22bb0eb0bde"
DEFAULT_CGW_ID = "5247ae10-93e1-4c6b-b1b2-dd36659a7f5d"
DEFAULT_PROJECT_ID = "0123456789abcdef0123456789abcdef"


class SettingsError(ValueError):
    """A user mistake in the run's options: one line that says what to change."""


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
    mode: str = "all"
    examples: int = 100  # max examples per schemathesis fuzzing mode
    seed: int = 0
    report_dir: Path | None = None
    allow_create: bool = False
    rule_cases: int = 12  # cases per named rule in the rules phase
    quiet: bool = False
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise SettingsError(f"MODE must be one of {', '.join(MODES)}, not {self.mode!r}")
        if self.examples < 1:
            raise SettingsError(f"EXAMPLES must be a positive number of examples, not {self.examples}")
        if (self.ak is None) != (self.sk is None):
            raise SettingsError("give both AK and SK (AK/SK signing), or neither")
        if self.token and self.ak:
            raise SettingsError("give TOKEN or AK/SK, not both")
        for name in ("vgw_id", "cgw_id"):
            if not _ID.match(getattr(self, name)):
                raise SettingsError(f"{name.upper()} must be a 36-character id in UUID layout, not {getattr(self, name)!r}")
        if not self.project_id or "/" in self.project_id:
            raise SettingsError(f"PROJECT_ID must be a non-empty project id without '/', not {self.project_id!r}")
        if self.target is not None:
            parts = urlsplit(self.target)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise SettingsError(f"TARGET must be an http(s) URL such as http://127.0.0.1:8080, not {self.target!r}")

    @property
    def base_url(self) -> str | None:
        return self.target.rstrip("/") if self.target else None

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
    def effective_mode(self) -> str:
        return self.mode if self.creates else "negative"

    @property
    def secrets(self) -> list[str]:
        """Values that must never appear unmasked in any output."""
        return [s for s in (self.token, self.sk) if s]
