"""Draw a pattern's strings without keeping what its groups matched.

hypothesis' regex strategy keeps the value each capturing group drew, in case a backreference (``\\1``, ``(?P=n)``)
or a conditional (``(?(1)...)``) reads it: a composite draw around every group of every string it draws. The
spec's address patterns have up to forty groups and nothing that reads one, and the fuzzing phase draws thousands
of such strings (py-spy: ``update_group`` and ``clear_cache_after_draw`` under most of a planning worker's draws).
A group written non-capturing, ``(?:...)``, matches the same strings, so the strategy of the pattern so rewritten
draws strings of the same language with fewer draws: the fuzzing phase is generated about a fifth faster. Which
strings a seed draws changes (a plan's key holds this module's source, so no plan drawn before is read), never
which strings can be drawn: the rewritten pattern matches the strings the spec's own pattern matches, and only those
(a test holds it for every pattern of the spec, and that the plan's strings match the spec's patterns).

Like ``regex_memo``, it replaces ``regex_strategy`` of hypothesis' private regex module, whose signature is
checked first: with another hypothesis version it installs nothing. Install it before ``regex_memo`` (as
``case_plan.generate`` does), so that the memo keeps the strategies built from the rewritten patterns.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

_EXPECTED = ["regex", "fullmatch", "alphabet", "_temp_jsonschema_hack_no_end_newline"]
_original: Any = None  # what regex_strategy was before install(): hypothesis' own function
_READS_A_GROUP = re.compile(r"\\[1-9]|\(\?P=|\(\?\(")  # a backreference or a conditional: groups are kept


def without_groups(pattern: str) -> str:
    """``pattern`` with each plain capturing group ``(...)`` written ``(?:...)``; the pattern itself where something
    reads a group (or there is none). Escapes and character classes are copied as they are."""
    if "(" not in pattern or _READS_A_GROUP.search(pattern):
        return pattern
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            out.append(char)
            i += 1
            for literal in ("^", "]"):  # a class's leading ^ and a ] right after its start are not its end
                if pattern.startswith(literal, i):
                    out.append(literal)
                    i += 1
            continue
        elif char == "(" and not pattern.startswith("(?", i):
            out.append("(?:")
            i += 1
            continue
        out.append(char)
        i += 1
    return "".join(out)


def _without_groups(regex: Any, fullmatch: bool, *, alphabet: Any, _temp_jsonschema_hack_no_end_newline: bool = False) -> Any:
    pattern = regex if isinstance(regex, re.Pattern) else re.compile(regex)
    if isinstance(pattern.pattern, str) and pattern.groups:
        rewritten = without_groups(pattern.pattern)
        if rewritten != pattern.pattern:
            pattern = re.compile(rewritten, pattern.flags)
    return _original(pattern, fullmatch, alphabet=alphabet, _temp_jsonschema_hack_no_end_newline=_temp_jsonschema_hack_no_end_newline)


def _module() -> Any:
    from hypothesis.strategies._internal import regex  # (here, not at the top: see regex_memo)

    return regex


def install() -> bool:
    """Draw every pattern without its groups from now on in this process (once); True when on."""
    global _original
    if _original is not None:
        return True
    module = _module()
    if list(inspect.signature(module.regex_strategy).parameters) != _EXPECTED:
        return False  # another hypothesis: leave it alone
    _original = module.regex_strategy
    module.regex_strategy = _without_groups
    return True
