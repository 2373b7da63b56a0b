"""A target's answer body read as JSON, whatever the target sends.

``json.loads`` raises ``ValueError`` for most of what is not JSON, but ``RecursionError`` for arrays or objects
nested deeper than the interpreter's stack (``[[[[...]]]]``, a few thousand deep), which a target may well send:
every reading of an answer's body goes through :func:`loads`, where that is "not JSON" too.
"""

from __future__ import annotations

import json
from typing import Any


def loads(content: bytes | str) -> Any:
    """``json.loads(content)``; ``ValueError`` for anything it cannot read, nesting too deep for it included."""
    try:
        return json.loads(content)
    except RecursionError:
        raise ValueError("JSON nested too deeply to read") from None
