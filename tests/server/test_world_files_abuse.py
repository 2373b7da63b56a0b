"""A world file is read safely: aliases (the YAML "billion laughs"), oversized, non-UTF-8 and deeply nested
files are refused with one line naming the problem, by the loader and by `vpnconn serve` (exit 2)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from vpnconn.world import WorldError, load_world

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True))


@pytest.mark.parametrize("content, words", [
    (BOMB.encode(), "YAML alias"),
    (b"gateways: [\xff\xfe]\n", "not UTF-8"),
    (b"[" * 20000 + b"]" * 20000, "nested too deeply"),
    (b"# padding\n" * 40000, "larger than"),
    (b"gateways: [: :\n", "not YAML"),
], ids=["alias-bomb", "not-utf8", "deep", "too-large", "not-yaml"])
def test_an_abusive_world_file_is_one_clear_error(tmp_path, content, words):
    path = tmp_path / "world.yaml"
    path.write_bytes(content)
    with pytest.raises(WorldError, match=words):
        load_world(path)
    result = subprocess.run([sys.executable, "-m", "commands.cli", "serve", "--port", "0", "--world", str(path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and words in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
