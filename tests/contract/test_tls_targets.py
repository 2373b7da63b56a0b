"""An HTTPS target whose certificate a private CA signed (an emulator, a test gateway): the run verifies it with the
CA the environment names, whichever of SSL_CERT_FILE, REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE the user set (each of
the run's two HTTP clients read a different one, so one variable made the preflight pass and every case fail, or
the other way round); without it, the run says the certificate is not trusted, where it said "connection
refused or no route". The certificates are made here (trustme), for 127.0.0.1 only."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import tls_server, trusting_only

from contract_tests import RunSettings, run_contract
from contract_tests.settings import CA_VARIABLES, trusted_ca
from reference_server.app import ReferenceServer
from vpnconn.errors import TargetError


@pytest.fixture(scope="module")
def tls_target(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """The reference server over HTTPS on 127.0.0.1 with a certificate of a CA of its own: (its URL, the CA's file)."""
    with tls_server(ReferenceServer(token="t"), tmp_path_factory.mktemp("tls")) as served:
        yield served


@contextlib.contextmanager
def only(monkeypatch, variable: str | None, value: str | None = None) -> Iterator[None]:
    trusting_only(monkeypatch, variable, value)
    yield


def run_on(url: str):
    return run_contract(RunSettings(target=url, token="t", phases=("rules",)), progress=lambda _: None, live=False)


@pytest.mark.parametrize("variable", CA_VARIABLES)
def test_the_ca_named_by_any_one_variable_verifies_the_target(tls_target, monkeypatch, variable):
    url, ca = tls_target
    with only(monkeypatch, variable, ca):
        result = run_on(url)
    assert result.exit_code == 0 and all(r.answered for r in result.records) and len(result.records) > 100


def test_an_untrusted_certificate_is_named_as_such(tls_target, monkeypatch):
    url, _ = tls_target
    with only(monkeypatch, None), pytest.raises(TargetError, match=r"its TLS certificate is not trusted .*SSL_CERT_FILE="):
        run_on(url)


def test_several_named_files_are_trusted_together(tmp_path, monkeypatch):
    first, second = tmp_path / "a.pem", tmp_path / "b.pem"
    first.write_text("-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n")
    second.write_text("-----BEGIN CERTIFICATE-----\nB\n-----END CERTIFICATE-----")
    with only(monkeypatch, "SSL_CERT_FILE", first):
        assert trusted_ca() == str(first)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(second))
        monkeypatch.setenv("CURL_CA_BUNDLE", str(tmp_path / "missing.pem"))  # (a file that is not there: skipped)
        joined = Path(str(trusted_ca()))
        assert joined.read_text() == first.read_text() + second.read_text() + "\n"
    with only(monkeypatch, None):
        assert trusted_ca() is None
