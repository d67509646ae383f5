#!/usr/bin/python3
"""End-to-end tests of a chat-node cluster whose links use mutual TLS, and of
partitions between nodes in network namespaces.

    /usr/bin/python3 tests/e2e/test_cluster_tls.py --node build/chat-node -v

The certificates are made once per run with Debian's `openssl` command: a CA,
a certificate per node signed by it, a certificate from another CA and a
self-signed one.

- A subset of tests/e2e/test_cluster.py runs again over TLS, the same test
  code with the TLS options added to every node: numbers and arrivals,
  main-room lines, a private chat across nodes, a killed node, a frozen node
  that comes back. Left out: the page and /who (their messages cross the
  links as those do), restarts, and what TLS does not change (bad BASP,
  option clashes, crossing invites).
- Each refusal: a node with a certificate from another CA, a self-signed one,
  a client without a certificate, a node without TLS, a handshake that never
  ends; the cluster and its clients go on.
- Partitions (root only, else skipped): nodes in namespaces of their own,
  their cluster ports on veth addresses behind a bridge; clients reach each
  node on its loopback inside its namespace, so that cutting a node's veth
  cuts only the cluster link. Every namespace is removed, also on failure.
"""

import asyncio
import ctypes
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import test_cluster as tc  # noqa: E402  (its TestCases stay out of this run)
from test_cluster import (  # noqa: E402
    SCALE,
    SLOTS,
    connected,
    disconnected,
    free_ports,
    stderr_size,
)
from test_e2e import RECV_TIMEOUT, Client, node_binary  # noqa: E402

import websockets  # noqa: E402


# --------------------------------------------------------------------------
# Certificates
# --------------------------------------------------------------------------


