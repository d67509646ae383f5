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
import sys
import unittest

import websockets

from test_e2e import RECV_TIMEOUT, ChatNodeTestCase, http_request, metrics

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
        self.assertEqual((status, fields.get("allow")), (405, "GET"))

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


if __name__ == "__main__":
    argv = list(sys.argv)
    if "--node" in argv:
        i = argv.index("--node")
        os.environ["CHAT_NODE"] = argv[i + 1]
        del argv[i : i + 2]
    unittest.main(argv=argv)
