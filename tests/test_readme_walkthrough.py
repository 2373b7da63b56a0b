"""The README's walkthrough works exactly as printed: each `sh` block under "Try it" is run as written (the
`make serve ... &` line in the background), and each `make contract` line ends as its comment says."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def walkthrough_blocks() -> list[list[str]]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### Try it"):]
    section = section[:section.index("\n### ", 1)]
    return [block.strip().splitlines() for block in re.findall(r"```sh\n(.*?)```", section, re.S)]


def wait_for_port(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"nothing listens on {port}")


BLOCKS = walkthrough_blocks()


def test_the_walkthrough_has_a_passing_and_a_failing_block():
    assert len(BLOCKS) == 2 and all(len(b) == 2 and b[0].startswith("make serve") for b in BLOCKS)


@pytest.mark.parametrize("block", BLOCKS, ids=["correct-server", "faulty-server"])
def test_each_walkthrough_block_ends_as_its_comment_says(block):
    serve, run = block
    command, expected = (part.strip() for part in run.split("#", 1))
    port = int(re.search(r"PORT=(\d+)", serve).group(1))
    server = subprocess.Popen(serve.rstrip("& "), shell=True, cwd=README.parent, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for_port(port)
        result = subprocess.run(command, shell=True, cwd=README.parent, capture_output=True, text=True, timeout=300,
                                env={k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))})
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    if expected.startswith("PASSED"):
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-1000:]
        assert "PASSED" in result.stdout
    else:
        assert result.returncode == 2 and "FAILED" in result.stdout
        assert expected.split(": ", 1)[1] in result.stdout
