"""Fixture generators: the spec's scenarios for every style, rendered into the forms other repos use.

`make fixtures` writes ``fixtures/``; `make check` regenerates into a temporary folder and compares;
`make pack` builds ``dist/vpnconn-fixtures-<version>.tar.gz``.
"""
