"""Seeded valid request bodies from schemathesis' own generation (positive mode).

hypothesis-jsonschema 0.23.1 breaks with the pinned Hypothesis 6.170 (engineering notes), so schemathesis'
generator is used. The same seed, spec and library versions give the same bodies; the scenario builder then
repairs them to keep the named rules, and the tests prove each one valid.

Generation runs in a fresh interpreter with a fixed ``PYTHONHASHSEED``: within a long-lived process (a test
session after contract runs, say) the bodies came out differently, because set ordering and other process
state reach Hypothesis. A fresh process makes ``make fixtures`` and the drift check agree by construction.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from typing import Any

from vpnconn.numbers import whole_floats_as_integers
from vpnconn.spec import REPO_ROOT


def _without_our_extensions(node: Any) -> Any:
    """The document without ``x-vpnconn-*`` keys: they say nothing about the shape of a body, and leaving them
    in would change the generated bodies whenever a provenance or a rule's wording changes."""
    if isinstance(node, dict):
        return {k: _without_our_extensions(v) for k, v in node.items() if not k.startswith("x-vpnconn-")}
    if isinstance(node, list):
        return [_without_our_extensions(v) for v in node]
    return node


def generated_bodies(seed: int, count: int) -> list[dict[str, Any]]:
    """``count`` bodies for ``seed``, generated in a fresh interpreter (see the module's note)."""
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    result = subprocess.run([sys.executable, "-m", "generators.property_cases", str(seed), str(count)], cwd=REPO_ROOT,
                            env=env, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"property generation failed: {result.stderr.strip()[-500:]}")
    # Hypothesis draws an integer field as 1358.0 at times: written as the integer it is (vpnconn.numbers)
    return [whole_floats_as_integers(body) for body in json.loads(result.stdout)]


def _generate(seed: int, count: int) -> list[dict[str, Any]]:
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed
    from schemathesis import GenerationMode

    from vpnconn.spec import load_spec

    spec = load_spec()
    # only the create operation: adding another operation to the spec must not change the bodies drawn
    document = _without_our_extensions({**spec.document, "paths": {spec.create.path: {spec.create.method.lower(): spec.create.node}}})
    operation = schemathesis.openapi.from_dict(document)[spec.create.path][spec.create.method]
    bodies: list[dict[str, Any]] = []

    @hypothesis_seed(seed)
    @settings(max_examples=count * 4, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
    def collect(case: Any) -> None:
        if len(bodies) < count and isinstance(case.body, dict) and isinstance(case.body.get("vpn_connection"), dict):
            bodies.append(copy.deepcopy(case.body))

    collect()
    if len(bodies) < count:
        raise RuntimeError(f"schemathesis gave {len(bodies)} usable bodies, {count} were asked for")
    return bodies


if __name__ == "__main__":
    print(json.dumps(_generate(int(sys.argv[1]), int(sys.argv[2]))))