class Certificates:
    """Made once per run in a temporary directory (removed at exit)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="chat-tls-")
        self._ca("ca")
        self._ca("other-ca")
        for name in ("node1", "node2", "node3"):
            self._signed(name, "ca")
        self._signed("stranger", "other-ca")
        # Self-signed: its own issuer, our CA never saw it.
        self._openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                      "ec_paramgen_curve:prime256v1", "-nodes",
                      "-keyout", self.path("selfsigned.key"),
                      "-out", self.path("selfsigned.pem"), "-days", "2",
                      "-subj", "/CN=self-signed chat node")

    def path(self, name):
        return os.path.join(self.dir, name)

    def _openssl(self, *args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=30)

    def _ca(self, name):
        self._openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                      "ec_paramgen_curve:prime256v1", "-nodes",
                      "-keyout", self.path(f"{name}.key"), "-out", self.path(f"{name}.pem"),
                      "-days", "2", "-subj", f"/CN=chat test {name}")

    def _signed(self, name, ca):
        self._openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                      "-nodes", "-keyout", self.path(f"{name}.key"),
                      "-out", self.path(f"{name}.csr"), "-subj", f"/CN=chat {name}")
        self._openssl("x509", "-req", "-in", self.path(f"{name}.csr"),
                      "-CA", self.path(f"{ca}.pem"), "-CAkey", self.path(f"{ca}.key"),
                      "-CAcreateserial", "-out", self.path(f"{name}.pem"), "-days", "2")

    def args(self, cert, ca="ca"):
        """The TLS options of a node with certificate `cert`, trusting `ca`."""
        return [f"--cluster-cert={self.path(cert + '.pem')}",
                f"--cluster-key={self.path(cert + '.key')}",
                f"--cluster-ca={self.path(ca + '.pem')}"]

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


CERTS = None


def certs():
    global CERTS
    if CERTS is None:
        if shutil.which("openssl") is None:
            raise unittest.SkipTest("no openssl command (scripts/deps --test installs it)")
        CERTS = Certificates()
    return CERTS


class TlsMembers:
    """Mixin: every node started by start_member uses TLS, node K with the
    certificate nodeK signed by the CA."""

    async def start_member(self, index, cluster_port, peers=(), slots=SLOTS,
                           timeout=tc.FAST_TIMEOUT, extra=(), name=None):
        return await super().start_member(
            index, cluster_port, peers=peers, slots=slots, timeout=timeout,
            extra=[*certs().args(f"node{index}"), *extra], name=name)


# --------------------------------------------------------------------------
# 1. The cross-node behaviours of test_cluster.py, over TLS
# --------------------------------------------------------------------------


class TlsSeedExamplesAcrossNodesTests(TlsMembers, tc.SeedExamplesAcrossNodesTests):
    """test_cluster's seed examples across nodes, links over TLS: numbers and
    arrivals, main-room lines (stamps, order), a private chat. Left out, to
    keep the run short (about 8 s of their 11): the page and /who, whose
    messages cross the links as the ones above do."""

    test_page_from_node_1_pages_every_other_node_until_a_client_on_node_3_types = None
    test_who_lists_the_clients_of_every_node = None


class TlsNodeLossTests(TlsMembers, tc.NodeLossTests):
    """A killed node and a frozen node that comes back, links over TLS (the
    restart tests change nothing TLS does)."""

    test_a_restarted_node_hands_out_no_number_it_handed_out_before = None
    test_a_restarted_nodes_first_client_gets_a_new_number_even_before_its_links_are_up = None


# --------------------------------------------------------------------------
# 2. Refusals on a TLS cluster port
# --------------------------------------------------------------------------


REFUSED = r"refused 127\.0\.0\.1:\d+ on the cluster port: "


class TlsRefusalTests(TlsMembers, tc.ClusterTestCase):
    async def two_node_cluster(self):
        p1, p2 = free_ports(2)
        n1 = await self.start_member(1, p1)
        n2 = await self.start_member(2, p2, peers=[p1])
        await self.wait_peers([n1, n2], 1)
        c1 = await self.join(n1, 1)
        c2 = await self.join(n2, 2, room=[c1])
        return n1, n2, c1, c2

    async def still_two(self, nodes, c1, c2, what):
        await self.wait_peers(nodes, 1)
        await self.relay_to_all(c1, [c2], f"still one chat after {what}")
        await self.relay_to_all(c2, [c1], f"and back after {what}")

    async def bad_node(self, n1, cert, ca, pattern, what):
        """A node with these TLS files joins node 1: node 1 logs a refusal
        matching `pattern`, the bad node never gets a peer."""
        since = stderr_size(n1)
        (port,) = free_ports(1)
        bad = await tc.ClusterTestCase.start_member(
            self, 3, port, peers=[n1.cluster_port], extra=certs().args(cert, ca),
            name=f"node with {what}")
        line = await self.wait_stderr(n1, since, REFUSED + pattern, f"refusing {what}")
        sys.stderr.write(f"\n  {what}: node 1 says {line!r}\n")
        health = await self.healthz(bad)
        self.assertEqual(health.get("peers"), 0, f"{what}: linked anyway: {health!r}")
        return bad

    async def test_nodes_with_another_cas_or_a_self_signed_certificate_are_refused(self):
        """A certificate from another CA, a self-signed one: refused and logged; the cluster goes on."""
        n1, n2, c1, c2 = await self.two_node_cluster()
        stranger = await self.bad_node(n1, "stranger", "other-ca", r"TLS handshake failed: .*",
                                       "a certificate from another CA")
        # Both ends check: the stranger's own check of node 1 failed first.
        line = await self.wait_stderr(
            stranger, 0, r"cannot reach 127\.0\.0\.1:\d+: .*TLS handshake failed: "
            r"certificate verify failed", "its own refusal of node 1's certificate")
        sys.stderr.write(f"  the stranger says {line!r}\n")
        await self.still_two([n1, n2], c1, c2, "another CA's node")
        # It trusts our CA, so it accepts node 1: node 1 refuses it.
        await self.bad_node(n1, "selfsigned", "ca", r"TLS handshake failed: .*certificate",
                            "a self-signed certificate")
        await self.still_two([n1, n2], c1, c2, "a self-signed node")
        await c1.expect_silence(0.2, why="no arrival of a refused node's clients")

    async def test_a_client_without_a_certificate_is_refused(self):
        """A TLS client that presents no certificate: refused, logged."""
        n1, n2, c1, c2 = await self.two_node_cluster()
        since = stderr_size(n1)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.load_verify_locations(certs().path("ca.pem"))
        context.check_hostname = False
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", n1.cluster_port, ssl=context), RECV_TIMEOUT)
        try:
            # TLS 1.3: the server's refusal comes after our handshake.
            data = await asyncio.wait_for(reader.read(100), RECV_TIMEOUT)
            self.assertEqual(data, b"", "a client without a certificate got bytes")
        except (ssl.SSLError, ConnectionResetError):
            pass
        finally:
            writer.close()
        await self.wait_stderr(n1, since, REFUSED + r"TLS handshake failed: .*certificate",
                               "refusing a client without a certificate")
        await self.still_two([n1, n2], c1, c2, "a client without a certificate")

    async def test_a_node_without_tls_and_a_handshake_that_never_ends_are_refused(self):
        """Plain BASP to a TLS port, a TLS handshake that stops half-way: refused, logged, closed."""
        n1, n2, c1, c2 = await self.two_node_cluster()
        since = stderr_size(n1)
        (port,) = free_ports(1)
        plain = await tc.ClusterTestCase.start_member(
            self, 3, port, peers=[n1.cluster_port], name="node without TLS")
        line = await self.wait_stderr(n1, since, REFUSED + r"plain text, not TLS",
                                      "refusing a node without TLS")
        sys.stderr.write(f"\n  node without TLS: node 1 says {line!r}\n")
        self.assertEqual((await self.healthz(plain)).get("peers"), 0)
        await self.still_two([n1, n2], c1, c2, "a node without TLS")
        # The first bytes of a ClientHello, then nothing: closed within the
        # cluster timeout, not held.
        since = stderr_size(n1)
        started = time.monotonic()
        closed, _ = await self.poke(n1.cluster_port, b"\x16\x03\x01\x02\x00\x01",
                                    timeout=tc.FAST_TIMEOUT + 3 * SCALE)
        took = time.monotonic() - started
        self.assertTrue(closed, "a stalled TLS handshake was not closed")
        self.assertLess(took, tc.FAST_TIMEOUT + 1.5 * SCALE, f"closed after {took:.2f} s")
        await self.wait_stderr(n1, since, REFUSED + r"no TLS handshake within the cluster timeout",
                               "refusing a stalled TLS handshake")
        await self.still_two([n1, n2], c1, c2, "a stalled handshake")

    async def test_tls_files_that_do_not_load_stop_the_node_with_a_clear_line(self):
        """Two of the three TLS options, a key that does not exist: exit status > 0 and a line."""
        cases = [
            (certs().args("node1")[:2], r"--cluster-cert, --cluster-key and --cluster-ca go together"),
            ([certs().args("node1")[0], "--cluster-key=/nonexistent/key.pem",
              certs().args("node1")[2]], r"cannot load --cluster-key /nonexistent/key.pem"),
            ([certs().args("node1")[0], certs().args("node2")[1], certs().args("node1")[2]],
             r"cannot load --cluster-key .*node2\.key: key values mismatch"),
        ]
        for args, pattern in cases:
            with self.subTest(pattern=pattern):
                (port,) = free_ports(1)
                proc = await asyncio.create_subprocess_exec(
                    str(node_binary()), "--port=0", "--node-index=1", "--cluster-slots=3",
                    f"--cluster-port={port}", *args,
                    stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.PIPE, start_new_session=True)
                try:
                    _, err = await asyncio.wait_for(proc.communicate(), tc.EXIT_TIMEOUT)
                except asyncio.TimeoutError:
                    tc._kill_group(proc)
                    self.fail(f"still running with {args}")
                text = err.decode("utf-8", "replace")
                self.assertGreater(proc.returncode, 0, text)
                self.assertRegex(text, pattern)


# --------------------------------------------------------------------------
# 3. Partitions, in network namespaces
# --------------------------------------------------------------------------

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


class netns:
    """This thread in network namespace `name` for a while (setns(2)):
    sockets made meanwhile stay there."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self.home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        target = os.open(f"/var/run/netns/{self.name}", os.O_RDONLY)
        try:
            if _libc.setns(target, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), f"setns into {self.name}")
        finally:
            os.close(target)

    def __exit__(self, *exc):
        try:
            if _libc.setns(self.home, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back home")
        finally:
            os.close(self.home)


def ip(*args):
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10)


