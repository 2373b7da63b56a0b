"""The server writes each answer in one send: its head and body together, every byte in order.

uvicorn writes an answer's head and body with two writes; the reference server's connections join the writes of
one step of the event loop (`reference_server.one_write`). These tests watch the transport's writes directly: on a
socket, both writes arrive together anyway whenever the client reads late, so a socket cannot tell them apart.
"""

from __future__ import annotations

import asyncio
import json

import uvicorn
from support import PATH, TOKEN

from reference_server import ReferenceServer
from reference_server.limits import DEFAULT_LIMITS, guarded_protocol
from reference_server.one_write import JOIN_BELOW, OneWritePerStep


class RecordingTransport(asyncio.Transport):
    """A transport that keeps what is written to it."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name, default=None):
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8080)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def test_writes_made_in_one_step_go_out_as_one_and_later_ones_apart():
    async def scenario() -> tuple[list[bytes], list[bytes], list[bytes]]:
        transport = RecordingTransport()
        joined = OneWritePerStep(transport, asyncio.get_running_loop())
        joined.write(b"HTTP/1.1 200 OK\r\n\r\n")
        joined.write(b"first")
        held = list(transport.writes)  # nothing yet: the step is not over
        await asyncio.sleep(0)
        after_step = list(transport.writes)
        joined.write(bytearray(b"second"))
        joined.close()  # what is pending goes out before the connection closes
        return held, after_step, transport.writes

    held, after_step, writes = asyncio.run(scenario())
    assert held == []
    assert after_step == [b"HTTP/1.1 200 OK\r\n\r\nfirst"]
    assert writes == [b"HTTP/1.1 200 OK\r\n\r\nfirst", b"second"]


def test_a_large_write_goes_at_once_after_what_is_pending_without_being_joined():
    async def scenario() -> list[bytes]:
        transport = RecordingTransport()
        joined = OneWritePerStep(transport, asyncio.get_running_loop())
        joined.write(b"HTTP/1.1 200 OK\r\n\r\n")
        joined.write(b"x" * JOIN_BELOW)  # (a long list page)
        return list(transport.writes)

    assert asyncio.run(scenario()) == [b"HTTP/1.1 200 OK\r\n\r\n", b"x" * JOIN_BELOW]


def test_nothing_is_written_to_a_transport_already_closing():
    async def scenario() -> list[bytes]:
        transport = RecordingTransport()
        joined = OneWritePerStep(transport, asyncio.get_running_loop())
        joined.write(b"late")
        transport.closed = True  # the peer went away within the step
        await asyncio.sleep(0)
        return transport.writes

    assert asyncio.run(scenario()) == []


def test_the_servers_answer_to_a_create_is_one_write_of_head_and_body(spec):
    """The reference server's own protocol, fed one create by hand: its transport sees one write, the whole answer."""

    async def scenario() -> RecordingTransport:
        app = ReferenceServer()
        protocol_class = guarded_protocol(DEFAULT_LIMITS, app.errors, None)
        config = uvicorn.Config(app, http=protocol_class, lifespan="off", access_log=False, log_level="warning")
        protocol = protocol_class(config, uvicorn.server.ServerState(), {}, asyncio.get_running_loop())
        transport = RecordingTransport()
        protocol.connection_made(transport)
        body = json.dumps(spec.examples("request")["static"]).encode()
        headers = "".join(f"{name}: {value}\r\n" for name, value in TOKEN.items())
        protocol.data_received(f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Content-Type: application/json\r\n"
                               f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        for _ in range(100):  # the app's task, then the flush: a few steps of the loop
            if transport.writes:
                break
            await asyncio.sleep(0)
        await asyncio.sleep(0)
        protocol.connection_lost(None)
        return transport

    transport = asyncio.run(scenario())
    assert len(transport.writes) == 1, transport.writes
    head, _, body = transport.writes[0].partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 201 ")
    assert json.loads(body)["vpn_connection"]["id"]
