"""The two documented shapes of an error body, and its error code read from either.

The examples and real answers write ``{error_code, error_msg, request_id}`` (the spec's ``Error``); the VPN error
codes page documents ``{code, message}`` (``Error``'s ``x-vpnconn-also-documented``), and the Huawei SDK reads
both. A body in the second shape is the target's other documented choice: the checks read its code as they read
``error_code``, and report the shape as a divergence (``error_body_as_in_the_examples``), never a violation.
"""

from __future__ import annotations

import functools
from typing import Any

import jsonschema_rs

from contract_tests import answer_json
from vpnconn import load_spec

OTHER_SHAPE = "error_body_as_in_the_examples"  # the spec's name for the examples' shape, when a body has the other


@functools.cache
def _error_codes_page_shape() -> Any:
    return jsonschema_rs.Draft202012Validator(load_spec().error_codes_page_body, validate_formats=False)


def in_error_codes_page_shape(body: Any) -> bool:
    """Is ``body`` an error body as the VPN error codes page documents it ({code, message}), not as the examples?"""
    return isinstance(body, dict) and "error_code" not in body and bool(_error_codes_page_shape().is_valid(body))


def error_code_of(body: Any) -> str | None:
    """The error code of an error body in either documented shape (None when it has none)."""
    if not isinstance(body, dict):
        return None
    code = body.get("code") if in_error_codes_page_shape(body) else body.get("error_code")
    return code if isinstance(code, str) else None


def error_code_in(content: bytes) -> str | None:
    """The error code of an answer's body (bytes), in either documented shape; None when it is not JSON or has none."""
    try:
        return error_code_of(answer_json.loads(content))
    except ValueError:
        return None
