"""Fixtures of the toolkit's own tests: the spec, the test world, reference servers in threads."""

from __future__ import annotations

import httpx
import pytest
from support import CASES, TOKEN

from reference_server import ReferenceServer, running_server
from vpnconn import load_spec
from vpnconn.world import World, load_world


@pytest.fixture(scope="session")
def spec():
    return load_spec()


@pytest.fixture(scope="session")
def case_world() -> World:
    return load_world(CASES / "world.yaml")


@pytest.fixture(scope="session")
def open_server():
    """The embedded server in its open world: (app, base_url). Shared by tests that create the same examples again and
    again, so without the quotas (a gateway address and a customer gateway hold one connection): tests of the quotas
    start servers of their own (tests/server/test_lifecycle.py, test_store.py)."""
    app = ReferenceServer(quotas=False)
    with running_server(app) as url:
        yield app, url


@pytest.fixture(scope="session")
def world_server(case_world):
    """A server whose world is spec/cases/world.yaml: (app, base_url); without the quotas, as ``open_server``."""
    app = ReferenceServer(world=case_world, quotas=False)
    with running_server(app) as url:
        yield app, url


@pytest.fixture(scope="session")
def client(open_server):
    with httpx.Client(base_url=open_server[1], headers=TOKEN, timeout=10) as c:
        yield c


@pytest.fixture(scope="session")
def world_client(world_server):
    with httpx.Client(base_url=world_server[1], headers=TOKEN, timeout=10) as c:
        yield c
