"""`vpnconn pack`: dist/vpnconn-fixtures-<version>.tar.gz and dist/vpnconn_fixtures-<version>-py3-none-any.whl,
each reproducible byte for byte, each with a .sha256.

Both install the ``vpnconn_fixtures`` package (a loader API and a pytest plugin) with the fixtures as package
data: the source archive through setuptools, the wheel with nothing but pip (offline). Entries are sorted,
with fixed owners, modes and times; gzip carries no name or time; the wheel is written here, not by a build
backend, so that its bytes depend only on its content.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import tarfile
import zipfile
from pathlib import Path

from generators import DEFAULT_PER_STYLE, DEFAULT_SEED
from generators.fixture_files import generate
from vpnconn import __version__, load_spec
from vpnconn.spec import REPO_ROOT

SKELETON = Path(__file__).parent / "pack_skeleton"
DIST = REPO_ROOT / "dist"


def package_files(fixtures: dict[str, bytes]) -> dict[str, bytes]:
    """The ``vpnconn_fixtures`` package as both artefacts carry it: the loader's modules and the fixtures as data."""
    files = {f"vpnconn_fixtures/{m.name}": m.read_bytes() for m in sorted((SKELETON / "vpnconn_fixtures").glob("*.py"))}
    files.update({f"vpnconn_fixtures/data/{path}": data for path, data in fixtures.items()})
    return files


def pack_entries(fixtures: dict[str, bytes]) -> dict[str, bytes]:
    root = f"vpnconn-fixtures-{__version__}"
    pyproject = (SKELETON / "pyproject.toml.in").read_text().replace("@VERSION@", __version__)
    pyproject = pyproject.replace("@SPEC_VERSION@", load_spec().version)
    entries = {
        f"{root}/pyproject.toml": pyproject.encode(),
        f"{root}/README.md": fixtures["README.md"],
        f"{root}/PKG-INFO": f"Metadata-Version: 2.1\nName: vpnconn-fixtures\nVersion: {__version__}\n".encode(),
    }
    entries.update({f"{root}/{name}": data for name, data in package_files(fixtures).items()})
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


def wheel_entries(fixtures: dict[str, bytes]) -> dict[str, bytes]:
    """The files of the wheel: the package, its data, and the .dist-info (METADATA, WHEEL, entry points, RECORD)."""
    info = f"vpnconn_fixtures-{__version__}.dist-info"
    entries = package_files(fixtures)
    summary = f"Request/response fixtures of Huawei Cloud VPN connections (spec {load_spec().version}), from vpnconn-contract"
    entries[f"{info}/METADATA"] = (f"Metadata-Version: 2.1\nName: vpnconn-fixtures\nVersion: {__version__}\nSummary: {summary}\n"
                                   "Requires-Python: >=3.9\nDescription-Content-Type: text/markdown\n\n").encode() + fixtures["README.md"]
    entries[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: vpnconn-contract\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    entries[f"{info}/entry_points.txt"] = b"[pytest11]\nvpnconn_fixtures = vpnconn_fixtures.pytest_plugin\n"
    record = [f"{name},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},{len(data)}"
              for name, data in sorted(entries.items())]
    entries[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
    return entries


def wheel(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name in sorted(entries, key=lambda n: (".dist-info/" in n, n)):  # the .dist-info last, as the spec advises
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr, info.compress_type, info.create_system = 0o644 << 16, zipfile.ZIP_DEFLATED, 3
            zf.writestr(info, entries[name], compresslevel=9)
    return out.getvalue()


def run_pack(dist: Path = DIST) -> int:
    fixtures = generate(DEFAULT_SEED, DEFAULT_PER_STYLE)
    dist.mkdir(parents=True, exist_ok=True)
    for name, data in ((f"vpnconn-fixtures-{__version__}.tar.gz", archive(pack_entries(fixtures))),
                       (f"vpnconn_fixtures-{__version__}-py3-none-any.whl", wheel(wheel_entries(fixtures)))):
        target = dist / name
        target.write_bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        (dist / f"{name}.sha256").write_text(f"{digest}  {name}\n")
        print(f"{target.relative_to(REPO_ROOT) if target.is_relative_to(REPO_ROOT) else target}: {len(data)} bytes, sha256 {digest}")
    return 0
