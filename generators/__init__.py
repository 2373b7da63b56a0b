"""Fixture generators: the spec's scenarios for every style, rendered into the forms other repos use.

`make fixtures` writes ``fixtures/``; `make check` regenerates into a temporary folder and compares;
`make pack` builds ``dist/vpnconn-fixtures-<version>.tar.gz``.
"""

# What the committed fixtures are generated with (the manifest records them). Here, not in ``fixture_files``,
# so that every `vpnconn` command can show them in its --help without loading the generators (jinja2, the
# scenario builder and the reference server: ~0.15 s of every command's start).
DEFAULT_SEED = 20251127
DEFAULT_PER_STYLE = 5
