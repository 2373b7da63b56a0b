"""The toolkit's exceptions: one hierarchy, so that a command can tell a user's mistake from a bug.

    VpnconnError                 a problem the user can fix; a command prints it as one line, exit 2
    ├── SpecError                the spec (or one of its x-vpnconn-* extensions) is missing or malformed
    ├── WorldError               a world file is missing, unsafe or malformed
    ├── SettingsError            an option of a run is wrong
    ├── TargetError              the target cannot be judged: unreachable, wrong base URL, refused credentials
    └── PublishError             a publishing step cannot run or would publish something wrong

Anything else that escapes a command is a bug of the toolkit (exit 3).
"""

from __future__ import annotations


class VpnconnError(Exception):
    """Base of every error a user can fix. ``str(error)`` is one line that says what to change."""


class SpecError(VpnconnError):
    """The spec file is missing, is not YAML, is not valid OpenAPI 3.1, or an x-vpnconn-* extension is wrong."""


class WorldError(VpnconnError):
    """A world file cannot be read, is unsafe to read, or does not follow docs/world-file.md."""


class SettingsError(VpnconnError, ValueError):
    """A user mistake in the options of a run: one line that says what to change."""


class TargetError(VpnconnError):
    """The target cannot be judged (unreachable, not this API, credentials refused): exit 2."""


class PublishError(VpnconnError):
    """A publishing step failed (a tool missing, no changelog entry, a version already published)."""
