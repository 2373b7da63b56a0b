"""Tell schemathesis' coverage phase which IPv4 patterns already imply the ``ipv4`` format.

For a string schema with both a ``format`` and a ``pattern``, the coverage phase looks for an "invalid format"
value: one the pattern admits and the format refuses. When every value the pattern admits is valid for the
format there is none. schemathesis knows this for the formats it has probes for (``uuid``, ``date``: its
``_pattern_implies_format`` tries the pattern on valid values and on near misses, and gives up at once when
it admits a valid one and no near miss); for ``ipv4`` it has none, so it searches with hypothesis until hypothesis
gives up: 4 s of the 10 s the default plan's examples and coverage took on this machine (py-spy, and a timer
around its ``_negative_format``), for no case. The spec's ``Ipv4Address`` is such a schema.

This module adds probes for ``ipv4`` in the same form: addresses the format accepts, and near misses an
IPv4 pattern must refuse (an octet over 255 or with a leading zero, too few or too many octets, a sign, a
space, a newline or a character around it, a prefix length). A pattern that admits one of them still gets its
search, so an invalid-format case that exists for a looser pattern is still drawn. The cases drawn are the same,
case for case (a test generates a plan with and without it). The probe values are facts of IPv4 text
(RFC 791's dotted decimal, as Python's ``ipaddress`` reads it), not constraints of the API.

It extends a private table of schemathesis (``_FORMAT_PROBES``), whose shape is checked first: with another
schemathesis version that lacks it, or already probes ``ipv4``, it changes nothing and generation is merely slower.
"""

from __future__ import annotations

from typing import Any

VALID = ("192.168.0.1", "10.0.0.10", "0.0.0.0", "255.255.255.255")
NEAR_MISSES = ("256.0.0.1", "1.2.3.256", "999.1.1.1", "01.2.3.4", "1.2.3.04", "1.2.3", "1.2.3.4.5", "1..2.3",
               "1.2.3.4/24", "x1.2.3.4", "1.2.3.4x", " 1.2.3.4", "1.2.3.4 ", "1.2.3.4\n", "+1.2.3.4", "1.2.3.-4")


def install() -> bool:
    """Add the ``ipv4`` probes to schemathesis' coverage phase; True when they are in place."""
    try:
        from schemathesis.specs.openapi.coverage import _schema
    except ImportError:
        return False
    probes: Any = getattr(_schema, "_FORMAT_PROBES", None)
    if not isinstance(probes, dict) or not callable(getattr(_schema, "_pattern_implies_format", None)):
        return False
    if "ipv4" not in probes and all(isinstance(v, tuple) and len(v) == 2 for v in probes.values()):
        probes["ipv4"] = (VALID, NEAR_MISSES)
    return probes.get("ipv4") == (VALID, NEAR_MISSES)
