"""A bare RFC 6455 client on asyncio streams, for tests that need to misbehave:
stop reading, skip pongs, send broken frames or handshakes, reset the TCP
connection. Only what the tests need; no library's politeness in the way."""

import asyncio
import base64
import os
import socket
import struct

TEXT, BINARY, CLOSE, PING, PONG, CONT = 0x1, 0x2, 0x8, 0x9, 0xA, 0x0

OMIT = object()  # a header handshake_request leaves out


def handshake_request(host, port, key=None, version="13", extra="",
                      upgrade="websocket", connection="Upgrade"):
    """An upgrade request (key None: a fresh valid one); a header given as
    OMIT is left out."""
    key = key if key is not None else base64.b64encode(os.urandom(16)).decode()
    fields = [("Upgrade", upgrade), ("Connection", connection),
              ("Sec-WebSocket-Key", key), ("Sec-WebSocket-Version", version)]
    return (
        f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\n"
        + "".join(f"{k}: {v}\r\n" for k, v in fields if v is not OMIT)
        + f"{extra}\r\n"
    ).encode()


def encode_frame(opcode, payload=b"", fin=True, mask=True):
    if isinstance(payload, str):
        payload = payload.encode()
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    bit = 0x80 if mask else 0
    if n < 126:
        head += bytes([bit | n])
    elif n < 65536:
        head += bytes([bit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([bit | 127]) + struct.pack("!Q", n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


class RawClient:
    """One TCP connection speaking WebSocket by hand."""

    def __init__(self, reader, writer):
        self.reader = reader
        self.writer = writer
        self.status = None
        self.headers = b""

    @classmethod
    async def open(cls, port, host="127.0.0.1", rcvbuf=None, handshake=True,
                   bind=None):
        """`bind`: the local address to connect from, e.g. 127.0.0.2."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        if bind:
            sock.bind((bind, 0))
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (host, port))
        reader, writer = await asyncio.open_connection(sock=sock)
        client = cls(reader, writer)
        if handshake:
            await client.handshake(handshake_request(host, port))
            if client.status != 101:
                raise ConnectionError(f"handshake refused: {client.headers!r}")
        return client

    async def handshake(self, request, timeout=5):
        self.writer.write(request)
        await self.writer.drain()
        self.headers = await asyncio.wait_for(
            self.reader.readuntil(b"\r\n\r\n"), timeout)
        self.status = int(self.headers.split(b" ", 2)[1])

    async def send(self, opcode, payload=b"", fin=True, mask=True):
        self.writer.write(encode_frame(opcode, payload, fin, mask))
        await self.writer.drain()

    async def send_text(self, text):
        await self.send(TEXT, text)

    async def recv_frame(self, timeout=5):
        """(fin, opcode, payload) of the next frame from the server."""
        async def read():
            b0, b1 = await self.reader.readexactly(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", await self.reader.readexactly(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", await self.reader.readexactly(8))[0]
            return bool(b0 & 0x80), b0 & 0x0F, await self.reader.readexactly(n)
        return await asyncio.wait_for(read(), timeout)

    async def recv_text(self, timeout=5):
        """The next text frame, answering pings on the way."""
        while True:
            fin, opcode, payload = await self.recv_frame(timeout)
            if opcode == PING:
                await self.send(PONG, payload)
            elif opcode == TEXT:
                return payload.decode()
            else:
                raise AssertionError(f"expected text, got opcode {opcode}")

    async def recv_close(self, timeout=5, skip_text=True):
        """(code, reason) of the server's close frame; other frames skipped."""
        while True:
            fin, opcode, payload = await self.recv_frame(timeout)
            if opcode == CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if payload else None
                return code, payload[2:].decode(errors="replace")
            if not skip_text:
                raise AssertionError(f"expected close, got opcode {opcode}")

    async def closed_by_server(self, timeout=5):
        """True once the server ended the TCP connection (EOF or reset)."""
        try:
            while await asyncio.wait_for(self.reader.read(65536), timeout):
                pass
            return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except asyncio.TimeoutError:
            return False

    def reset(self):
        """Ends the connection with a TCP reset instead of a close."""
        sock = self.writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        struct.pack("ii", 1, 0))
        self.writer.transport.abort()

    async def close(self):
        try:
            await self.send(CLOSE, struct.pack("!H", 1000))
        except (ConnectionError, RuntimeError):
            pass
        self.writer.close()
