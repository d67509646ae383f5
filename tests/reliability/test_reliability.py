#!/usr/bin/python3
"""Reliability tests: chat-node under slow consumers, floods, stale and
half-open connections, a full house, churn and shutdown under load, over
real sockets on 127.0.0.1. Each test starts its own node and is bounded in
time. Figures are printed (`figure: ...`) for docs/RELIABILITY.md.

Run: /usr/bin/python3 tests/reliability/test_reliability.py --node build/chat-node
Longer runs: CHAT_CHURN_CYCLES=100000 CHAT_SHUTDOWN_CLIENTS=1000 (scripts/soak).
"""

import asyncio
import os
import random
import resource
import signal
import statistics
import struct
import sys
import time
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "e2e"))
sys.path.insert(0, str(HERE))

import websockets  # noqa: E402
from test_e2e import ChatNodeTestCase, server_side_socket  # noqa: E402
from rawws import BINARY, CLOSE, CONT, PING, PONG, TEXT, RawClient  # noqa: E402
from rawws import OMIT, encode_frame, handshake_request  # noqa: E402

CHURN_CYCLES = int(os.environ.get("CHAT_CHURN_CYCLES", "3000"))
# Under ASan freed memory sits in quarantine: memory bounds are not checked.
SANITIZED = bool(os.environ.get("CHAT_SANITIZED"))
SHUTDOWN_CLIENTS = int(os.environ.get("CHAT_SHUTDOWN_CLIENTS", "1000"))
# Slow readers torn down at once (20 for the figures in RELIABILITY.md).
SLOW_READERS = int(os.environ.get("CHAT_SLOW_READERS", "2"))


def figure(name, value):
    print(f"figure: {name}: {value}", file=sys.stderr, flush=True)


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def tcp_memory_pages():
    """The kernel's memory for every TCP socket of the host, in pages
    (`mem` on the TCP line of /proc/net/sockstat)."""
    with open("/proc/net/sockstat") as f:
        for line in f:
            if line.startswith("TCP:"):
                fields = line.split()
                return int(fields[fields.index("mem") + 1])
    return 0


