#!/usr/bin/python3
"""chat-node with --tls-cert/--tls-key: wss:// and https:// on its one port.

A CA and server certificates made by Debian's `openssl` command in a temporary
directory; chat over wss:// (python3-websockets, the reference client,
chat-client), the page, /healthz and /metrics over https://, a plain client on
the TLS port refused with a readable 400, SIGHUP reloading the certificate
while clients stay connected (and a bad file keeping the old pair), and the
PROTOCOL.md behaviours that end connections (1009, shutdown) over TLS.

Run: /usr/bin/python3 tests/e2e/test_tls.py --node build/chat-node -v
(chat-client is taken from the same directory as chat-node, or $CHAT_CLIENT).
"""

import asyncio
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import test_e2e  # noqa: E402  (the node and client helpers)
from test_e2e import (  # noqa: E402
    RECV_TIMEOUT, SHUTDOWN_LINE, EXIT_TIMEOUT, ChatNodeTestCase, Client, websockets,
)

REFERENCE_CLIENT = HERE / "reference_client.py"
REFUSAL = "This port speaks TLS: use wss:// or https:// to reach it.\n"


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30)


class Certificates:
    """A test CA and two server certificates for localhost/127.0.0.1 ("a" and
    "b"), plus a CA that signed nothing of ours ("other")."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="chat-tls-test-"))
        self._ca("ca")
        self._ca("other")
        for name in ("a", "b"):
            self._server(name)

    def _ca(self, name):
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2",
                "-subj", f"/CN=chat test CA {name}", cwd=self.dir)

    def _server(self, name):
        (self.dir / "san.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", f"{name}-key.pem", "-out", f"{name}.csr",
                "-subj", f"/CN=localhost {name}", cwd=self.dir)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", f"{name}-cert.pem", "-days", "2",
                "-extfile", "san.ext", cwd=self.dir)

    def path(self, name):
        return str(self.dir / name)

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def client_binary():
    path = os.environ.get("CHAT_CLIENT")
    if path:
        return Path(path)
    return test_e2e.node_binary().parent / "chat-client"


def der(pem_text):
    return ssl.PEM_cert_to_DER_cert(pem_text)


class TlsTestCase(ChatNodeTestCase):
    @classmethod
    def setUpClass(cls):
        cls.certs = Certificates()

    @classmethod
    def tearDownClass(cls):
        cls.certs.remove()

    def setUp(self):
        # The node reads its pair from here, so a test may replace the files.
        self.live = Path(tempfile.mkdtemp(prefix="chat-tls-live-"))
        self.addCleanup(shutil.rmtree, self.live, True)
        self.use_pair("a")
        self.ctx = ssl.create_default_context(cafile=self.certs.path("ca.pem"))

    def use_pair(self, name):
        shutil.copy(self.certs.path(f"{name}-cert.pem"), self.live / "cert.pem")
        shutil.copy(self.certs.path(f"{name}-key.pem"), self.live / "key.pem")

    async def start_tls_node(self, *extra):
        node = await self.start_node(f"--tls-cert={self.live / 'cert.pem'}",
                                     f"--tls-key={self.live / 'key.pem'}", *extra)
        node.url = f"wss://localhost:{node.port}/"
        return node

    async def connect(self, node, number, room=(), skip=()):
        started = time.monotonic()
        try:
            ws = await websockets.connect(node.url, ssl=self.ctx, open_timeout=RECV_TIMEOUT,
                                          close_timeout=1, ping_interval=None, max_size=None)
        except Exception as exc:
            self.fail(f"cannot open a wss session to {node.url}: {exc!r}\n"
                      f"node stderr:\n{node.stderr_tail()}")
        client = Client(ws, number, started, time.monotonic())
        self.addAsyncCleanup(client.close)
        await client.expect(f"You are Client {number}", skip=skip)
        for other in room:
            await other.expect(f"Client {number} connected", skip=skip)
        return client

    async def https(self, port, target):
        """GET `target` over TLS; (status, body)."""
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=self.ctx, server_hostname="localhost")
        try:
            writer.write(f"GET {target} HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n".encode())
            await writer.drain()
            raw = await asyncio.wait_for(reader.read(), RECV_TIMEOUT)
        finally:
            writer.close()
        head, _, body = raw.partition(b"\r\n\r\n")
        return int(head.split()[1]), body.decode("utf-8")

    async def served_certificate(self, port):
        def fetch():
            with ssl.create_connection(("127.0.0.1", port), timeout=RECV_TIMEOUT) as sock:
                with self.ctx.wrap_socket(sock, server_hostname="localhost") as tls:
                    return tls.getpeercert(binary_form=True)
        return await asyncio.get_running_loop().run_in_executor(None, fetch)

    async def raw_tls_session(self, node, rcvbuf=None):
        """A WebSocket session over TLS by hand: (reader, writer) after the
        101, for a client that does what no library would (never read,
        never answer a ping)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", node.port))
        reader, writer = await asyncio.open_connection(
            sock=sock, ssl=self.ctx, server_hostname="localhost")
        self.addCleanup(writer.close)
        writer.write(b"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                     b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     b"Sec-WebSocket-Version: 13\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), RECV_TIMEOUT)
        self.assertTrue(head.startswith(b"HTTP/1.1 101"), head)
        return reader, writer

    async def wait_stderr(self, node, text, timeout=RECV_TIMEOUT):
        deadline = time.monotonic() + timeout
        while text not in node.stderr_tail(50):
            if time.monotonic() > deadline:
                self.fail(f"node did not say {text!r} on stderr; stderr:\n{node.stderr_tail()}")
            await asyncio.sleep(0.02)


