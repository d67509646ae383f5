#!/usr/bin/python3
"""A client whose host vanishes is dropped within --ping-interval +
--pong-timeout, and the node's socket to it is gone soon after. The node and
the client each run in a network namespace this test creates, linked by a
veth pair; taking the client's end of the link down makes its packets
vanish, as a host that lost power would. Needs root (`ip netns`); skipped,
with a message, otherwise. The namespaces are removed at the end, also when
the test fails.

Run: /usr/bin/python3 tests/reliability/test_vanished_host.py --node build/chat-node
"""

import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "e2e"))

from test_e2e import Node, node_binary  # noqa: E402

# Names unique to this run: other runs of the suite may be under way.
TAG = f"{os.getpid() % 100000}"
NODE_NS, CLIENT_NS = f"chatnode{TAG}", f"chatclient{TAG}"
NODE_IF, CLIENT_IF = f"cn{TAG}", f"cc{TAG}"
NODE_IP, CLIENT_IP = "10.213.0.1", "10.213.0.2"
CLOSE_TIMEOUT = 2.0  # the node's close handshake timeout

# The client, in its namespace: a polite WebSocket client (websockets
# answers pings) that prints what it receives and otherwise waits.
CLIENT = """
import asyncio, sys, websockets
async def main():
    async with websockets.connect(sys.argv[1], ping_interval=None) as ws:
        async for frame in ws:
            print(frame, flush=True)
asyncio.run(main())
"""


def figure(name, value):
    print(f"figure: {name}: {value}", file=sys.stderr, flush=True)


def ip(*args):
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


def sockets_to(pid, address):
    """TCP states of the sockets of process `pid`'s namespace that lead to
    `address` (/proc/PID/net/tcp: addresses in hex, in network order read
    as a little-endian number)."""
    want = "".join(f"{int(x):02X}" for x in reversed(address.split(".")))
    states = []
    with open(f"/proc/{pid}/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            if fields[2].split(":")[0] == want:
                states.append(int(fields[3], 16))
    return states


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("ip"),
                     "needs root and iproute2 to create network namespaces "
                     "(ip netns add); run as root to check a vanished host")
class VanishedHostTests(unittest.IsolatedAsyncioTestCase):
    def setUp(self):
        self.addCleanup(self.remove_namespaces)
        try:
            ip("netns", "add", NODE_NS)
        except subprocess.CalledProcessError as e:
            self.skipTest("cannot create a network namespace here (ip netns "
                          f"add: {e.stderr.decode().strip()})")
        ip("netns", "add", CLIENT_NS)
        ip("link", "add", NODE_IF, "type", "veth", "peer", "name", CLIENT_IF)
        ip("link", "set", NODE_IF, "netns", NODE_NS)
        ip("link", "set", CLIENT_IF, "netns", CLIENT_NS)
        ip("-n", NODE_NS, "addr", "add", f"{NODE_IP}/24", "dev", NODE_IF)
        ip("-n", CLIENT_NS, "addr", "add", f"{CLIENT_IP}/24", "dev", CLIENT_IF)
        for ns, dev in ((NODE_NS, NODE_IF), (CLIENT_NS, CLIENT_IF)):
            ip("-n", ns, "link", "set", "lo", "up")
            ip("-n", ns, "link", "set", dev, "up")

    def remove_namespaces(self):
        # Deleting a namespace deletes the veth end inside it, and its peer.
        for ns in (NODE_NS, CLIENT_NS):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True,
                           timeout=10)
        subprocess.run(["ip", "link", "del", NODE_IF], capture_output=True,
                       timeout=10)

    async def start_node(self, interval, timeout):
        args = ["ip", "netns", "exec", NODE_NS, str(node_binary()),
                f"--host={NODE_IP}", "--port=0",
                f"--ping-interval={int(interval * 1000)}ms",
                f"--pong-timeout={int(timeout * 1000)}ms"]
        stderr_file = tempfile.TemporaryFile()
        # `ip netns exec` execs the node: the process is the node.
        proc = await asyncio.create_subprocess_exec(
            *args, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=stderr_file,
            start_new_session=True)
        pattern = re.compile(rf"^chat-node listening on ws://{NODE_IP}:(\d+)/$")
        line = await asyncio.wait_for(proc.stdout.readline(), 10)
        m = pattern.match(line.decode().strip())
        if not m:
            proc.kill()
            await proc.wait()
            self.fail(f"no listening line from {args}: {line!r}")
        node = Node(proc, int(m.group(1)), stderr_file, args)
        self.addAsyncCleanup(node.kill)
        return node

    async def stats(self, node):
        return await node.stats()

    async def start_client(self, node):
        proc = await asyncio.create_subprocess_exec(
            "ip", "netns", "exec", CLIENT_NS, "/usr/bin/python3", "-c", CLIENT,
            f"ws://{NODE_IP}:{node.port}/", stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True)

        async def stop():
            if proc.returncode is None:
                proc.kill()
            await proc.wait()
        self.addAsyncCleanup(stop)
        hello = await asyncio.wait_for(proc.stdout.readline(), 10)
        self.assertEqual(hello.decode().strip(), "You are Client 1")
        return proc

    async def test_a_client_whose_host_vanishes_is_dropped_within_the_bound(self):
        await self.check_dropped_within_the_bound(1.0, 1.0)

    async def test_the_bound_holds_with_a_pong_timeout_longer_than_the_interval(self):
        """A ping while the last one is unanswered would restart the pong
        timer: the client must not be pinged again before it is judged."""
        await self.check_dropped_within_the_bound(0.4, 1.2)

    async def check_dropped_within_the_bound(self, interval, timeout):
        node = await self.start_node(interval, timeout)
        await self.start_client(node)
        # A keepalive period: pinged, answered, still there.
        await asyncio.sleep(interval + timeout)
        self.assertEqual((await self.stats(node))["connections"], 1)
        ip("-n", CLIENT_NS, "link", "set", CLIENT_IF, "down")
        down = time.monotonic()
        noticed = gone = None
        while time.monotonic() - down < interval + timeout + CLOSE_TIMEOUT + 5:
            if noticed is None and (await self.stats(node))["ping_timeouts"]:
                noticed = time.monotonic() - down
            if gone is None and not sockets_to(node.proc.pid, CLIENT_IP):
                gone = time.monotonic() - down
            if noticed is not None and gone is not None:
                break
            await asyncio.sleep(0.05)
        figure(f"vanished host (--ping-interval={interval:g}s "
               f"--pong-timeout={timeout:g}s): dropped after (s)",
               f"{noticed:.2f}" if noticed is not None else "never")
        figure("vanished host: the node's socket gone after (s)",
               f"{gone:.2f}" if gone is not None else "never")
        self.assertIsNotNone(noticed, "the vanished client was not dropped")
        self.assertLess(noticed, interval + timeout + 0.5)
        self.assertIsNotNone(gone, "the node's socket to it stayed: "
                             f"{sockets_to(node.proc.pid, CLIENT_IP)}")
        self.assertLess(gone, interval + timeout + CLOSE_TIMEOUT + 1)
        self.assertEqual((await self.stats(node))["connections"], 0)


if __name__ == "__main__":
    if "--node" in sys.argv:
        i = sys.argv.index("--node")
        os.environ["CHAT_NODE"] = sys.argv[i + 1]
        del sys.argv[i:i + 2]
    unittest.main()
