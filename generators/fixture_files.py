"""`vpnconn fixtures`: write fixtures/, or (``check``) compare it with fresh output and report, never writing."""

from __future__ import annotations

from pathlib import Path

from generators import DEFAULT_PER_STYLE, DEFAULT_SEED
from generators.render import render_all
from generators.scenarios import ScenarioBuilder
from vpnconn import load_spec
from vpnconn.spec import REPO_ROOT

FIXTURES = REPO_ROOT / "fixtures"


def generate(seed: int = DEFAULT_SEED, per_style: int = DEFAULT_PER_STYLE) -> dict[str, bytes]:
    spec = load_spec()
    return render_all(spec, ScenarioBuilder(spec, seed, per_style).all(), seed, per_style)


def write(output: dict[str, bytes], target: Path = FIXTURES) -> tuple[int, int]:
    """Write the files and remove any file the output no longer has: (written, removed)."""
    existing = {p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()} if target.exists() else set()
    for stale in sorted(existing - output.keys()):
        (target / stale).unlink()
    for path, data in output.items():
        file = target / path
        file.parent.mkdir(parents=True, exist_ok=True)
        if not file.exists() or file.read_bytes() != data:
            file.write_bytes(data)
    for directory in sorted((p for p in target.rglob("*") if p.is_dir()), reverse=True):
        if not any(directory.iterdir()):
            directory.rmdir()
    return len(output), len(existing - output.keys())


def drift(output: dict[str, bytes], target: Path = FIXTURES) -> dict[str, list[str]]:
    """Differences between the committed folder and fresh output: changed, missing, orphaned."""
    existing = {p.relative_to(target).as_posix(): p for p in target.rglob("*") if p.is_file()} if target.exists() else {}
    return {
        "changed": sorted(p for p in output.keys() & existing.keys() if existing[p].read_bytes() != output[p]),
        "missing": sorted(output.keys() - existing.keys()),
        "orphaned": sorted(existing.keys() - output.keys()),
    }


def run_fixtures(check: bool, seed: int, per_style: int) -> int:
    output = generate(seed, per_style)
    if check:
        found = drift(output)
        problems = sum(len(v) for v in found.values())
        if not problems:
            print(f"ok   fixtures: {len(output)} files equal fresh output (seed {seed})")
            return 0
        print("FAIL fixtures differ from what the generators emit: run 'make fixtures' (never edit fixtures/ by hand)")
        for kind, paths in found.items():
            for path in paths[:10]:
                print(f"     {kind}: fixtures/{path}")
            if len(paths) > 10:
                print(f"     ... and {len(paths) - 10} more {kind}")
        return 1
    written, removed = write(output)
    print(f"fixtures/: {written} files from {sum(1 for p in output if p.endswith('request.http'))} scenarios "
          f"(seed {seed}); {removed} stale files removed")
    return 0
