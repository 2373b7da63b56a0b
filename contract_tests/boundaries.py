"""Cases at and just past every bound of the spec, and for every enum value, from the constraint inventory.

:func:`at_bound` returns a body whose field sits exactly on a bound (``minimum``, ``maxLength``, ``maxItems``,
...): a correct server accepts it. :func:`past_bound` moves it one step outside: a correct server refuses
it, and the case is labelled with the rule it breaks. Values are built to keep every other rule, so the
bound is the only thing under test.
"""

from __future__ import annotations

import re
from typing import Any

from vpnconn import load_spec
from vpnconn.constraints import Constraint, style_forbidden
from vpnconn.spec import RULE_LISTS

_CLASS_PATTERN = re.compile(r"^\^\[([^^].*)\]\*\$$")
V6_MAX = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff0/128"  # 43 characters, no host bits


def _last(path: tuple[str, ...]) -> str:
    return [p for p in path if p != "[]"][-1]


def _string(path: tuple[str, ...], n: int) -> str:
    last = _last(path)
    if last == "psk":
        return ("Aa1-" * 40)[:n]
    if "v6" in "".join(path) and last in ("peer_subnets_v6", "source", "destination"):
        return V6_MAX if n >= 43 else ("::/0" if n == 4 else "1" * max(n - 3, 1) + "/64")
    return "k" * n


def _items(path: tuple[str, ...], n: int) -> list[Any]:
    last, v6 = _last(path), "v6" in "".join(path)
    if last == "tags":
        return [{"key": f"k{i}", "value": "v"} for i in range(n)]
    if last in RULE_LISTS:
        return [{"source": f"2001:db8:{i + 1:x}::/64" if v6 else f"10.{i}.0.0/24",
                 "destination": ["2001:db8:ffff::/64" if v6 else "192.168.0.0/24"]} for i in range(n)]
    if v6:
        return [f"2001:db8:{i + 1:x}::/64" for i in range(n)]
    return [f"10.{i // 256}.{i % 256}.0/24" for i in range(n)]


def _value(c: Constraint, bound: int) -> Any:
    if c.keyword in ("minimum", "maximum"):
        return bound
    if c.keyword in ("minLength", "maxLength"):
        return _string(c.path, bound)
    return _items(c.path, bound)


def _place(body: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    """Set ``value`` at ``path`` (``[]`` = the first item), creating what is missing on the way."""
    node: Any = body
    steps = list(path)
    for i, step in enumerate(steps[:-1]):
        if step == "[]":
            continue
        following = steps[i + 1]
        if following == "[]":
            if not node.get(step):
                node[step] = _items((step,), 1)
            if i + 2 == len(steps):
                node[step][0] = value
                return
            node = node[step][0]
        else:
            node = node.setdefault(step, {})
    node[steps[-1]] = value


def _prepare(body: dict[str, Any], c: Constraint) -> None:
    conn = body["vpn_connection"]
    if "policy_rules" in c.path or "policy_rules_v6" in c.path:
        conn["style"] = "policy"
        for name in style_forbidden(load_spec())["policy"]:
            conn.pop(name, None)
        conn.setdefault("policy_rules", _items(("policy_rules",), 1))
    last = _last(c.path)
    if last in ("local_id", "peer_id"):
        conn.setdefault("ikepolicy", {})[f"{last}_type"] = "fqdn"


def place(body: dict[str, Any], c: Constraint, value: Any) -> dict[str, Any]:
    """``value`` at the constraint's field, with what the field needs around it (style, id type)."""
    _prepare(body, c)
    _place(body, c.path, value)
    return body


def at_bound(body: dict[str, Any], c: Constraint) -> dict[str, Any]:
    return place(body, c, _value(c, c.value))


def past_bound(body: dict[str, Any], c: Constraint) -> dict[str, Any] | None:
    """One step past the bound, or None where there is no such value (minLength 1 of an optional list)."""
    step = -1 if c.keyword.startswith("min") else 1
    if c.value + step < 0:
        return None
    return place(body, c, _value(c, c.value + step))


def with_enum_value(body: dict[str, Any], c: Constraint, option: str) -> dict[str, Any]:
    """``option`` at the enum's place. (For ``style`` use :meth:`Repairer.restyle`, which knows each style's fields.)"""
    place(body, c, option)
    if c.path[-1] in ("local_id_type", "peer_id_type"):  # the id's shape follows its type: let the server fill it
        body["vpn_connection"]["ikepolicy"].pop(c.path[-1].removesuffix("_type"), None)
    return body


def _class_members(body: str) -> list[str]:
    """Representative characters of a regex character class: each single character, and the first, a middle
    and the last of each range. Escapes: ``\\-``, ``\\uXXXX``, ``\\\\``, ``\\[``, ``\\]``."""
    chars: list[str] = []
    i = 0
    while i < len(body):
        if body.startswith("\\u", i):
            chars.append(chr(int(body[i + 2:i + 6], 16)))
            i += 6
        elif body[i] == "\\":
            chars.append(body[i + 1])
            i += 2
        else:
            chars.append(body[i])
            i += 1
        if len(chars) >= 3 and chars[-2] == "-" and body[i - 1:i] != "-" and _was_range(body, i, chars):
            high, _, low = chars.pop(), chars.pop(), chars.pop()
            chars += [low, chr((ord(low) + ord(high)) // 2), high]
    return list(dict.fromkeys(chars))


def _was_range(body: str, i: int, chars: list[str]) -> bool:
    # a '-' counts as a range only when it was written unescaped between two characters
    j = body.rfind("-", 0, i)
    return j > 0 and body[j - 1] != "\\"


def charset_values(pattern: str, min_length: int, max_length: int) -> list[str]:
    """Values that together use every documented character of a ``^[...]*$`` pattern (none for other patterns)."""
    match = _CLASS_PATTERN.match(pattern)
    if not match:
        return []
    members = _class_members(match.group(1))
    text = "".join(members)
    size = max(min_length, min(max_length, 32))
    return [text[k:k + size].ljust(min_length, members[0]) for k in range(0, len(text), size)]