class WssTests(TlsTestCase):
    async def test_chat_page_healthz_and_metrics_over_tls(self):
        node = await self.start_tls_node()
        c1, c2 = await self.connect_many(node, 2)
        sent = await c1.say("over TLS")
        await self.expect_relay(c2, c1, "over TLS", sent)
        status, body = await self.https(node.port, "/")
        self.assertEqual(status, 200)
        self.assertIn("<html", body.lower())
        status, body = await self.https(node.port, "/healthz")
        self.assertEqual(status, 200)
        self.assertIn('"sessions":2', body)
        status, body = await self.https(node.port, "/metrics")
        self.assertEqual(status, 200)
        self.assertIn("chat_sessions_connected 2", body)

    async def test_the_pair_from_the_config_file(self):
        ini = self.live / "node.ini"
        ini.write_text(f'tls-cert="{self.live / "cert.pem"}"\n'
                       f'tls-key="{self.live / "key.pem"}"\n')
        node = await self.start_node(f"--config-file={ini}")
        node.url = f"wss://localhost:{node.port}/"
        await self.connect(node, 1)

    async def test_a_wrong_ca_is_refused_and_tls_1_1_too(self):
        node = await self.start_tls_node()
        other = ssl.create_default_context(cafile=self.certs.path("other.pem"))
        with self.assertRaises(ssl.SSLCertVerificationError):
            await websockets.connect(node.url, ssl=other, open_timeout=RECV_TIMEOUT)
        old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        old.load_verify_locations(self.certs.path("ca.pem"))
        old.minimum_version = ssl.TLSVersion.TLSv1
        old.maximum_version = ssl.TLSVersion.TLSv1_1
        with self.assertRaises(ssl.SSLError):
            await websockets.connect(node.url, ssl=old, open_timeout=RECV_TIMEOUT)
        await self.connect(node, 1)  # the node lives on; no session was opened

    async def test_the_reference_client_over_wss(self):
        node = await self.start_tls_node()
        c1 = await self.connect(node, 1)
        env = dict(os.environ, SSL_CERT_FILE=self.certs.path("ca.pem"))
        ref = await asyncio.create_subprocess_exec(
            sys.executable, str(REFERENCE_CLIENT), node.url, env=env,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        self.addAsyncCleanup(self._end, ref)
        await self._expect_line(ref, "< You are Client 2")
        await c1.expect("Client 2 connected")
        ref.stdin.write(b"from the reference client\n")
        await ref.stdin.drain()
        frame = await c1.recv()
        self.assertTrue(frame.endswith(" from the reference client"), frame)
        await c1.say("back to you")
        await self._expect_line(ref, "< 0 back to you", prefix_ok=True)

    async def test_chat_client_over_wss_with_ca_file(self):
        binary = client_binary()
        if not binary.exists():
            self.skipTest(f"no chat-client at {binary}")
        node = await self.start_tls_node()
        c1 = await self.connect(node, 1)
        proc = await asyncio.create_subprocess_exec(
            str(binary), "--ca-file", self.certs.path("ca.pem"), node.url,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        self.addAsyncCleanup(self._end, proc)
        await self._expect_line(proc, "< You are Client 2")
        await c1.expect("Client 2 connected")
        proc.stdin.write(b"typed over TLS\n")
        await proc.stdin.drain()
        frame = await c1.recv()
        self.assertTrue(frame.endswith(" typed over TLS"), frame)
        proc.stdin.close()
        self.assertEqual(await asyncio.wait_for(proc.wait(), EXIT_TIMEOUT), 0)
        # A CA that did not sign the node's certificate: refused, and said why.
        proc = await asyncio.create_subprocess_exec(
            str(binary), "--ca-file", self.certs.path("other.pem"), node.url,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        _, err = await asyncio.wait_for(proc.communicate(), EXIT_TIMEOUT)
        self.assertEqual(proc.returncode, 4)
        self.assertIn("certificate verify failed", err.decode())

    async def _expect_line(self, proc, line, prefix_ok=False):
        deadline = time.monotonic() + RECV_TIMEOUT
        seen = []
        while time.monotonic() < deadline:
            try:
                raw = await asyncio.wait_for(proc.stdout.readline(),
                                             deadline - time.monotonic())
            except asyncio.TimeoutError:
                break
            if not raw:
                break
            text = raw.decode().rstrip("\n")
            while text.startswith("> "):  # the reference client's prompts
                text = text[2:]
            seen.append(text)
            if text == line or (prefix_ok and text.startswith("< ") and
                                text.split(" ", 2)[-1] == line.split(" ", 2)[-1]):
                return
        self.fail(f"expected {line!r}, saw {seen!r}")

    async def _end(self, proc):
        if proc.returncode is None:
            proc.kill()
            await proc.wait()

    async def test_a_frame_over_the_limit_is_closed_with_1009_over_tls(self):
        node = await self.start_tls_node("--max-message-bytes=1000")
        c1, c2 = await self.connect_many(node, 2)
        await c1.say("x" * 1001)
        await c1.expect_close(1009)
        await c2.expect("Client 1 disconnected")

    async def test_shutdown_over_tls_says_goodbye_and_exits(self):
        node = await self.start_tls_node()
        c1, c2 = await self.connect_many(node, 2)
        started = time.monotonic()
        node.signal(signal.SIGTERM)
        for c in (c1, c2):
            await c.expect(SHUTDOWN_LINE, skip=("Client 1 disconnected", "Client 2 disconnected"))
            await c.expect_close(1001)
        self.assertEqual(await node.wait_exit(EXIT_TIMEOUT), 0)
        self.assertLess(time.monotonic() - started, 2.0, "TLS shutdown took longer than plain")


class BacklogOverTlsTests(TlsTestCase):
    async def test_a_tls_client_that_stops_reading_is_dropped_others_keep_up(self):
        """The backlog cap holds over TLS: a reader with a 4 KiB receive
        buffer that never reads is closed once its backlog passes the cap;
        a listener gets every line, in order; the session is gone soon after."""
        cap = 256 * 1024
        node = await self.start_tls_node(f"--max-backlog-bytes={cap}",
                                          "--max-frames-per-second=0")
        _, slow = await self.raw_tls_session(node, rcvbuf=4096)
        slow_port = slow.get_extra_info("sockname")[1]
        # Client 1 (the slow one) reads nothing from here on.
        sender = await self.connect(node, 2)
        listener = await self.connect(node, 3, room=[sender])
        line = "x" * 4000
        got = []

        async def listen():  # reads all the time: only the slow one lags
            while True:
                frame = await listener.recv(expecting="the next line")
                if frame != "Client 1 disconnected":
                    got.append(frame)

        reading = asyncio.create_task(listen())
        self.addCleanup(reading.cancel)
        pushed = 0
        deadline = time.monotonic() + 10
        while True:
            values = {}
            for row in (await self.https(node.port, "/metrics"))[1].splitlines():
                name, _, value = row.partition(" ")
                if value.isdigit():
                    values[name] = int(value)
            if values.get("chat_slow_consumer_drops_total", 0) >= 1:
                dropped = time.monotonic()
                break
            self.assertLess(time.monotonic(), deadline, "the slow reader was never dropped")
            for _ in range(20):
                await sender.say(f"{pushed} {line}")
                pushed += 1
            # The listener keeps up (a Python client decrypts slower than
            # the node sends): only the slow one's backlog grows.
            while len(got) < pushed - 20 and not reading.done():
                self.assertLess(time.monotonic(), deadline, "the listener fell behind")
                await asyncio.sleep(0.005)
        while len(got) < pushed and time.monotonic() < deadline + RECV_TIMEOUT:
            if reading.done():
                self.fail(f"the listener stopped: {reading.exception()!r}")
            await asyncio.sleep(0.02)
        reading.cancel()
        self.assertEqual([f.split(" ", 2)[1] for f in got], [str(k) for k in range(pushed)],
                         "the listener got every line, in order")
        self.assertEqual(values.get("chat_slow_consumer_drops_total"), 1, "only the slow one")
        deadline = time.monotonic() + 2 + 1 + RECV_TIMEOUT  # close timeout + 1 s
        while True:
            _, body = await self.https(node.port, "/healthz")
            if '"sessions":2' in body:
                break
            self.assertLess(time.monotonic(), deadline, f"the slow session stays: {body}")
            await asyncio.sleep(0.05)
        # And the node's socket to it, with what the kernel queued: reset
        # within the close timeout and a second, as over ws://.
        while (left := test_e2e.server_side_socket(node, slow_port)) is not None:
            self.assertLess(time.monotonic() - dropped, 2 + 1,
                            f"the node's socket to the slow reader stays: {left}")
            await asyncio.sleep(0.05)


class KeepaliveOverTlsTests(TlsTestCase):
    async def test_a_tls_client_that_answers_no_ping_stays_while_its_host_acknowledges(self):
        """Keepalive asks the kernel over TLS as over ws://: a client that
        reads but never answers a ping is pinged again and again and kept (its
        host's TCP acknowledges), and still gets the room's lines."""
        interval = 0.3
        node = await self.start_tls_node("--ping-interval=300ms", "--pong-timeout=300ms")
        reader, _ = await self.raw_tls_session(node)
        other = await self.connect(node, 2)
        opcodes, texts = [], []
        deadline = time.monotonic() + 3 * 2 * interval + 0.2
        while (remaining := deadline - time.monotonic()) > 0:
            try:  # unmasked server frames, short ones only
                b0, b1 = await asyncio.wait_for(reader.readexactly(2), remaining)
            except asyncio.TimeoutError:
                break
            payload = await reader.readexactly(b1 & 0x7F)
            opcodes.append(b0 & 0x0F)
            self.assertNotEqual(b0 & 0x0F, 0x8, f"closed: {payload!r}")
        self.assertGreaterEqual(opcodes.count(0x9), 3, "pinged every period")
        await other.say("still here")
        deadline = time.monotonic() + RECV_TIMEOUT
        while not texts or not texts[-1].endswith("still here"):
            self.assertLess(time.monotonic(), deadline, f"the line never came: {texts}")
            b0, b1 = await asyncio.wait_for(reader.readexactly(2), RECV_TIMEOUT)
            payload = await reader.readexactly(b1 & 0x7F)
            self.assertNotEqual(b0 & 0x0F, 0x8, f"closed: {payload!r}")
            if b0 & 0x0F == 0x1:
                texts.append(payload.decode())
        status, body = await self.https(node.port, "/metrics")
        self.assertIn("chat_ping_timeouts_total 0", body)
        self.assertNotIn("chat_busy_clients_kept_total 0\n", body)


class PlainOnTlsPortTests(TlsTestCase):
    async def test_a_plain_http_request_gets_400_saying_use_tls(self):
        node = await self.start_tls_node()
        started = time.monotonic()
        status, fields, body = await test_e2e.http_request(node.port, "/healthz")
        self.assertEqual(status, 400)
        self.assertEqual(body, REFUSAL)
        self.assertLess(time.monotonic() - started, 1.0, "the refusal must not wait")

    async def test_a_plain_ws_client_is_refused_not_hung(self):
        node = await self.start_tls_node()
        with self.assertRaises(websockets.exceptions.InvalidStatusCode) as caught:
            await websockets.connect(f"ws://127.0.0.1:{node.port}/", open_timeout=RECV_TIMEOUT)
        self.assertEqual(caught.exception.status_code, 400)
        await self.connect(node, 1)  # and TLS clients are still served


class ReloadTests(TlsTestCase):
    async def test_sighup_serves_the_new_pair_and_keeps_every_client(self):
        node = await self.start_tls_node()
        c1, c2 = await self.connect_many(node, 2)
        a = der(Path(self.certs.path("a-cert.pem")).read_text())
        b = der(Path(self.certs.path("b-cert.pem")).read_text())
        self.assertEqual(await self.served_certificate(node.port), a)
        self.use_pair("b")
        node.signal(signal.SIGHUP)
        await self.wait_stderr(node, "SIGHUP: reloaded")
        self.assertEqual(await self.served_certificate(node.port), b)
        # The two from before are still there, both ways.
        sent = await c1.say("still here")
        await self.expect_relay(c2, c1, "still here", sent)
        sent = await c2.say("me too")
        await self.expect_relay(c1, c2, "me too", sent)
        c3 = await self.connect(node, 3, room=[c1, c2])
        # A bad file: the node says so and keeps serving b.
        (self.live / "cert.pem").write_text("not a certificate\n")
        node.signal(signal.SIGHUP)
        await self.wait_stderr(node, "keeping the certificate and key loaded before")
        self.assertIn(str(self.live / "cert.pem"), node.stderr_tail(5))
        self.assertEqual(await self.served_certificate(node.port), b)
        # A key of another certificate is refused the same way.
        self.use_pair("a")
        shutil.copy(self.certs.path("b-key.pem"), self.live / "key.pem")
        node.signal(signal.SIGHUP)
        await self.wait_stderr(node, f"TLS key {self.live / 'key.pem'}: key values mismatch")
        self.assertEqual(await self.served_certificate(node.port), b)
        sent = await c3.say("after the bad reloads")
        await self.expect_relay(c1, c3, "after the bad reloads", sent)
        await self.expect_relay(c2, c3, "after the bad reloads", sent)

    async def test_sighup_without_tls_says_so_and_does_not_stop_the_node(self):
        node = await self.start_node()
        node.signal(signal.SIGHUP)
        await self.wait_stderr(node, "nothing to reload")
        status, _, _ = await test_e2e.http_request(node.port, "/healthz")
        self.assertEqual(status, 200)
        self.assertIsNone(node.proc.returncode)

    async def test_a_bad_pair_at_start_is_a_clear_error(self):
        (self.live / "key.pem").write_text("junk\n")
        proc = await asyncio.create_subprocess_exec(
            str(test_e2e.node_binary()), "--port=0",
            f"--tls-cert={self.live / 'cert.pem'}", f"--tls-key={self.live / 'key.pem'}",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        _, err = await asyncio.wait_for(proc.communicate(), EXIT_TIMEOUT)
        self.assertEqual(proc.returncode, 1)
        self.assertIn(f"TLS key {self.live / 'key.pem'}", err.decode())


if __name__ == "__main__":
    argv = list(sys.argv)
    for i, a in enumerate(list(argv)):
        if a == "--node" and i + 1 < len(argv):
            os.environ["CHAT_NODE"] = argv[i + 1]
            del argv[i:i + 2]
            break
        if a.startswith("--node="):
            os.environ["CHAT_NODE"] = a.split("=", 1)[1]
            argv.remove(a)
            break
    unittest.main(argv=argv)
