"""`vpnconn pack`: dist/vpnconn-fixtures-<version>.tar.gz, reproducible byte for byte, with a .sha256.

The archive is a source distribution: `pip install dist/vpnconn-fixtures-<version>.tar.gz` gives the
``vpnconn_fixtures`` package (a loader API and a pytest plugin) with the fixtures as package data. Entries
are sorted, owned by 0:0 with fixed modes and times, and gzip carries no name or time.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from pathlib import Path

from generators.fixture_files import DEFAULT_PER_STYLE, DEFAULT_SEED, generate
from vpnconn import __version__, load_spec
from vpnconn.spec import REPO_ROOT

SKELETON = Path(__file__).parent / "pack_skeleton"
DIST = REPO_ROOT / "dist"


def pack_entries(fixtures: dict[str, bytes]) -> dict[str, bytes]:
    root = f"vpnconn-fixtures-{__version__}"
    pyproject = (SKELETON / "pyproject.toml.in").read_text().replace("@VERSION@", __version__)
    pyproject = pyproject.replace("@SPEC_VERSION@", load_spec().version)
    entries = {
        f"{root}/pyproject.toml": pyproject.encode(),
        f"{root}/README.md": fixtures["README.md"],
        f"{root}/PKG-INFO": f"Metadata-Version: 2.1\nName: vpnconn-fixtures\nVersion: {__version__}\n".encode(),
    }
    for module in sorted((SKELETON / "vpnconn_fixtures").glob("*.py")):
        entries[f"{root}/vpnconn_fixtures/{module.name}"] = module.read_bytes()
    for path, data in fixtures.items():
        entries[f"{root}/vpnconn_fixtures/data/{path}"] = data
    return entries


def archive(entries: dict[str, bytes]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(entries):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(entries[name]), 0, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(entries[name]))
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def run_pack(dist: Path = DIST) -> int:
    data = archive(pack_entries(generate(DEFAULT_SEED, DEFAULT_PER_STYLE)))
    dist.mkdir(parents=True, exist_ok=True)
    target = dist / f"vpnconn-fixtures-{__version__}.tar.gz"
    target.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    (dist / f"{target.name}.sha256").write_text(f"{digest}  {target.name}\n")
    print(f"{target.relative_to(REPO_ROOT) if target.is_relative_to(REPO_ROOT) else target}: {len(data)} bytes, sha256 {digest}")
    return 0
