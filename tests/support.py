"""Helpers shared by the toolkit's tests (fixtures live in conftest.py)."""

from __future__ import annotations

import json
from pathlib import Path

CASES = Path(__file__).resolve().parent.parent / "spec" / "cases"
PATH = "/v5/0123456789abcdef0123456789abcdef/vpn-connection"
TOKEN = {"X-Auth-Token": "test-token-0000"}


def case_files(folder: str) -> list[Path]:
    return sorted((CASES / folder).glob("*.json"))


def read_case(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))