def must_ip(*args):
    r = ip(*args)
    if r.returncode != 0:
        raise AssertionError(f"ip {' '.join(args)}: {r.stderr.strip()}")


class Network:
    """A hub namespace with a bridge, and one namespace per node linked to it
    by a veth pair: node K is 10.199.0.K on its end, `hK` on the hub's."""

    def __init__(self, count):
        tag = f"chat{os.getpid() % 100000}"
        self.hub = f"{tag}-hub"
        self.nodes = [f"{tag}-{k}" for k in range(1, count + 1)]
        self.created = []
        try:
            for ns in [self.hub, *self.nodes]:
                must_ip("netns", "add", ns)
                self.created.append(ns)
                must_ip("-n", ns, "link", "set", "lo", "up")
            must_ip("-n", self.hub, "link", "add", "br0", "type", "bridge")
            must_ip("-n", self.hub, "link", "set", "br0", "up")
            for k, ns in enumerate(self.nodes, 1):
                must_ip("-n", self.hub, "link", "add", f"h{k}", "type", "veth",
                        "peer", "name", "eth0", "netns", ns)
                must_ip("-n", self.hub, "link", "set", f"h{k}", "master", "br0", "up")
                must_ip("-n", ns, "addr", "add", f"10.199.0.{k}/24", "dev", "eth0")
                must_ip("-n", ns, "link", "set", "eth0", "up")
        except BaseException:
            self.remove()
            raise

    def address(self, k):
        return f"10.199.0.{k}"

    def cut(self, k):
        """Node K's packets vanish: its port on the hub goes down (no RST,
        no ICMP: the others see silence)."""
        must_ip("-n", self.hub, "link", "set", f"h{k}", "down")

    def mend(self, k):
        must_ip("-n", self.hub, "link", "set", f"h{k}", "up")

    def remove(self):
        for ns in reversed(self.created):
            ip("netns", "del", ns)
        self.created = []