def raise_file_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class ReliabilityTestCase(ChatNodeTestCase):
    """Adds what the node reports on SIGUSR1 and its memory."""

    def _setupAsyncioRunner(self):
        # unittest runs the loop in debug mode, which slows every callback
        # and logs the slow ones; these tests measure, so run it plainly.
        self._asyncioRunner = asyncio.Runner(debug=False)

    async def stats(self, node):
        return await node.stats()

    def rss_kib(self, node):
        with open(f"/proc/{node.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    async def raw(self, node, **kwargs):
        client = await RawClient.open(node.port, **kwargs)
        self.addAsyncCleanup(client.close)
        return client

    async def until(self, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if await predicate():
                return
            await asyncio.sleep(0.05)
        self.fail(f"timed out after {timeout} s waiting for {what}")


class SlowConsumerTests(ReliabilityTestCase):
    async def test_a_client_that_stops_reading_is_dropped_and_others_keep_up(self):
        """A client stops reading while another talks to it fast and 50 others
        chat steadily in private pairs: it is closed with a reason once its
        backlog passes the cap; the 50 lose nothing and keep their latency;
        the node's memory stays bounded."""
        cap = 256 * 1024
        node = await self.start_node(f"--max-backlog-bytes={cap}",
                                     "--max-frames-per-second=0",
                                     "--announce-limit=2")
        slow = await self.raw(node, rcvbuf=4096)  # Client 1, never reads
        firehose = await self.raw(node)  # Client 2
        n = 50
        clients = []
        for k in range(n):
            ws = await websockets.connect(node.url, max_size=None,
                                          ping_interval=None)
            self.addAsyncCleanup(ws.close)
            clients.append(ws)
        for k in range(0, n, 2):
            await clients[k].send(f"invite {k + 4}")
        for ws in clients:
            while not (await asyncio.wait_for(ws.recv(), 5)).startswith(
                    "Private chatting"):
                pass
        rss_before = self.rss_kib(node)
        latencies = {"before": [], "during": []}
        phase = "before"
        sent = [0] * n
        received = [0] * n
        stop = asyncio.Event()

        async def chat(i, ws):
            while not stop.is_set():
                await ws.send(f"{sent[i]}:{time.monotonic():.6f}")
                sent[i] += 1
                await asyncio.sleep(0.2)

        async def listen(i, ws):
            partner = i ^ 1
            while True:
                try:
                    frame = await asyncio.wait_for(ws.recv(), 2)
                except asyncio.TimeoutError:
                    return
                k, t = frame.split(" ", 1)[1].split(":")
                self.assertEqual(int(k), received[i], "in order, none lost")
                received[i] += 1
                latencies[phase].append(time.monotonic() - float(t))
            del partner

        listeners = [asyncio.create_task(listen(i, ws))
                     for i, ws in enumerate(clients)]
        chatters = [asyncio.create_task(chat(i, ws))
                    for i, ws in enumerate(clients)]
        await asyncio.sleep(2)
        phase = "during"
        started = time.monotonic()
        line = "x" * 8000
        pushed = 0
        while (await self.stats(node))["slow_consumer_drops"] == 0:
            self.assertLess(time.monotonic() - started, 30, "no drop")
            for _ in range(25):
                await firehose.send_text(line)
                pushed += len(line)
            await asyncio.sleep(0.01)
        drop_after = time.monotonic() - started
        rss_peak = self.rss_kib(node)
        code, reason = await slow.recv_close(timeout=10)
        await asyncio.sleep(1)
        stop.set()
        await asyncio.gather(*chatters)
        await asyncio.gather(*listeners)
        self.assertEqual(code, 1008)
        self.assertIn("too slow", reason)
        for i in range(n):
            self.assertEqual(received[i], sent[i ^ 1], f"client {i + 3}")

        def summary(xs):
            return "/".join(f"{percentile(xs, p) * 1000:.1f}"
                            for p in (50, 99, 100))
        figure("slow consumer dropped after (s, bytes sent to it)",
               f"{drop_after:.2f}, {pushed}")
        figure("pair latency p50/p99/max before (ms)",
               summary(latencies["before"]))
        figure("pair latency p50/p99/max while it stalls (ms)",
               summary(latencies["during"]))
        figure("node RSS before/peak (KiB)", f"{rss_before}/{rss_peak}")
        self.assertLess(percentile(latencies["during"], 99), 0.5)
        if not SANITIZED:
            self.assertLess(rss_peak - rss_before, 64 * 1024)


    async def test_a_dropped_slow_reader_is_reset_and_one_that_reads_again_learns_why(self):
        """Clients that stop reading (4 KiB receive buffers) while another
        sends 12 MB of 4,000-byte lines: each is dropped at the cap, and on
        the node's side its TCP connection is gone within the close timeout
        plus a second, not left in FIN-WAIT-1 with megabytes queued. One that
        reads again right after its drop gets the close frame with the
        reason next, after at most what was already on its way. A full-speed
        reader gets every line, and a private pair chatting meanwhile keeps
        its latency."""
        cap = 1024 * 1024  # --max-backlog-bytes, the default
        send_buffer = 64 * 1024  # --send-buffer-bytes, the default
        close_timeout = 2.0
        node = await self.start_node("--max-frames-per-second=0",
                                     "--announce-limit=2")
        stalled = [await self.raw(node, rcvbuf=4096)
                   for _ in range(SLOW_READERS)]
        resumer = await self.raw(node, rcvbuf=4096)
        for c in stalled + [resumer]:
            c.writer.transport.pause_reading()
        firehose = await self.raw(node)
        reader = await self.raw(node)
        a, b = [await websockets.connect(node.url, ping_interval=None)
                for _ in range(2)]
        self.addAsyncCleanup(a.close)
        self.addAsyncCleanup(b.close)
        b_number = SLOW_READERS + 5
        await a.send(f"invite {b_number}")
        for ws in (a, b):
            while not (await asyncio.wait_for(ws.recv(), 5)).startswith(
                    "Private chatting"):
                pass
        ports = [c.writer.get_extra_info("sockname")[1] for c in stalled]
        count, size = 3000, 4000
        mem_before = tcp_memory_pages()
        latencies = []
        stop = asyncio.Event()

        async def pair():
            k = 0
            while not stop.is_set():
                await a.send(f"{k}:{time.monotonic():.6f}")
                frame = await asyncio.wait_for(b.recv(), 2)
                k_got, t = frame.split(" ", 1)[1].split(":")
                self.assertEqual(int(k_got), k)
                latencies.append(time.monotonic() - float(t))
                k += 1
                await asyncio.sleep(0.05)

        async def read_all():
            got = 0
            while got < count:
                frame = await reader.recv_text(timeout=10)
                if len(frame) < size:
                    continue  # its greeting, arrivals and departures
                self.assertEqual(int(frame.split(" ", 2)[1]), got)
                got += 1
            return got

        async def flood():
            # 100 KB every 10 ms at most: a pace the reader keeps.
            for k in range(count):
                line = f"{k} ".ljust(size, "x")
                firehose.writer.write(encode_frame(TEXT, line))
                if k % 25 == 24:
                    await firehose.writer.drain()
                    await asyncio.sleep(0.01)
            await firehose.writer.drain()

        chatting = asyncio.create_task(pair())
        reading = asyncio.create_task(read_all())
        started = time.monotonic()
        flooding = asyncio.create_task(flood())
        await self.until(
            lambda: self._drops_at_least(node, SLOW_READERS + 1), 20,
            "every slow reader's drop")
        dropped = time.monotonic()
        queued_at_drop = sum(q[1] for q in map(
            lambda p: server_side_socket(node, p), ports) if q)
        mem_at_drop = tcp_memory_pages()
        # The resumer reads again: the close frame comes after at most what
        # was already written to the kernel or in flight.
        resumer.writer.transport.resume_reading()
        before_close = 0
        while True:
            fin, opcode, payload = await resumer.recv_frame(timeout=5)
            if opcode == CLOSE:
                break
            before_close += len(payload) + 4
        code = int.from_bytes(payload[:2], "big")
        reason = payload[2:].decode()
        await resumer.send(CLOSE, payload[:2])
        gone = {}
        while len(gone) < len(ports) and time.monotonic() - dropped < 10:
            for p in ports:
                if p not in gone and server_side_socket(node, p) is None:
                    gone[p] = time.monotonic() - dropped
            await asyncio.sleep(0.02)
        mem_after = tcp_memory_pages()
        got = await reading
        await flooding
        stop.set()
        await chatting
        teardown = max(gone.values()) if gone else float("inf")
        figure(f"slow readers ({SLOW_READERS}): kernel send queue at the "
               "drop (bytes)", queued_at_drop)
        figure(f"slow readers ({SLOW_READERS}): node's sockets gone after "
               "the drop (s)", "never (10 s)" if len(gone) < len(ports)
               else f"{teardown:.2f}")
        kib = os.sysconf("SC_PAGE_SIZE") // 1024
        figure("TCP memory of the host, /proc/net/sockstat (KiB): before/at "
               "the drop/after teardown", f"{mem_before * kib}/"
               f"{mem_at_drop * kib}/{mem_after * kib}")
        figure("resumed reader: bytes before the close frame", before_close)
        figure("pair latency p50/p99/max during the flood (ms)",
               "/".join(f"{percentile(latencies, p) * 1000:.1f}"
                        for p in (50, 99, 100)))
        figure("flood of 12 MB to the full-speed reader took (s)",
               f"{time.monotonic() - started:.2f}")
        self.assertEqual(code, 1008)
        self.assertIn("too slow", reason)
        self.assertLess(before_close, cap + 4 * send_buffer + 16 * 1024)
        self.assertEqual(len(gone), len(ports), "sockets left behind")
        self.assertLess(teardown, close_timeout + 1)
        self.assertEqual(got, count)
        self.assertLess(percentile(latencies, 99), 0.5)

    async def _drops_at_least(self, node, n):
        return (await self.stats(node))["slow_consumer_drops"] >= n


class FloodTests(ReliabilityTestCase):
    async def test_a_flooder_is_slowed_down_not_dropped(self):
        """A client sending far above the rate has every line relayed, in
        order, at the configured rate; another client's lines are not held
        up behind it."""
        node = await self.start_node("--max-frames-per-second=200",
                                     "--frame-burst=20")
        a, b, c = await self.connect_many(node, 3)
        count = 600
        started = time.monotonic()
        flooder = await self.raw(node)
        await flooder.recv_text()  # You are Client 4
        for ws in (a, b, c):
            await ws.expect("Client 4 connected")
        payload = b"".join(encode_frame(TEXT, f"line {k}")
                           for k in range(count))
        flooder.writer.write(payload)
        await flooder.writer.drain()
        probe_latency = []

        async def probe():
            for k in range(5):
                await asyncio.sleep(0.3)
                t = time.monotonic()
                await c.ws.send(f"probe {k}")
                while not (await b.recv(timeout=5)).endswith(f" probe {k}"):
                    pass
                probe_latency.append(time.monotonic() - t)
        probing = asyncio.create_task(probe())
        got = []
        while len(got) < count:
            frame = await a.recv(timeout=10)
            if " line " in frame:
                got.append(int(frame.split()[2]))
        elapsed = time.monotonic() - started
        await probing
        self.assertEqual(got, list(range(count)))
        figure("flood: 600 lines at 200/s took (s)", f"{elapsed:.2f}")
        figure("probe latencies during flood (ms)",
               " ".join(f"{x * 1000:.1f}" for x in probe_latency))
        self.assertGreater(elapsed, (count - 20) / 200 * 0.9)
        self.assertLess(max(probe_latency), 0.5)


class StaleConnectionTests(ReliabilityTestCase):
    async def test_a_busy_client_whose_host_answers_stays_and_gets_every_line(self):
        """A client that neither reads nor writes for three keepalive periods
        (a terminal client blocked on its prompt answers no ping) stays: its
        host's kernel acknowledges the pings. Then it reads every line said
        meanwhile, in order, and chats on."""
        interval = 0.3
        node = await self.start_node(f"--ping-interval={int(interval * 1000)}ms",
                                     f"--pong-timeout={int(interval * 1000)}ms")
        talker = await self.connect(node, 1)
        busy = await self.raw(node)
        self.assertEqual(await busy.recv_text(), "You are Client 2")
        await talker.expect("Client 2 connected")
        # Like a program blocked in input(): nothing is read from the socket,
        # the kernel still receives and acknowledges.
        busy.writer.transport.pause_reading()
        said = []
        started = time.monotonic()
        while time.monotonic() - started < 3 * 2 * interval + 0.2:
            said.append(f"line {len(said)}")
            await talker.ws.send(said[-1])
            await asyncio.sleep(0.1)
        stats = await self.stats(node)
        busy.writer.transport.resume_reading()
        got = []
        while len(got) < len(said):
            got.append((await busy.recv_text(timeout=3)).split(" ", 1)[1])
        await busy.send_text("back")
        await talker.expect_where(lambda f: f.endswith(" back"), "back")
        figure("busy client: idle (s), pings left unanswered and kept, "
               "lines it got after", f"{time.monotonic() - started:.2f}, "
               f"{stats['busy_clients_kept']}, {len(got)}")
        self.assertEqual(got, said)
        self.assertEqual(stats["ping_timeouts"], 0)
        self.assertGreaterEqual(stats["busy_clients_kept"], 3)
        self.assertEqual(stats["connections"], 2)

    async def test_a_connection_that_never_finishes_its_handshake_is_closed(self):
        """Slowloris: a TCP connection that sends half a handshake is closed
        within the handshake timeout; others connect meanwhile."""
        node = await self.start_node("--handshake-timeout=500ms")
        started = time.monotonic()
        half = await self.raw(node, handshake=False)
        half.writer.write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        await half.writer.drain()
        a = await self.connect(node, 1)
        self.assertTrue(await half.closed_by_server(timeout=5))
        figure("half handshake closed after (s)",
               f"{time.monotonic() - started:.2f}")
        self.assertLess(time.monotonic() - started, 3)
        await a.ws.send("fine")


class CapacityTests(ReliabilityTestCase):
    async def test_connections_beyond_max_clients_are_refused_with_503(self):
        """--max-clients=3: a fourth handshake gets HTTP 503 with a reason;
        the three inside chat on; once one leaves, a newcomer gets in."""
        node = await self.start_node("--max-clients=3")
        a, b, c = await self.connect_many(node, 3)
        extra = await self.raw(node, handshake=False)
        await extra.handshake(handshake_request("127.0.0.1", node.port))
        self.assertEqual(extra.status, 503)
        body = await asyncio.wait_for(extra.reader.read(1000), 3)
        self.assertIn(b"full", body)
        await a.ws.send("still fine")
        await b.expect("0 still fine")
        await c.ws.close()
        await b.expect("Client 3 disconnected")
        d = await self.raw(node)
        self.assertEqual(await d.recv_text(), "You are Client 4")
        self.assertEqual((await self.stats(node))["refused"], 1)


class ChurnTests(ReliabilityTestCase):
    async def test_churn_leaves_no_trace(self):
        """Many connect/disconnect cycles, clean closes and TCP resets, some
        in the middle of a page or a private chat: numbers never repeat, a
        vanished partner ends the private chat, and afterwards the node is
        back to its actor count and its memory stays flat."""
        raise_file_limit()
        node = await self.start_node("--announce-limit=10")
        host = await self.raw(node)  # stays: partner for private chats
        self.assertEqual(await host.recv_text(), "You are Client 1")
        base = await self.stats(node)
        numbers = []
        ended = 0
        rss_warm = None

        async def one(k):
            nonlocal ended
            c = await RawClient.open(node.port)
            hello = await c.recv_text()
            numbers.append(int(hello.rsplit(" ", 1)[1]))
            kind = k % 10
            if kind == 0:
                await c.send_text("page")
            elif kind == 1:
                # The host may be in another churner's private chat.
                await c.send_text("invite 1")
                while True:
                    line = await c.recv_text()
                    if line == "Private chatting with Client 1":
                        break
                    if line == "Error: Client 1 is already in a private chat":
                        kind = None
                        break
            elif kind == 2:
                await c.send_text("hello")
            if k % 2:
                c.reset()
            else:
                await c.close()
            return kind == 1

        host_log = []

        async def host_reader():
            while True:
                try:
                    host_log.append(await host.recv_text(timeout=30))
                except (asyncio.TimeoutError, asyncio.IncompleteReadError):
                    return
        reading = asyncio.create_task(host_reader())
        started = time.monotonic()
        invites = 0
        batch = 20
        for first in range(0, CHURN_CYCLES, batch):
            results = await asyncio.gather(
                *(one(k) for k in range(first, min(first + batch, CHURN_CYCLES))))
            invites += sum(results)
            # The host can only be in one private chat: wait for each to end.
            await self.until(
                lambda: self._async_true(host_log.count("Private chat ended.")
                                         >= invites),
                10, "the host's private chats to end")
            if rss_warm is None and first >= CHURN_CYCLES // 10:
                rss_warm = self.rss_kib(node)
        elapsed = time.monotonic() - started
        await asyncio.sleep(1.5)  # let the last summary and closes settle
        after = await self.stats(node)
        rss_end = self.rss_kib(node)
        reading.cancel()
        self.assertEqual(len(numbers), CHURN_CYCLES)
        self.assertEqual(len(set(numbers)), CHURN_CYCLES)
        self.assertGreater(min(numbers), 1)
        ended = host_log.count("Private chat ended.")
        self.assertEqual(ended, invites)
        self.assertEqual(after["connections"], base["connections"])
        self.assertEqual(after["actors"], base["actors"])
        figure(f"churn: {CHURN_CYCLES} cycles took (s)", f"{elapsed:.1f}")
        figure("churn: private chats ended by a vanished partner", ended)
        figure("churn: actors before/after", f"{base['actors']}/{after['actors']}")
        figure("churn: RSS after 10%/end (KiB)", f"{rss_warm}/{rss_end}")
        if not SANITIZED:
            self.assertLess(rss_end - rss_warm, 16 * 1024)

    @staticmethod
    async def _async_true(value):
        return value


class ShutdownUnderLoadTests(ReliabilityTestCase):
    async def test_sigterm_with_many_clients_tells_each_and_exits_in_time(self):
        """SIGTERM with 1,000 clients connected: every one receives `Server
        shutting down` and close 1001; the node exits 0 within 5 s."""
        raise_file_limit()
        node = await self.start_node("--announce-limit=10")
        clients = []
        for k in range(SHUTDOWN_CLIENTS):
            c = await RawClient.open(node.port)
            await c.recv_text()
            clients.append(c)

        async def goodbye(c):
            lines = []
            while True:
                fin, opcode, payload = await c.recv_frame(timeout=10)
                if opcode == TEXT:
                    lines.append(payload.decode())
                elif opcode == CLOSE:
                    await c.send(CLOSE, payload[:2])  # as clients do
                    return lines[-1:], int.from_bytes(payload[:2], "big")
        started = time.monotonic()
        node.signal(signal.SIGTERM)
        exit_status = asyncio.create_task(node.wait_exit(5))
        exited_at = []
        exit_status.add_done_callback(
            lambda _: exited_at.append(time.monotonic()))
        results = await asyncio.gather(*(goodbye(c) for c in clients))
        status = await exit_status
        figure(f"shutdown with {SHUTDOWN_CLIENTS} clients: exit after (s)",
               f"{exited_at[0] - started:.2f}")
        self.assertEqual(status, 0)
        self.assertTrue(all(r == (["Server shutting down"], 1001)
                            for r in results))
        for c in clients:
            c.writer.close()


class HostileInputTests(ReliabilityTestCase):
    """A catalogue of malformed and hostile input. Each case gets a clear
    answer or a standard close code, and a bystander keeps chatting."""

    async def asyncSetUp(self):
        self.node = await self.start_node("--max-message-bytes=1000")
        self.a, self.b = await self.connect_many(self.node, 2)
        self.next_number = 3

    async def bystanders_still_chat(self):
        await self.a.say("still here")
        await self.b.expect_where(lambda f: f.endswith(" still here"),
                                  "'<S> still here'", skip=self.noise())

    def noise(self):
        return {f"Client {k} {what}" for k in range(3, 40)
                for what in ("connected", "disconnected")}

    async def hostile(self):
        c = await self.raw(self.node)
        self.assertEqual(await c.recv_text(), f"You are Client {self.next_number}")
        self.next_number += 1
        return c

    async def test_a_fragmented_message_is_reassembled(self):
        c = await self.hostile()
        await c.send(TEXT, "frag", fin=False)
        await c.send(CONT, "men", fin=False)
        await c.send(PING, "in between")
        await c.send(CONT, "ted", fin=True)
        self.assertEqual((await c.recv_frame())[1:], (PONG, b"in between"))
        await self.b.expect("0 fragmented", skip=self.noise())

    async def test_fragments_adding_up_past_the_limit_close_with_1009(self):
        c = await self.hostile()
        for _ in range(5):
            await c.send(TEXT if _ == 0 else CONT, "x" * 300, fin=False)
        self.assertEqual((await c.recv_close())[0], 1009)
        await self.bystanders_still_chat()

    async def test_a_continuation_without_a_start_closes_with_1002(self):
        c = await self.hostile()
        await c.send(CONT, "orphan")
        self.assertEqual((await c.recv_close())[0], 1002)
        await self.bystanders_still_chat()

    async def test_an_unmasked_client_frame_closes_with_1002(self):
        c = await self.hostile()
        await c.send(TEXT, "naked", mask=False)
        self.assertEqual((await c.recv_close())[0], 1002)
        await self.bystanders_still_chat()

    async def test_a_reserved_opcode_closes_with_1002(self):
        c = await self.hostile()
        await c.send(0x3, "what")
        self.assertEqual((await c.recv_close())[0], 1002)
        await self.bystanders_still_chat()

    async def test_a_line_at_the_limit_is_relayed_whole(self):
        c = await self.hostile()
        await c.send_text("y" * 1000)
        await self.b.expect("0 " + "y" * 1000, skip=self.noise())

    async def test_a_ping_flood_is_answered_and_slows_nobody(self):
        c = await self.hostile()
        for k in range(2000):
            c.writer.write(__import__("rawws").encode_frame(PING, str(k)))
        await c.writer.drain()
        for k in range(2000):
            fin, opcode, payload = await c.recv_frame()
            self.assertEqual((opcode, payload), (PONG, str(k).encode()))
        await self.bystanders_still_chat()

    async def test_escape_sequences_reach_nobody(self):
        c = await self.hostile()
        await c.send_text("\x1b]0;owned\x07\x1b[2J\x9b31m\x1bPq\x1b\\")
        frame = await self.b.recv()
        while frame in self.noise():
            frame = await self.b.recv()
        self.assertFalse(any(ch in frame for ch in "\x1b\x07\x9b"), frame)

    async def test_invite_with_odd_arguments_is_answered(self):
        c = await self.hostile()
        for arg in ("99999999999999999999999999", "-1", " 7 ", "\u0662",
                    "２", "Client", "Client -2", "0x2", "2; drop table"):
            await c.send_text(f"invite {arg}")
            answer = await c.recv_text()
            self.assertEqual(answer, f"Error: no such client: {arg.strip()}")
        await self.bystanders_still_chat()

    async def test_plain_http_to_an_unknown_path_or_method_gets_4xx(self):
        for request, status in (
                (b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n", 404),
                (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                 b"\r\n", 405)):
            c = await self.raw(self.node, handshake=False)
            await c.handshake(request)
            self.assertEqual(c.status, status, request)
        await self.bystanders_still_chat()

    async def refused(self, request, status):
        """The node's answer to `request`: `status`, then its body."""
        c = await self.raw(self.node, handshake=False)
        await c.handshake(request)
        self.assertEqual(c.status, status, request)
        return c.headers, await asyncio.wait_for(c.reader.read(), 5)

    async def test_broken_handshakes_get_400(self):
        port = self.node.port
        for request in (
            handshake_request("127.0.0.1", port, key=""),
            handshake_request("127.0.0.1", port, key=OMIT),
            b"GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n",
        ):
            await self.refused(request, 400)
        await self.bystanders_still_chat()

    async def test_a_key_that_is_not_16_bytes_of_base64_gets_400(self):
        """RFC 6455 4.2.1: the key must decode to 16 bytes; websocketpp only
        checks that there is one."""
        for key in ("abc", "!" * 24, "dGhlIHNhbXBsZSBub25jZQ=",
                    "dGhlIHNhbXBsZSBub25jZSE=", "a" * 100):
            _, body = await self.refused(
                handshake_request("127.0.0.1", self.node.port, key=key), 400)
            self.assertIn(b"Sec-WebSocket-Key must be the base64 of 16 bytes",
                          body, key)
        await self.bystanders_still_chat()

    async def test_a_missing_or_unknown_version_gets_426_naming_13(self):
        """No Sec-WebSocket-Version (which websocketpp reads as hixie-76 and
        answered 500 when the draft's key bytes did not follow), version 0
        (the same), an unknown one (websocketpp's 400 named 0 among the
        versions): 426 and the versions the node speaks."""
        for version in (OMIT, "0", "99", "13abc"):
            head, body = await self.refused(
                handshake_request("127.0.0.1", self.node.port, version=version),
                426)
            self.assertIn(b"\r\nSec-WebSocket-Version: 13, 8, 7\r\n", head)
            self.assertIn(b"send Sec-WebSocket-Version: 13", body)
        await self.bystanders_still_chat()

    async def test_half_an_upgrade_gets_400_not_the_page(self):
        """Without Upgrade: websocket and Connection: Upgrade as tokens,
        websocketpp served the page (or opened a session for `websocketx`)."""
        port = self.node.port
        for fields in ({"upgrade": "h2c"}, {"upgrade": OMIT},
                       {"connection": "keep-alive"}, {"connection": OMIT},
                       {"upgrade": "websocketx"}, {"connection": "Upgraded"}):
            _, body = await self.refused(
                handshake_request("127.0.0.1", port, **fields), 400)
            self.assertIn(b"needs Upgrade: websocket and Connection: Upgrade",
                          body, fields)
        await self.bystanders_still_chat()

    async def test_a_length_not_minimally_encoded_closes_with_1002(self):
        """RFC 6455 5.2: the minimal number of bytes MUST be used for the
        length; websocketpp sees it but names it 1011 (internal error)."""
        mask = b"\x00\x00\x00\x00"
        for length in (struct.pack("!BQ", 0x80 | 127, 5),
                       struct.pack("!BH", 0x80 | 126, 5)):
            c = await self.hostile()
            c.writer.write(b"\x81" + length + mask + b"hello")
            await c.writer.drain()
            code, reason = await c.recv_close()
            self.assertEqual((code, reason),
                             (1002, "Payload length was not minimally encoded"))
        await self.bystanders_still_chat()

    async def test_garbage_instead_of_http_is_closed(self):
        c = await self.raw(self.node, handshake=False)
        c.writer.write(bytes(range(256)) * 4 + b"\r\n\r\n")
        await c.writer.drain()
        self.assertTrue(await c.closed_by_server(timeout=8))
        await self.bystanders_still_chat()


if __name__ == "__main__":
    if "--node" in sys.argv:
        i = sys.argv.index("--node")
        os.environ["CHAT_NODE"] = sys.argv[i + 1]
        del sys.argv[i:i + 2]
    unittest.main()
