"""Layers import downward only (ARCHITECTURE.md): the core imports nothing above it; the server, the contract
harness and the generators import the core and not each other (the generators may use the server's public
names); only the commands wire them together. Read from the source, so a new import is caught at once."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = {  # package -> the project packages it may import
    "vpnconn": {"vpnconn"},
    "reference_server": {"vpnconn", "reference_server"},
    "contract_tests": {"vpnconn", "contract_tests"},
    "generators": {"vpnconn", "generators", "reference_server"},
    "commands": {"vpnconn", "reference_server", "contract_tests", "generators", "commands"},
}
PUBLIC_SERVER_NAMES = {"ReferenceServer", "Reject", "Identity", "running_server", "timestamp"}


def project_imports(path: Path) -> list[tuple[str, list[str]]]:
    """(imported module, names) for every import of a project package in ``path``, nested ones included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [alias.name for alias in node.names]))
    return [(module, names) for module, names in found if module.split(".")[0] in LAYERS]


@pytest.mark.parametrize("package", list(LAYERS))
def test_a_layer_imports_only_the_layers_below_it(package):
    wrong = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for module, names in project_imports(path):
            top = module.split(".")[0]
            if top not in LAYERS[package]:
                wrong.append(f"{path.relative_to(ROOT)} imports {module}")
            elif package == "generators" and top == "reference_server" and (
                    module != "reference_server" or set(names) - PUBLIC_SERVER_NAMES):
                wrong.append(f"{path.relative_to(ROOT)} reaches into {module} ({', '.join(names)}), not the server's public names")
    assert wrong == []


def test_the_layer_test_sees_a_wrong_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from contract_tests.runner import run_contract\n")
    assert project_imports(bad) == [("contract_tests.runner", ["run_contract"])]
