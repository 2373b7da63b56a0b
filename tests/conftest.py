"""Shared fixtures of the toolkit's own tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vpnconn import load_spec
from vpnconn.world import World, load_world

CASES = Path(__file__).parent / "spec_cases"


def case_files(folder: str) -> list[Path]:
    return sorted((CASES / folder).glob("*.json"))


def read_case(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def spec():
    return load_spec()


@pytest.fixture(scope="session")
def case_world() -> World:
    return load_world(CASES / "world.yaml")
