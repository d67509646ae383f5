#!/usr/bin/python3
"""End-to-end tests of what chat-node serves over plain HTTP on its own port,
and of its Origin check, against real nodes on 127.0.0.1.

    /usr/bin/python3 tests/e2e/test_http.py --node build/chat-node -v

Reuses the node, client and HTTP helpers of test_e2e.py. HTTP is spoken over raw
asyncio streams: nothing here reads proxy settings.
"""

import asyncio
import json
import os
import struct
import sys
import time
import unittest
from pathlib import Path

import websockets

from test_e2e import RECV_TIMEOUT, ChatNodeTestCase, http_request, metrics

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "reliability"))
from rawws import CLOSE, TEXT, RawClient, handshake_request  # noqa: E402


async def raw_exchange(port, request):
    """Sends `request` as it is and returns every byte the node sends back
    until it closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), RECV_TIMEOUT)
    finally:
        writer.close()


def parse_head(head):
    status_line, *lines = head.decode("latin-1").split("\r\n")
    fields = {}
    for line in lines:
        key, _, value = line.partition(":")
        fields[key.strip().lower()] = value.strip()
    return int(status_line.split()[1]), fields

class HttpEndpointTests(ChatNodeTestCase):
    async def test_plain_requests_get_page_health_metrics_or_404(self):
        node = await self.start_node()
        status, fields, body = await http_request(node.port, "/")
        self.assertEqual(status, 200)
        self.assertEqual(fields["content-type"], "text/html; charset=utf-8")
        self.assertIn('<script src="/app.js"', body)
        for path in ("/app.js", "/style.css"):
            status, _, _ = await http_request(node.port, path)
            self.assertEqual(status, 200, path)
        for path in ("/nope", "/chat", "/metrics/x", "/index"):
            status, _, _ = await http_request(node.port, path)
            self.assertEqual(status, 404, path)
        status, fields, _ = await http_request(node.port, "/", method="POST")
        self.assertEqual((status, fields.get("allow")), (405, "GET, HEAD"))

        status, fields, body = await http_request(node.port, "/healthz")
        self.assertEqual(status, 200)
        self.assertEqual(fields["content-type"], "application/json")
        health = json.loads(body)
        self.assertEqual(health["status"], "ok")
        self.assertEqual(health["sessions"], 0)
        self.assertIsInstance(health["uptime_seconds"], int)

        # None of that was a session: the first WebSocket is still Client 1.
        c1 = await self.connect(node, 1)
        values = await metrics(node.port)
        self.assertEqual(values["chat_http_requests_total"], 10)
        self.assertEqual(values["chat_connections_accepted_total"], 1)
        self.assertEqual(values["chat_sessions_connected"], 1)
        self.assertEqual(values["chat_frames_sent_total"], 1)  # You are …
        await c1.close()

    async def test_head_gets_gets_headers_and_length_and_not_one_body_byte(self):
        """RFC 7231 4.1: HEAD wherever GET is served (the node answered 405);
        RFC 7230 3.3: GET's Content-Length, and no body on the wire."""
        node = await self.start_node()
        for path in ("/", "/index.html", "/app.js", "/style.css", "/healthz",
                     "/metrics", "/healthz?probe=1", "/nope"):
            raw = await raw_exchange(
                node.port, f"HEAD {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            head, end, after = raw.partition(b"\r\n\r\n")
            self.assertEqual((end, after), (b"\r\n\r\n", b""), f"HEAD {path}: {raw[:200]!r}")
            status, fields = parse_head(head)
            get_status, get_fields, get_body = await http_request(node.port, path)
            self.assertEqual(status, get_status, path)
            self.assertEqual(fields["content-type"], get_fields["content-type"], path)
            length = int(fields["content-length"])
            if path.startswith(("/healthz", "/metrics")):
                # Their figures (uptime, requests) may gain a digit in between.
                self.assertLessEqual(abs(length - len(get_body.encode())), 1, path)
            else:
                self.assertEqual(length, len(get_body.encode()), path)

    async def test_other_methods_get_405_allowing_get_and_head(self):
        node = await self.start_node()
        for method in ("POST", "PUT", "DELETE", "OPTIONS", "PATCH"):
            status, fields, body = await http_request(
                node.port, "/healthz", method=method, headers=["Content-Length: 0"])
            self.assertEqual((status, fields.get("allow")), (405, "GET, HEAD"), method)
            self.assertEqual(int(fields["content-length"]), len(body.encode()))

    async def test_a_websocket_opens_on_any_path(self):
        node = await self.start_node()
        ws = await websockets.connect(
            f"ws://127.0.0.1:{node.port}/chat/room?x=1", open_timeout=RECV_TIMEOUT
        )
        try:
            self.assertEqual(await asyncio.wait_for(ws.recv(), RECV_TIMEOUT), "You are Client 1")
        finally:
            await ws.close()

    async def test_healthz_and_metrics_follow_sessions_and_frames(self):
        node = await self.start_node()
        c1, c2 = await self.connect_many(node, 2)
        await c1.say("one")
        await c2.expect_where(lambda f: f.endswith(" one"), "the line")
        await c2.say("page")
        await c1.expect("PAGING")
        _, _, body = await http_request(node.port, "/healthz")
        self.assertEqual(json.loads(body)["sessions"], 2)
        values = await metrics(node.port)
        self.assertEqual(values["chat_frames_received_total"], 2)
        self.assertEqual(values["chat_deliveries_total"], 1)
        self.assertEqual(values["chat_pages_active"], 1)
        await c1.say("stop")
        await c2.expect_where(lambda f: f.endswith(" stop"), "the line")
        await c2.close()
        await c1.expect("Client 2 disconnected", skip=("PAGING",))
        _, _, body = await http_request(node.port, "/healthz")
        self.assertEqual(json.loads(body)["sessions"], 1)
        values = await metrics(node.port)
        self.assertEqual(values["chat_pages_active"], 0)
        self.assertEqual(values["chat_deliveries_total"], 2)
        self.assertEqual(values["chat_sessions_connected"], 1)

    async def test_unfinished_http_requests_do_not_hold_up_the_chat(self):
        node = await self.start_node()
        # Twenty clients that send half a request and then nothing.
        stalled = []
        for _ in range(20):
            _, writer = await asyncio.open_connection("127.0.0.1", node.port)
            writer.write(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
            stalled.append(writer)
        try:
            c1, c2 = await self.connect_many(node, 2)
            sent_at = await c1.say("still fast")
            await self.expect_relay(c2, c1, "still fast", sent_at)
            status, _, _ = await http_request(node.port, "/healthz")
            self.assertEqual(status, 200)
        finally:
            for writer in stalled:
                writer.close()


class OriginTests(ChatNodeTestCase):
    async def open(self, node, origin):
        kwargs = {"origin": origin} if origin else {}
        return await websockets.connect(
            f"ws://127.0.0.1:{node.port}/", open_timeout=RECV_TIMEOUT, **kwargs
        )

    async def test_without_a_list_every_origin_may_connect(self):
        node = await self.start_node()
        ws = await self.open(node, "https://elsewhere.example")
        self.assertEqual(await asyncio.wait_for(ws.recv(), RECV_TIMEOUT), "You are Client 1")
        await ws.close()

    async def test_only_listed_origins_may_open_a_websocket(self):
        node = await self.start_node(
            "--allowed-origins=http://good.example, https://Chat.Example.com/"
        )
        for n, origin in enumerate(["http://good.example", "https://chat.example.com"], 1):
            ws = await self.open(node, origin)
            self.assertEqual(await asyncio.wait_for(ws.recv(), RECV_TIMEOUT), f"You are Client {n}")
            await ws.close()
        for origin in ["https://evil.example", "http://good.example:8080", "null"]:
            with self.assertRaises(websockets.exceptions.InvalidStatusCode) as caught:
                await self.open(node, origin)
            self.assertEqual(caught.exception.status_code, 403, origin)
        # A terminal client sends no Origin: it is no browser page.
        ws = await self.open(node, None)
        self.assertEqual(await asyncio.wait_for(ws.recv(), RECV_TIMEOUT), "You are Client 3")
        await ws.close()
        values = await metrics(node.port)
        self.assertEqual(values["chat_connections_refused_total"], 3)
        self.assertEqual(values["chat_connections_accepted_total"], 3)
        # The page itself is still served to anyone.
        status, _, _ = await http_request(node.port, "/", headers=["Origin: https://evil.example"])
        self.assertEqual(status, 200)


class AddressLimitTests(ChatNodeTestCase):
    """--max-clients-per-address: loopback has a whole /8, so each client
    binds its own 127.x address."""

    refusals = 0

    async def raw_from(self, node, address):
        c = await RawClient.open(node.port, handshake=False, bind=address)
        self.addAsyncCleanup(c.close)
        await c.handshake(handshake_request("127.0.0.1", node.port))
        return c

    async def admitted_from(self, node, address, timeout=5):
        """A session from `address`, once the node admits one: it may not
        have counted the last one that left yet."""
        deadline = time.monotonic() + timeout
        while True:
            c = await self.raw_from(node, address)
            if c.status == 101:
                self.assertTrue((await c.recv_text()).startswith("You are Client"))
                return c
            self.assertEqual(c.status, 429, c.headers)
            self.refusals += 1
            self.assertLess(time.monotonic(), deadline, f"{address} never admitted")
            await asyncio.sleep(0.02)

    async def test_one_address_gets_n_sessions_and_each_leaver_makes_room(self):
        node = await self.start_node("--max-clients-per-address=2")
        a1 = await self.admitted_from(node, "127.0.0.2")
        a2 = await self.admitted_from(node, "127.0.0.2")
        a3 = await self.raw_from(node, "127.0.0.2")
        self.assertEqual(a3.status, 429, a3.headers)
        body = await asyncio.wait_for(a3.reader.read(), RECV_TIMEOUT)
        self.assertEqual(
            body, b"too many connections from 127.0.0.2: 2 open, the most one "
                  b"address may have; close one and try again\n")
        # Other addresses count apart.
        await self.admitted_from(node, "127.0.0.3")
        await self.admitted_from(node, "127.0.0.3")
        c = await self.connect(node, 5)  # from 127.0.0.1
        values = await metrics(node.port)
        self.assertEqual(values["chat_address_limit_refusals_total"], 1)
        self.assertEqual(values["chat_connections_refused_total"], 1)
        self.assertEqual(values["chat_sessions_connected"], 5)
        # Every way a session ends gives its place back: a clean close...
        await a1.send(CLOSE, struct.pack("!H", 1000))
        self.assertEqual((await a1.recv_close())[0], 1000)
        self.assertTrue(await a1.closed_by_server())
        a1 = await self.admitted_from(node, "127.0.0.2")
        # ... a TCP reset ...
        a2.reset()
        a2 = await self.admitted_from(node, "127.0.0.2")
        # ... and the node closing it (an unmasked frame: 1002).
        await a1.send(TEXT, "naked", mask=False)
        self.assertEqual((await a1.recv_close())[0], 1002)
        a1 = await self.admitted_from(node, "127.0.0.2")
        # Nothing counted twice or lost: full again at two.
        extra = await self.raw_from(node, "127.0.0.2")
        self.assertEqual(extra.status, 429)
        values = await metrics(node.port)
        self.assertEqual(values["chat_address_limit_refusals_total"], 2 + self.refusals)
        self.assertEqual(values["chat_sessions_connected"], 5)
        await c.say("still here")

    async def test_without_the_option_one_address_is_not_limited(self):
        node = await self.start_node()
        for _ in range(5):
            await self.admitted_from(node, "127.0.0.2")
        values = await metrics(node.port)
        self.assertEqual(values["chat_address_limit_refusals_total"], 0)


if __name__ == "__main__":
    argv = list(sys.argv)
    if "--node" in argv:
        i = argv.index("--node")
        os.environ["CHAT_NODE"] = argv[i + 1]
        del argv[i : i + 2]
    unittest.main(argv=argv)