def namespaces_usable():
    if os.geteuid() != 0:
        return "not root: partitions need network namespaces (ip netns add)"
    if shutil.which("ip") is None:
        return "no ip command (iproute2)"
    probe = f"chat-probe-{os.getpid()}"
    r = ip("netns", "add", probe)
    if r.returncode != 0:
        return f"ip netns add fails here: {r.stderr.strip()}"
    ip("netns", "del", probe)
    return None


PARTITION_SKIP = None


class PartitionTests(tc.ClusterTestCase):
    """Nodes in namespaces of their own, TLS between them (their cluster
    ports are on veth addresses), clients on each node's loopback."""

    TIMEOUT = 1.0 * SCALE  # --cluster-timeout

    def setUp(self):
        global PARTITION_SKIP
        if PARTITION_SKIP is None:
            PARTITION_SKIP = namespaces_usable() or ""
        if PARTITION_SKIP:
            self.skipTest(PARTITION_SKIP)
        super().setUp()

    def network(self, count):
        net = Network(count)
        self.addCleanup(net.remove)  # after every node is killed (LIFO)
        return net

    async def start_in(self, net, k, peers=(), slots=3, extra=()):
        port = 9765
        args = [f"--node-index={k}", f"--cluster-slots={slots}", f"--cluster-port={port}",
                f"--cluster-host={net.address(k)}", f"--cluster-timeout={self.TIMEOUT:g}s",
                "--max-frames-per-second=0", *certs().args(f"node{k}"), *extra]
        if peers:
            args.append("--peers=" + ",".join(f"{net.address(p)}:{port}" for p in peers))
        node = await self.spawn(args, cluster=(k, slots, port), name=f"node {k}",
                                prefix=("ip", "netns", "exec", net.nodes[k - 1]),
                                cluster_host=net.address(k))
        node.index = k
        node.netns = net.nodes[k - 1]
        node.cluster_port = port
        return node

    def socket_to(self, node):
        with netns(node.netns):
            s = socket.create_connection(("127.0.0.1", node.port), timeout=RECV_TIMEOUT)
        s.setblocking(False)
        return s

    async def http(self, node, target):
        reader, writer = await asyncio.open_connection(sock=self.socket_to(node))
        try:
            writer.write(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            await writer.drain()
            raw = await asyncio.wait_for(reader.read(), RECV_TIMEOUT)
        finally:
            writer.close()
        head, _, body = raw.partition(b"\r\n\r\n")
        return head.decode("latin-1"), body.decode("utf-8", "replace")

    async def healthz(self, node):
        head, body = await self.http(node, "/healthz")
        self.assertIn(" 200 ", head.split("\r\n")[0], f"{node.name}: /healthz: {head!r}")
        return json.loads(body)

    async def backlog(self, node, peer):
        _, body = await self.http(node, "/metrics")
        m = re.search(rf'^chat_peer_backlog_bytes\{{[^}}]*node="{peer}"[^}}]*\}} (\d+)', body, re.M)
        self.assertIsNotNone(m, f"{node.name}: no chat_peer_backlog_bytes for node {peer}")
        return int(m.group(1))

    async def connect(self, node, number, room=(), skip=()):
        started = time.monotonic()
        ws = await websockets.connect(f"ws://127.0.0.1:{node.port}/", sock=self.socket_to(node),
                                      open_timeout=RECV_TIMEOUT, close_timeout=1,
                                      ping_interval=None, max_size=None)
        client = Client(ws, number, started, time.monotonic())
        self.addAsyncCleanup(client.close)
        await client.expect(f"You are Client {number}", skip=skip)
        for other in room:
            await other.expect(connected(number), skip=skip)
        client.node = node
        return client

    async def timed_expect(self, clients_frames, limit):
        """Each client its frames [(client, [frame, ...]), ...], in any order,
        within `limit` s; returns the time the last one came."""
        started = time.monotonic()

        async def one(client, frames):
            await self.expect_all(client, frames, timeout=limit)
            return time.monotonic() - started

        return max(await asyncio.gather(*(one(c, f) for c, f in clients_frames)))

    async def test_a_split_makes_two_chats_and_healing_makes_one_again(self):
        """Link cut: each side loses the other within --cluster-timeout and chats on, numbers unique; link back: one chat, nobody dropped."""
        net = self.network(2)
        n1 = await self.start_in(net, 1, slots=2)
        n2 = await self.start_in(net, 2, peers=[1], slots=2)
        await self.wait_peers([n1, n2], 1)
        c1 = await self.join(n1, 1)
        c2 = await self.join(n2, 2, room=[c1])
        await self.relay_to_all(c1, [c2], "before the split")

        net.cut(2)
        detect = await self.timed_expect([(c1, [disconnected(2)]), (c2, [disconnected(1)])],
                                         self.TIMEOUT + 2 * SCALE)
        self.assertLessEqual(detect, self.TIMEOUT + tc.DETECT_SLACK,
                             f"the split was seen after {detect:.2f} s")
        # Two chats: each side numbers on, in its own slot, and hears only itself.
        c3 = await self.join(n1, 3, room=[c1])
        c4 = await self.join(n2, 4, room=[c2])
        await self.relay_to_all(c3, [c1], "side one")
        await self.relay_to_all(c4, [c2], "side two")
        await self.quiet([c1, c3], 0.2, why="nothing from the other side")
        # CHAT_PARTITION_HOLD=SECONDS keeps the split longer (many failed
        # reconnects before the heal); the test itself does not wait.
        hold = float(os.environ.get("CHAT_PARTITION_HOLD", "0"))
        if hold > 0:
            await asyncio.sleep(hold)

        net.mend(2)
        heal = await self.timed_expect(
            [(c1, [connected(2), connected(4)]), (c3, [connected(2), connected(4)]),
             (c2, [connected(1), connected(3)]), (c4, [connected(1), connected(3)])],
            15 * SCALE)
        sys.stderr.write(f"\n  split seen after {detect:.2f} s (--cluster-timeout "
                         f"{self.TIMEOUT:g} s); healed, every client announced, "
                         f"{heal:.2f} s after the link came back\n")
        everyone = [c1, c2, c3, c4]
        await self.wait_peers([n1, n2], 1)
        for sender in everyone:
            await self.relay_to_all(sender, [c for c in everyone if c is not sender],
                                    f"one chat again, says Client {sender.number}")
        # No number handed out twice: each side goes on in its own slot.
        c5 = await self.join(n1, 5, room=everyone)
        c6 = await self.join(n2, 6, room=everyone + [c5])
        await self.quiet(everyone + [c5, c6], 0.2, why="nothing more")

    async def test_a_silent_nodes_backlog_stays_capped_and_nobody_else_slows_down(self):
        """Node 3's packets vanish while a client floods: the backlog toward it stays under the cap, node 2 gets every line in time."""
        cap = 256 * 1024
        net = self.network(3)
        slow = ["--max-peer-backlog-bytes=%d" % cap]
        n1 = await self.start_in(net, 1, extra=slow)
        n2 = await self.start_in(net, 2, peers=[1], extra=slow)
        n3 = await self.start_in(net, 3, peers=[1], extra=slow)
        nodes = [n1, n2, n3]
        await self.wait_peers(nodes, 2)
        c1 = await self.join(n1, 1)
        c2 = await self.join(n2, 2, room=[c1])
        c3 = await self.join(n3, 3, room=[c1, c2])

        line = "x" * 4000

        async def one_line(text):
            """`text` from c1 to c2 (and c3 while linked); the time it took to c2."""
            t = time.monotonic()
            await c1.say(text)
            frame = await c2.recv(RECV_TIMEOUT, expecting=f"{text[:20]}... on node 2")
            while frame == disconnected(3):
                frame = await c2.recv(RECV_TIMEOUT, expecting=f"{text[:20]}... on node 2")
            self.assertTrue(frame.endswith(text), f"node 2 got {frame[:60]!r}")
            return time.monotonic() - t

        # The same lines at the same pace while node 3 still listens.
        baseline = 0.0
        for i in range(40):
            baseline = max(baseline, await one_line(f"before {i} {line}"))
            await c3.recv(RECV_TIMEOUT, expecting=f"line {i} on node 3")
            await asyncio.sleep(0.005)

        net.cut(3)
        worst_backlog = 0
        worst_delay = 0.0
        sent = 0
        started = time.monotonic()
        # A line every 5 ms for the cluster timeout and more: more than the
        # cap toward node 3 before its silence counts.
        for i in range(400):
            if time.monotonic() - started > self.TIMEOUT + 1.0 * SCALE:
                break
            worst_delay = max(worst_delay, await one_line(f"{i} {line}"))
            sent += 1
            if i % 5 == 0:
                worst_backlog = max(worst_backlog, await self.backlog(n1, 3))
            await asyncio.sleep(0.005)
        sys.stderr.write(f"\n  node 3 silent: {sent} lines of 4 kB from node 1; largest backlog "
                         f"toward node 3 {worst_backlog} B (cap {cap}); slowest line to node 2 "
                         f"{worst_delay * 1000:.0f} ms, against {baseline * 1000:.0f} ms before "
                         f"the cut\n")
        self.assertLessEqual(worst_backlog, cap, "the backlog toward a silent node passed the cap")
        self.assertGreater(sent * len(line), cap, "the test sent less than the cap")
        self.assertLess(worst_delay, 0.5 * SCALE, "a line to node 2 took long while node 3 was silent")
        await self.expect_all(c1, [disconnected(3)], why=" once node 3 is dropped")
        _, body = await self.http(n1, "/metrics")
        drops = re.search(r"^chat_peer_backlog_drops_total (\d+)", body, re.M)
        sys.stderr.write(f"  node 3 dropped by node 1 for its backlog "
                         f"{drops.group(1) if drops else '?'} time(s) "
                         f"(else for its silence)\n")
        net.mend(3)
        await self.wait_peers(nodes, 2, timeout=15 * SCALE)
        await self.expect_all(c1, [connected(3)])
        await self.expect_all(c2, [connected(3)], skip=(disconnected(3),))
        await self.expect_all(c3, [disconnected(1), disconnected(2), connected(1), connected(2)])
        await self.relay_to_all(c3, [c1, c2], "back again")
        await self.relay_to_all(c1, [c2, c3], "welcome back")


if __name__ == "__main__":
    argv = list(sys.argv)
    for flag, env in (("--node", "CHAT_NODE"),):
        if flag in argv:
            i = argv.index(flag)
            os.environ[env] = argv[i + 1]
            del argv[i : i + 2]
        for a in list(argv):
            if a.startswith(flag + "="):
                os.environ[env] = a.split("=", 1)[1]
                argv.remove(a)
    try:
        unittest.main(argv=argv)
    finally:
        if CERTS is not None:
            CERTS.remove()
