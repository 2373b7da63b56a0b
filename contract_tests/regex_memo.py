"""Build each regex strategy once per planning process, not once per draw.

schemathesis' negative and coverage generation asks hypothesis for ``from_regex(pattern, alphabet=...)``
inside its draws, with a fresh alphabet object each time, so hypothesis' own strategy cache misses and the
pattern is parsed and its strategy tree rebuilt on every draw: a third of the fuzzing phase's generation time
on this spec (py-spy: ``regex_strategy`` under ``LazyStrategy.wrapped_strategy``). A strategy depends only on
the pattern, its flags, ``fullmatch`` and the alphabet's characters, and hypothesis strategies are immutable,
so one built strategy serves every draw that asks for the same. The cases drawn are the same, case for case
(a test generates a plan with and without it), only faster: fuzzing 14.5 s -> 8.8 s, coverage 10.3 s -> 8.5 s
for the default plan on the benchmark machine.

It replaces one function of hypothesis' private regex module (``regex_strategy``), whose signature is checked
first: with another hypothesis version it installs nothing and generation is merely slower.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

_EXPECTED = ["regex", "fullmatch", "alphabet", "_temp_jsonschema_hack_no_end_newline"]
_MAX = 1024  # patterns are few (tens per spec); the bound only guards against a pathological spec
_built: dict[tuple[Any, ...], Any] = {}
_original: Any = None  # hypothesis' own function, once install() has looked it up


def _memoized(regex: Any, fullmatch: bool, *, alphabet: Any, _temp_jsonschema_hack_no_end_newline: bool = False) -> Any:
    pattern = regex if isinstance(regex, re.Pattern) else re.compile(regex)
    characters = getattr(alphabet, "intervals", None)
    if alphabet is not None and characters is None:  # an alphabet this cannot compare by value: not shared
        return _original(regex, fullmatch, alphabet=alphabet,
                         _temp_jsonschema_hack_no_end_newline=_temp_jsonschema_hack_no_end_newline)
    key = (type(pattern.pattern), pattern.pattern, pattern.flags, fullmatch, type(alphabet), characters,
           _temp_jsonschema_hack_no_end_newline)
    strategy = _built.get(key)
    if strategy is None:
        if len(_built) >= _MAX:
            _built.clear()
        strategy = _built[key] = _original(regex, fullmatch, alphabet=alphabet,
                                           _temp_jsonschema_hack_no_end_newline=_temp_jsonschema_hack_no_end_newline)
    return strategy


def _module() -> Any:
    # imported here, not at the top: importing it reads hypothesis' character tables, which must not happen
    # while pytest loads a conftest
    from hypothesis.strategies._internal import regex

    return regex


def install() -> bool:
    """Share built regex strategies from now on in this process ; True when on."""
    global _original
    module = _module()
    if module.regex_strategy is _memoized:
        return True
    if list(inspect.signature(module.regex_strategy).parameters) != _EXPECTED:
        return False  # another hypothesis: leave it alone
    _original = module.regex_strategy
    module.regex_strategy = _memoized
    return True


def installed() -> bool:
    return _module().regex_strategy is _memoized


def uninstall() -> None:
    """Back to hypothesis' own function (tests compare the two)."""
    if installed():
        _module().regex_strategy = _original
    _built.clear()
