"""pytest plugin: the ``vpnconn_fixture`` fixture loads a fixture by style and scenario.

    def test_client_parses_answer(vpnconn_fixture):
        fixture = vpnconn_fixture("bgp", "canonical")
        assert my_client.parse(fixture.response).style == "BGP"
"""

import pytest

from vpnconn_fixtures import load


@pytest.fixture
def vpnconn_fixture():
    return load
