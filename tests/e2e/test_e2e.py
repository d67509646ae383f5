#!/usr/bin/python3
"""End-to-end tests for chat-node over real WebSocket connections on loopback.

The contract is the project's PROTOCOL.md (the chat protocol) plus the binary's
command-line contract (--host/--port/--page-interval/--max-message-bytes/
--announce-limit, the "chat-node listening on ws://HOST:PORT/" line, SIGTERM/SIGINT
shutdown). Every string is asserted to the letter.

Run (from the repository root):

    CHAT_NODE=build/chat-node /usr/bin/python3 -m unittest discover -s tests/e2e -v
    /usr/bin/python3 tests/e2e/test_e2e.py --node build/chat-node -v

The binary is taken from --node, else $CHAT_NODE, else build/chat-node under the
repository root. Each test starts its own node on an ephemeral port and kills it
on teardown. Needs Debian's python3-websockets (10.4, legacy asyncio client API).
"""

import asyncio
import math
import os
import re
import signal
import socket
import sys
import tempfile
import time
import unittest
from pathlib import Path

try:
    import websockets
    from websockets.exceptions import ConnectionClosed
except ImportError:  # pragma: no cover - environment problem, say so clearly
    sys.stderr.write(
        "test_e2e.py needs the 'websockets' module (apt-get install python3-websockets)"
        " and must run with /usr/bin/python3, not %s\n" % sys.executable
    )
    raise

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
REFERENCE_CLIENT = HERE / "reference_client.py"

# Every receive is bounded by this (seconds). Loopback answers in milliseconds.
RECV_TIMEOUT = float(os.environ.get("CHAT_E2E_TIMEOUT", "3"))
START_TIMEOUT = 10.0  # for the "listening" line
EXIT_TIMEOUT = 5.0  # for the process to exit after SIGTERM/SIGINT

LISTENING_RE = re.compile(r"^chat-node listening on wss?://127\.0\.0\.1:(\d+)/$")
SUMMARY_RE = re.compile(r"^(\d+) clients connected, (\d+) disconnected \((\d+) online\)$")

BINARY_ERROR = "Error: binary frames are not supported"
SHUTDOWN_LINE = "Server shutting down"
ENDED = "Private chat ended."
PAGING = "PAGING"

_start_timed_out = False  # after one hung start, later starts don't wait the full 10 s


def _short(value, limit=160):
    """repr() of a frame or list of frames, long frames cut so failures stay readable."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_short(v, limit) for v in value) + "]"
    r = repr(value)
    if len(r) > limit:
        r = f"{r[:limit - 40]}...{r[-20:]} ({len(value)} chars)"
    return r


def _kill_group(proc):
    """SIGKILL the process group of a node we started (start_new_session=True), so
    no child of it can keep our pipes open; asyncio's wait() waits for those too."""
    # Not proc.kill() after killpg: Popen.send_signal() polls first and would reap
    # the child behind asyncio's child watcher ("Unknown child process pid ...").
    try:
        os.killpg(proc.pid, signal.SIGKILL)
        return
    except (ProcessLookupError, PermissionError):
        pass
    if proc.returncode is None:
        try:
            proc.kill()
        except ProcessLookupError:
            pass


def server_side_socket(node, client_port):
    """(state, bytes in its send queue) of the node's TCP socket to a client
    port on 127.0.0.1, from the node's /proc/PID/net/tcp; None if it has
    none (the kernel dropped it)."""
    with open(f"/proc/{node.proc.pid}/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            local, remote = fields[1].split(":"), fields[2].split(":")
            if (int(local[1], 16) == node.port
                    and int(remote[1], 16) == client_port):
                return int(fields[3], 16), int(fields[4].split(":")[0], 16)
    return None


def node_binary():
    path = os.environ.get("CHAT_NODE")
    if path:
        return Path(path).resolve()
    return REPO_ROOT / "build" / "chat-node"


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


METRIC_RE = re.compile(r"^(\w+) (\d+)$")


async def http_request(port, target, method="GET", headers=()):
    """One plain HTTP request on the node's port; returns (status,
    {lowercase header: value}, body text)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        lines = [f"{method} {target} HTTP/1.1", f"Host: 127.0.0.1:{port}", *headers]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), RECV_TIMEOUT)  # node closes
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    fields = {}
    for line in header_lines:
        key, _, value = line.partition(":")
        fields[key.strip().lower()] = value.strip()
    return int(status_line.split()[1]), fields, body.decode("utf-8")


async def metrics(port):
    """The node's /metrics as {name: value}."""
    status, fields, body = await http_request(port, "/metrics")
    assert status == 200, status
    values = {}
    for line in body.splitlines():
        m = METRIC_RE.match(line)
        if m:
            values[m.group(1)] = int(m.group(2))
    return values


class Node:
    """A running chat-node process on an ephemeral port."""

    def __init__(self, proc, port, stderr_file, args):
        self.proc = proc
        self.port = port
        self.url = f"ws://127.0.0.1:{port}/"
        self.stderr_file = stderr_file
        self.args = args
        self.stdout_after = []
        self._drain = asyncio.create_task(self._drain_stdout())

    async def _drain_stdout(self):
        # Keep reading so a chatty node never blocks on a full pipe.
        while True:
            line = await self.proc.stdout.readline()
            if not line:
                return
            self.stdout_after.append(line.decode("utf-8", "replace").rstrip("\n"))

    def stderr_tail(self, n=20):
        try:
            self.stderr_file.flush()
            self.stderr_file.seek(0)
            lines = self.stderr_file.read().decode("utf-8", "replace").splitlines()
        except (OSError, ValueError):
            return "(stderr unavailable)"
        return "\n".join(lines[-n:]) or "(stderr empty)"

    def signal(self, signum):
        os.kill(self.proc.pid, signum)  # not proc.send_signal(): it may reap, see _kill_group

    async def stats(self):
        """The figures of the node's SIGUSR1 line, as a dict."""
        seen = len(self.stdout_after)
        self.signal(signal.SIGUSR1)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            for line in self.stdout_after[seen:]:
                if line.startswith("chat-node stats:"):
                    pairs = (kv.split("=") for kv in line.split()[2:])
                    return {k: int(v) for k, v in pairs}
            await asyncio.sleep(0.02)
        raise AssertionError("no stats line after SIGUSR1")

    async def wait_exit(self, timeout):
        try:
            return await asyncio.wait_for(self.proc.wait(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(
                f"chat-node did not exit within {timeout:g} s; stderr:\n{self.stderr_tail()}"
            ) from None

    async def kill(self):
        _kill_group(self.proc)
        try:
            await asyncio.wait_for(self.proc.wait(), 5)
        except asyncio.TimeoutError:
            pass
        try:
            await asyncio.wait_for(self._drain, 2)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            pass
        self.stderr_file.close()


class Client:
    """One WebSocket session with bounded, self-explaining receives."""

    def __init__(self, ws, number, connect_started, connected_at):
        self.ws = ws
        self.number = number
        self.connect_started = connect_started  # the server's connect time is
        self.connected_at = connected_at  # somewhere between these two
        self.history = []

    @property
    def name(self):
        return f"Client {self.number}"

    def __str__(self):
        return self.name if self.number is not None else "client (unnumbered)"

    def _recent(self):
        return f"last frames received: {_short(self.history[-6:])}"

    async def say(self, text):
        """Send one text frame; return the monotonic time just before sending."""
        t = time.monotonic()
        await self.ws.send(text)
        return t

    async def recv(self, timeout=RECV_TIMEOUT, expecting="a frame"):
        try:
            frame = await asyncio.wait_for(self.ws.recv(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(
                f"{self}: timed out after {timeout:.2f} s waiting for {expecting}; {self._recent()}"
            ) from None
        except ConnectionClosed as exc:
            raise AssertionError(
                f"{self}: connection closed ({exc}) while waiting for {expecting}; {self._recent()}"
            ) from None
        if isinstance(frame, bytes):
            raise AssertionError(
                f"{self}: got a binary frame {frame!r} while waiting for {expecting} "
                "(the node must only send text frames)"
            )
        self.history.append(frame)
        return frame

    async def expect(self, expected, skip=(), timeout=RECV_TIMEOUT):
        """Next frame (ignoring frames in `skip`) must be exactly `expected`."""
        return await self.expect_where(
            lambda f: f == expected, _short(expected), skip=skip, timeout=timeout
        )

    async def expect_where(self, predicate, description, skip=(), timeout=RECV_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"{self}: timed out after {timeout:.2f} s waiting for {description}; "
                    f"{self._recent()}"
                )
            frame = await self.recv(remaining, expecting=description)
            if predicate(frame):
                return frame
            if frame in skip:
                continue
            raise AssertionError(f"{self}: expected {description}, got {_short(frame)}; {self._recent()}")

    async def collect(self, duration):
        """All frames arriving within `duration` seconds (the connection must stay open)."""
        frames = []
        deadline = time.monotonic() + duration
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return frames
            try:
                frame = await asyncio.wait_for(self.ws.recv(), remaining)
            except asyncio.TimeoutError:
                return frames
            except ConnectionClosed as exc:
                raise AssertionError(
                    f"{self}: connection closed unexpectedly ({exc}); frames: {_short(frames)}"
                ) from None
            if isinstance(frame, bytes):
                raise AssertionError(f"{self}: got a binary frame {frame!r}")
            self.history.append(frame)
            frames.append(frame)

    async def expect_silence(self, duration, allowed=(), why="nothing"):
        frames = await self.collect(duration)
        unexpected = [f for f in frames if f not in allowed]
        if unexpected:
            allowed_txt = f" (allowed: {sorted(set(allowed))!r})" if allowed else ""
            raise AssertionError(
                f"{self}: expected {why} within {duration:g} s{allowed_txt}, "
                f"but received {_short(unexpected)}"
            )
        return frames

    async def expect_close(self, code, allowed=(), timeout=RECV_TIMEOUT):
        """Frames until the close, all in `allowed`; then the close code must be `code`."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"{self}: connection not closed within {timeout:g} s "
                    f"(expected close code {code}); {self._recent()}"
                )
            try:
                frame = await asyncio.wait_for(self.ws.recv(), remaining)
            except asyncio.TimeoutError:
                continue
            except ConnectionClosed:
                break
            self.history.append(frame)
            if frame not in allowed:
                raise AssertionError(
                    f"{self}: expected the connection to close with code {code}, "
                    f"but received {_short(frame)} first"
                )
        try:
            await asyncio.wait_for(self.ws.wait_closed(), max(0.1, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            raise AssertionError(f"{self}: closing handshake did not finish") from None
        got = self.ws.close_code
        note = " (1006 = no close frame received: the TCP connection just dropped)" if got == 1006 else ""
        if got != code:
            raise AssertionError(
                f"{self}: expected close code {code}, got {got}{note} "
                f"reason={self.ws.close_reason!r}"
            )

    async def close(self):
        try:
            await asyncio.wait_for(self.ws.close(), 3)
        except (asyncio.TimeoutError, Exception):
            pass


class _Sender:
    """Connection-time window of a peer we did not open ourselves (reference client)."""

    def __init__(self, number, connect_started, connected_at):
        self.number = number
        self.connect_started = connect_started
        self.connected_at = connected_at

    @property
    def name(self):
        return f"Client {self.number}"


class ChatNodeTestCase(unittest.IsolatedAsyncioTestCase):
    """Base: start nodes, connect clients, check relays."""

    async def start_node(self, *extra_args):
        global _start_timed_out
        binary = node_binary()
        args = [str(binary), "--host=127.0.0.1", "--port=0", *extra_args]
        if not binary.exists():
            self.fail(
                f"chat-node binary not found at {binary}; build it first or set "
                "CHAT_NODE=/path/to/chat-node (or pass --node PATH)"
            )
        stderr_file = tempfile.TemporaryFile()
        try:
            proc = await asyncio.create_subprocess_exec(
                *args,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr_file,
                start_new_session=True,  # own process group: teardown kills any children too
            )
        except OSError as exc:
            stderr_file.close()
            self.fail(f"cannot start {args}: {exc}")

        def tail():
            stderr_file.flush()
            stderr_file.seek(0)
            return stderr_file.read().decode("utf-8", "replace")[-2000:] or "(stderr empty)"

        async def abort(message):
            _kill_group(proc)
            try:
                await asyncio.wait_for(proc.wait(), 5)
            except asyncio.TimeoutError:
                pass
            text = f"{message}\ncommand: {' '.join(args)}\nstderr:\n{tail()}"
            stderr_file.close()
            self.fail(text)

        timeout = 2.0 if _start_timed_out else START_TIMEOUT
        deadline = time.monotonic() + timeout
        seen = []
        port = None
        while port is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                _start_timed_out = True
                await abort(
                    f"chat-node printed no 'chat-node listening on ws://127.0.0.1:PORT/' "
                    f"line within {timeout:g} s; stdout so far: {seen!r}"
                )
            try:
                raw = await asyncio.wait_for(proc.stdout.readline(), remaining)
            except asyncio.TimeoutError:
                continue
            if not raw:
                await proc.wait()
                await abort(
                    f"chat-node exited with status {proc.returncode} before printing its "
                    f"listening line; stdout: {seen!r}"
                )
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            seen.append(line)
            m = LISTENING_RE.match(line)
            if m:
                port = int(m.group(1))
        node = Node(proc, port, stderr_file, args)
        self.addAsyncCleanup(node.kill)
        return node

    async def connect(self, node, number, room=(), skip=()):
        """Open a session; it must be greeted `You are Client <number>`, and every
        client in `room` (the main room) must then see `Client <number> connected`."""
        started = time.monotonic()
        try:
            ws = await websockets.connect(
                node.url, open_timeout=RECV_TIMEOUT, close_timeout=1,
                ping_interval=None, max_size=None,
            )
        except Exception as exc:
            self.fail(
                f"cannot open a WebSocket session to {node.url}: {exc!r}\n"
                f"node stderr:\n{node.stderr_tail()}"
            )
        connected = time.monotonic()
        client = Client(ws, number, started, connected)
        self.addAsyncCleanup(client.close)
        await client.expect(f"You are Client {number}", skip=skip)
        for other in room:
            await other.expect(f"Client {number} connected", skip=skip)
        return client

    async def connect_many(self, node, n, skip=()):
        clients = []
        for i in range(1, n + 1):
            clients.append(await self.connect(node, i, room=list(clients), skip=skip))
        return clients

    async def expect_relay(self, receiver, sender, text, sent_at, skip=()):
        """`receiver` must get `<S> <text>`, S = whole seconds since `sender` connected.

        The server's connect time lies in [sender.connect_started, sender.connected_at]
        and its stamp time in [sent_at, now], so S has a known (usually 1-value) range."""
        prefix_re = re.compile(r"^(\d+) (.*)$", re.S)
        holder = {}

        def matches(frame):
            m = prefix_re.match(frame)
            if m and m.group(2) == text:
                holder["s"] = int(m.group(1))
                return True
            return False

        frame = await receiver.expect_where(
            matches, f"'<S> ' + {_short(text)} relayed from {sender.name}", skip=skip
        )
        received_at = time.monotonic()
        lo = max(0, math.floor(sent_at - sender.connected_at))
        hi = math.floor(received_at - sender.connect_started)
        s = holder["s"]
        self.assertTrue(
            lo <= s <= hi,
            f"{receiver}: {_short(frame)} carries S={s}, but {sender.name} connected "
            f"{sent_at - sender.connected_at:.2f}..{received_at - sender.connect_started:.2f} s "
            f"before, so S must be in [{lo}, {hi}]",
        )
        return frame

    async def count_paging(self, client, duration):
        frames = await client.collect(duration)
        other = [f for f in frames if f != PAGING]
        if other:
            self.fail(f"{client}: only PAGING expected during the page, got {_short(frames)}")
        return len(frames)


# --------------------------------------------------------------------------
# 1. Main room: identity, relay, timestamps
# --------------------------------------------------------------------------


class MainRoomTests(ChatNodeTestCase):
    async def test_two_clients_get_identities_and_relay_with_timestamps(self):
        """Clients are told `You are Client N`, see arrivals, get `<S> line` from others (not their own)."""
        node = await self.start_node()
        c1 = await self.connect(node, 1)
        c2 = await self.connect(node, 2, room=[c1])
        await c2.expect_silence(0.2, why="no announcement of its own arrival")

        await c1.say("hello")
        await c2.expect("0 hello")
        await c1.expect_silence(0.3, why="no echo of its own line")

        await c2.say("hi back")
        await c1.expect("0 hi back")
        await c2.expect_silence(0.2, why="no echo of its own line")

        # S counts whole seconds since the SENDER connected.
        delay = c1.connected_at + 1.15 - time.monotonic()
        await asyncio.sleep(max(0.0, delay))
        await c1.say("one second later")
        await c2.expect("1 one second later")
        await c1.expect_silence(0.2, why="no echo of its own line")

    async def test_lines_said_at_once_reach_every_other_client_once_in_order(self):
        """Many clients talking at the same moment: each gets every other
        client's lines exactly once, in the order each was said, and none of
        its own (the node sends a room's lines of one turn together)."""
        # asyncio's debug mode (on in these tests) would make the 8,400
        # receptions below take seconds instead of a fraction of one.
        asyncio.get_running_loop().set_debug(False)
        node = await self.start_node()
        clients = await self.connect_many(node, 8)
        lines = 150  # within the default burst of 200 frames: no pacing

        async def talk(client):
            for i in range(lines):
                await client.ws.send(f"from {client.number} #{i}")

        async def listen(client):
            expected = lines * (len(clients) - 1)
            frames = []
            while len(frames) < expected:
                frames.append(await client.recv(expecting=f"line {len(frames) + 1} of {expected}"))
            return frames

        listening = [asyncio.create_task(listen(c)) for c in clients]
        await asyncio.gather(*(talk(c) for c in clients))
        for client, frames in zip(clients, await asyncio.gather(*listening)):
            by_sender = {}
            for frame in frames:
                m = re.fullmatch(r"\d+ from (\d+) #(\d+)", frame)
                self.assertIsNotNone(m, f"{client}: unexpected frame {_short(frame)}")
                by_sender.setdefault(int(m.group(1)), []).append(int(m.group(2)))
            self.assertNotIn(client.number, by_sender, f"{client} got its own lines back")
            for sender, numbers in by_sender.items():
                self.assertEqual(numbers, list(range(lines)),
                                 f"{client}: lines of Client {sender} lost, doubled or out of order")
        await asyncio.gather(
            *(c.expect_silence(0.2, why="no line beyond everyone else's") for c in clients))

    async def test_a_clients_pings_get_their_pongs_amid_chat(self):
        """RFC 6455 5.5.2: each ping is answered with a pong carrying its
        payload, also while lines are being relayed to the pinging client."""
        node = await self.start_node()
        c1 = await self.connect(node, 1)
        c2 = await self.connect(node, 2, room=[c1])
        for i in range(20):
            await c1.say(f"line {i}")
            pong = await c2.ws.ping(f"p{i}".encode())
            try:
                await asyncio.wait_for(pong, RECV_TIMEOUT)
            except asyncio.TimeoutError:
                self.fail(f"no pong for ping {i} within {RECV_TIMEOUT:g} s")
        for i in range(20):
            await c2.expect_where(lambda f, i=i: re.fullmatch(rf"\d+ line {i}", f) is not None,
                                  f"'<S> line {i}'")

    async def test_disconnect_is_announced_and_numbers_are_never_reused(self):
        """A departure is announced as `Client N disconnected`; a newcomer gets a fresh number."""
        node = await self.start_node()
        c1, c2 = await self.connect_many(node, 2)
        await c2.close()
        await c1.expect("Client 2 disconnected")
        c3 = await self.connect(node, 3, room=[c1])
        t = await c3.say("new here")
        await self.expect_relay(c1, c3, "new here", t)

    async def test_blank_or_whitespace_line_is_not_relayed(self):
        """Empty and white-space-only lines reach nobody."""
        node = await self.start_node()
        c1, c2 = await self.connect_many(node, 2)
        await c1.say("")
        await c1.say("   \t  ")
        await c2.expect_silence(0.4, why="no relay of blank lines")
        await c1.expect_silence(0.1)
        t = await c1.say("visible")
        await self.expect_relay(c2, c1, "visible", t)

    async def test_command_words_inside_a_line_are_chat(self):
        """`page me later`, `Invite 2`, `leave now` are chat lines, not commands."""
        node = await self.start_node("--page-interval=200ms")
        c1, c2 = await self.connect_many(node, 2)
        for line in ["page me later", "Invite 2", "leave now", "PAGE"]:
            t = await c1.say(line)
            await self.expect_relay(c2, c1, line, t)
        await c2.expect_silence(0.5, why="no PAGING (no page was started)")
        await c1.expect_silence(0.1, why="no error for chat lines")


# --------------------------------------------------------------------------
# 2. Private chat
# --------------------------------------------------------------------------


class PrivateChatTests(ChatNodeTestCase):
    async def test_invite_by_number_makes_a_private_chat_until_leave(self):
        """`invite 2`: both told, lines stay between the two, `leave` ends it for both, main room resumes."""
        node = await self.start_node()
        c1, c2, c3 = await self.connect_many(node, 3)

        await c1.say("invite 2")
        await c1.expect("Private chatting with Client 2")
        await c2.expect("Private chatting with Client 1")

        t = await c1.say("psst secret plan")
        await self.expect_relay(c2, c1, "psst secret plan", t)
        t = await c2.say("secret reply")
        await self.expect_relay(c1, c2, "secret reply", t)
        frames3 = await c3.collect(0.4)
        leaked = [f for f in frames3 if "secret" in f or re.match(r"^\d+ ", f)]
        if leaked:
            self.fail(f"Client 3 saw lines of the private chat of Clients 1 and 2: {_short(leaked)}")

        # The main room no longer reaches the private pair.
        await c3.say("anyone there?")
        await c1.expect_silence(0.3, why="nothing from the main room while private")
        await c2.expect_silence(0.1, why="nothing from the main room while private")

        await c2.say("leave")
        await c2.expect(ENDED)
        await c1.expect(ENDED)

        t = await c1.say("back in the room")
        await self.expect_relay(c2, c1, "back in the room", t)
        await self.expect_relay(c3, c1, "back in the room", t)
        t = await c3.say("welcome back")
        await self.expect_relay(c1, c3, "welcome back", t)
        await self.expect_relay(c2, c3, "welcome back", t)

    async def test_invite_client_n_form_names_the_same_client(self):
        """`invite Client 2` works like `invite 2`; the inviter's `leave` ends it for both."""
        node = await self.start_node()
        c1, c2, c3 = await self.connect_many(node, 3)

        await c1.say("invite Client 2")
        await c1.expect("Private chatting with Client 2")
        await c2.expect("Private chatting with Client 1")

        t = await c1.say("only for two")
        await self.expect_relay(c2, c1, "only for two", t)
        frames3 = await c3.collect(0.4)
        leaked = [f for f in frames3 if "only for two" in f or re.match(r"^\d+ ", f)]
        if leaked:
            self.fail(f"Client 3 saw lines of the private chat of Clients 1 and 2: {_short(leaked)}")

        await c1.say("leave")
        await c1.expect(ENDED)
        await c2.expect(ENDED)
        t = await c2.say("all hear this")
        await self.expect_relay(c1, c2, "all hear this", t)
        await self.expect_relay(c3, c2, "all hear this", t)

    async def test_partner_disconnect_returns_the_other_to_the_main_room(self):
        """If either partner disconnects, the other gets `Private chat ended.` and is back in the main room."""
        node = await self.start_node()
        c1, c2, c3, c4 = await self.connect_many(node, 4)
        await c1.say("invite 2")  # inviter stays, invitee leaves
        await c1.expect("Private chatting with Client 2")
        await c2.expect("Private chatting with Client 1")
        await c4.say("invite 3")  # invitee stays, inviter leaves
        await c4.expect("Private chatting with Client 3")
        await c3.expect("Private chatting with Client 4")

        optional = ("Client 2 disconnected", "Client 4 disconnected")
        await c2.close()
        await c1.expect(ENDED, skip=optional)
        await c4.close()
        await c3.expect(ENDED, skip=optional)

        t = await c1.say("c1 in main room")
        await self.expect_relay(c3, c1, "c1 in main room", t, skip=optional)
        t = await c3.say("c3 in main room")
        await self.expect_relay(c1, c3, "c3 in main room", t, skip=optional)

    async def test_invite_errors_go_to_the_inviter_only_and_change_nothing(self):
        """Self, unknown, non-numeric, departed, busy invitee, busy inviter, no argument; `leave` outside a chat."""
        node = await self.start_node()
        c1, c2, c3, c4 = await self.connect_many(node, 4)
        await c4.close()
        for c in (c1, c2, c3):
            await c.expect("Client 4 disconnected")

        cases = [
            ("invite 1", "Error: you cannot invite yourself"),
            ("invite 99", "Error: no such client: 99"),
            ("invite bob", "Error: no such client: bob"),
            ("invite 4", "Error: no such client: 4"),
            ("invite", "Usage: invite <N>"),
            ("leave", "Error: you are not in a private chat"),
        ]
        for line, reply in cases:
            await c1.say(line)
            await c1.expect(reply)
        await c2.expect_silence(0.2, why="nothing: errors go to the inviter only")
        await c3.expect_silence(0.1, why="nothing: errors go to the inviter only")

        await c2.say("invite 3")
        await c2.expect("Private chatting with Client 3")
        await c3.expect("Private chatting with Client 2")
        await c1.say("invite 3")
        await c1.expect("Error: Client 3 is already in a private chat")
        await c2.say("invite 1")
        await c2.expect("Error: you are already in a private chat; type leave first")
        await c3.expect_silence(0.2, why="nothing: errors go to the inviter only")
        await c1.expect_silence(0.1)

        # Nothing changed: 2 and 3 are still private together, 1 is in the main room.
        t = await c3.say("still private")
        await self.expect_relay(c2, c3, "still private", t)
        await c1.expect_silence(0.3, why="nothing from the private chat")


# --------------------------------------------------------------------------
# 3. Paging
# --------------------------------------------------------------------------


class PagingTests(ChatNodeTestCase):
    async def _paged_room(self, n=3):
        node = await self.start_node("--page-interval=200ms")
        return node, await self.connect_many(node, n)

    async def test_page_repeats_paging_to_others_but_not_the_pager(self):
        """`page` sends `PAGING` to every other client right away and every interval; the pager gets none."""
        node, (c1, c2, c3) = await self._paged_room()
        await c1.say("page")
        n2, n3, mine = await asyncio.gather(
            self.count_paging(c2, 0.5), self.count_paging(c3, 0.5), c1.collect(0.5)
        )
        for who, n in ((c2, n2), (c3, n3)):
            self.assertGreaterEqual(n, 2, f"{who}: expected >= 2 PAGING within 0.5 s at 200ms, got {n}")
            self.assertLessEqual(n, 4, f"{who}: {n} PAGING within 0.5 s is more than one per 200ms")
        self.assertEqual(mine, [], "the pager must not receive anything (its own PAGING included)")

    async def test_page_is_sent_right_away_then_once_a_second_by_default(self):
        """With the default interval: one `PAGING` at once, the next about a second later."""
        node = await self.start_node()
        c1, c2 = await self.connect_many(node, 2)
        t0 = await c1.say("page")
        await c2.expect(PAGING, timeout=0.5)
        first = time.monotonic() - t0
        self.assertLess(first, 0.5, f"first PAGING came {first:.2f} s after page; expected right away")
        n = await self.count_paging(c2, 1.3)  # window ends ~1.3-1.5 s after the page
        self.assertEqual(n, 1, f"expected exactly one more PAGING in the following 1.3 s, got {n}")

    async def test_pager_keeps_chatting_and_its_own_lines_do_not_stop_the_page(self):
        """The pager's chat lines relay normally and the page goes on."""
        node, (c1, c2, c3) = await self._paged_room()
        await c1.say("page")
        await c2.expect(PAGING)
        t = await c1.say("wake up")
        await self.expect_relay(c2, c1, "wake up", t, skip=(PAGING,))
        await self.expect_relay(c3, c1, "wake up", t, skip=(PAGING,))
        await c1.say("")  # even an empty frame from the pager does not stop it
        n2 = await self.count_paging(c2, 0.5)
        self.assertGreaterEqual(n2, 2, f"page stopped after the pager's own lines (only {n2} PAGING in 0.5 s)")
        await c1.expect_silence(0.05, why="nothing for the pager")

    async def test_another_clients_frame_stops_the_page(self):
        """Any frame from another client (here a chat line) ends the page for everyone."""
        node, (c1, c2, c3) = await self._paged_room()
        await c1.say("page")
        await c2.expect(PAGING)
        await c3.expect(PAGING)
        t = await c2.say("ok ok I'm here")
        await self.expect_relay(c1, c2, "ok ok I'm here", t)
        await self.expect_relay(c3, c2, "ok ok I'm here", t, skip=(PAGING,))
        # grace for a PAGING already in flight, then silence
        await asyncio.gather(
            c2.expect_silence(0.25, allowed=(PAGING,)), c3.expect_silence(0.25, allowed=(PAGING,))
        )
        await asyncio.gather(
            c2.expect_silence(0.7, why="no PAGING after the page was answered"),
            c3.expect_silence(0.7, why="no PAGING after the page was answered"),
            c1.expect_silence(0.7),
        )

    async def test_an_empty_frame_from_another_client_stops_the_page(self):
        """An empty line from another client counts as typing: the page stops, nothing is relayed."""
        node, (c1, c2, c3) = await self._paged_room()
        await c1.say("page")
        await c2.expect(PAGING)
        await c3.expect(PAGING)
        await c3.say("")
        await asyncio.gather(
            c2.expect_silence(0.25, allowed=(PAGING,)), c3.expect_silence(0.25, allowed=(PAGING,))
        )
        await asyncio.gather(
            c2.expect_silence(0.7, why="no PAGING after the page was answered"),
            c3.expect_silence(0.7, why="no PAGING after the page was answered"),
            c1.expect_silence(0.7, why="nothing (empty lines are not relayed)"),
        )

    async def test_repeated_page_by_the_same_pager_changes_nothing(self):
        """`page` sent three times still yields one PAGING per interval."""
        node, (c1, c2) = await self._paged_room(2)
        await c1.say("page")
        await c1.say("page")
        await c1.say("page")
        n = await self.count_paging(c2, 1.0)
        # one right away + one per 200 ms = 6 in 1.0 s; allow jitter, refuse doubling
        self.assertGreaterEqual(n, 4, f"expected about 6 PAGING in 1.0 s, got {n}")
        self.assertLessEqual(n, 7, f"expected about 6 PAGING in 1.0 s, got {n} (page stacked?)")
        await c1.expect_silence(0.05, why="nothing for the pager")

    async def test_a_second_pager_ends_the_first_page_and_starts_its_own(self):
        """Client 2's `page` answers Client 1's page and starts Client 2's."""
        node, (c1, c2, c3) = await self._paged_room()
        await c1.say("page")
        await c2.expect(PAGING)
        await c2.say("page")
        # After a grace for in-flight frames: c2 hears nothing, c1 and c3 hear one page only.
        await asyncio.gather(*(c.expect_silence(0.25, allowed=(PAGING,)) for c in (c1, c2, c3)))
        n1, n3, _ = await asyncio.gather(
            self.count_paging(c1, 0.8),
            self.count_paging(c3, 0.8),
            c2.expect_silence(0.8, why="no PAGING: Client 2's own frame ended Client 1's page"),
        )
        for who, n in ((c1, n1), (c3, n3)):
            self.assertGreaterEqual(n, 2, f"{who}: Client 2's page should reach it, got {n} PAGING in 0.8 s")
            self.assertLessEqual(n, 5, f"{who}: {n} PAGING in 0.8 s: more than one page running?")

    async def test_page_reaches_private_chats_and_newcomers(self):
        """Members of a private chat and clients that connect during the page are paged too."""
        node, (c1, c2, c3) = await self._paged_room()
        await c2.say("invite 3")
        await c2.expect("Private chatting with Client 3")
        await c3.expect("Private chatting with Client 2")
        await c1.say("page")
        n2, n3 = await asyncio.gather(self.count_paging(c2, 0.5), self.count_paging(c3, 0.5))
        self.assertGreaterEqual(n2, 2, f"Client 2 (private) got {n2} PAGING in 0.5 s")
        self.assertGreaterEqual(n3, 2, f"Client 3 (private) got {n3} PAGING in 0.5 s")
        c4 = await self.connect(node, 4, room=[c1], skip=(PAGING,))
        n4 = await self.count_paging(c4, 0.5)
        self.assertGreaterEqual(n4, 2, f"newcomer Client 4 got {n4} PAGING in 0.5 s")

    async def test_page_ends_when_the_pager_disconnects(self):
        """A page stops when its pager goes away."""
        node, (c1, c2) = await self._paged_room(2)
        await c1.say("page")
        await c2.expect(PAGING)
        await c1.close()
        await c2.expect("Client 1 disconnected", skip=(PAGING,))
        await c2.expect_silence(0.25, allowed=(PAGING,))
        await c2.expect_silence(0.7, why="no PAGING after the pager left")


# --------------------------------------------------------------------------
# 4-7. Limits and bad input
# --------------------------------------------------------------------------


class BadInputTests(ChatNodeTestCase):
    async def test_frame_over_the_limit_is_closed_with_1009(self):
        """--max-message-bytes=1000: 1000 bytes relay, 1001 bytes get close code 1009; the node lives on."""
        node = await self.start_node("--max-message-bytes=1000")
        c1, c2 = await self.connect_many(node, 2)
        at_limit = "x" * 1000
        t = await c1.say(at_limit)
        await self.expect_relay(c2, c1, at_limit, t)
        await c1.say("y" * 1001)
        await c1.expect_close(1009)
        await c2.expect("Client 1 disconnected")
        c3 = await self.connect(node, 3, room=[c2])
        t = await c3.say("still alive")
        await self.expect_relay(c2, c3, "still alive", t)

    async def test_a_config_file_with_a_misspelt_key_or_wrong_type_stops_the_node(self):
        """A config file's unknown key or mistyped value: exit status 1 and a line naming it."""
        with tempfile.TemporaryDirectory() as tmp:
            ini = Path(tmp) / "node.ini"
            ini.write_text('port=0\nprot=9000\n[scheduler]\nmax-threads="many"\n')
            proc = await asyncio.create_subprocess_exec(
                str(node_binary()), f"--config-file={ini}",
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            try:
                out, err = await asyncio.wait_for(proc.communicate(), 10)
            except asyncio.TimeoutError:
                proc.kill()
                await proc.wait()
                self.fail("chat-node started despite a bad config file")
        self.assertEqual(proc.returncode, 1, err.decode())
        self.assertEqual(out, b"", "nothing listens")
        lines = err.decode().splitlines()
        self.assertIn(f"chat-node: {ini}: unknown option prot", lines)
        self.assertTrue(any(line.startswith(f"chat-node: {ini}: scheduler.max-threads needs a value of type")
                            for line in lines), lines)

    async def test_frame_over_the_default_16_KiB_limit_is_closed_with_1009(self):
        """Default limit: 16384 bytes relay, 16385 bytes get close code 1009."""
        node = await self.start_node()
        c1, c2 = await self.connect_many(node, 2)
        at_limit = "z" * 16384
        t = await c1.say(at_limit)
        await self.expect_relay(c2, c1, at_limit, t)
        await c1.say("z" * 16385)
        await c1.expect_close(1009)
        await c2.expect("Client 1 disconnected")

    async def test_invalid_utf8_text_frame_is_closed_with_1007(self):
        """Text frames with invalid UTF-8 (bad byte, surrogate, overlong, truncated) get close code 1007."""
        node = await self.start_node()
        watcher = await self.connect(node, 1)
        bad_payloads = [b"abc\xff", b"\xed\xa0\x80", b"\xc0\xaf", b"caf\xc3"]
        for i, payload in enumerate(bad_payloads):
            number = 2 + i
            c = await self.connect(node, number, room=[watcher])
            await c.ws.write_frame(True, 0x1, payload)  # FIN, opcode 1 = text
            try:
                await c.expect_close(1007)
            except AssertionError as exc:
                raise AssertionError(f"payload {payload!r}: {exc}") from None
            await watcher.expect(f"Client {number} disconnected")
        await watcher.expect_silence(0.2, why="no relay of invalid frames")

    async def test_binary_frame_gets_an_error_and_the_connection_stays_open(self):
        """A binary frame is answered with the error line; the session keeps working."""
        node = await self.start_node()
        c1, c2 = await self.connect_many(node, 2)
        await c1.ws.send(b"\x00\x01binary\xff")
        await c1.expect(BINARY_ERROR)
        await c2.expect_silence(0.3, why="nothing from another client's binary frame")
        t = await c1.say("text still works")
        await self.expect_relay(c2, c1, "text still works", t)
        await c1.ws.send(b"again")
        await c1.expect(BINARY_ERROR)

    async def test_control_characters_are_replaced_in_relayed_text(self):
        """C0 (except tab), DEL and C1 characters reach others as U+FFFD; other text is untouched."""
        node = await self.start_node()
        c1, c2 = await self.connect_many(node, 2)
        R = "\ufffd"
        cases = [
            ("a\x1b[2Jb", f"a{R}[2Jb"),  # clear screen
            ("x\x1b]0;pwned\x07y", f"x{R}]0;pwned{R}y"),  # window title (OSC ... BEL)
            ("bell\x07del\x7fnul\x00cr\rend", f"bell{R}del{R}nul{R}cr{R}end"),
            ("c1\u0085nel\u009b31mcsi", f"c1{R}nel{R}31mcsi"),  # C1: NEL, CSI
            ("one\ntwo", f"one{R}two"),  # a newline inside a frame is C0 too
            ("tab\tkept", "tab\tkept"),
            ("h\u00e9llo \U0001F389 \u4e16\u754c \u2028x", "h\u00e9llo \U0001F389 \u4e16\u754c \u2028x"),
        ]
        for line, shown in cases:
            t = await c1.say(line)
            await self.expect_relay(c2, c1, shown, t)
        await c1.expect_silence(0.2, why="nothing back for the sender")


# --------------------------------------------------------------------------
# Extras: slash commands, large rooms
# --------------------------------------------------------------------------


class CommandTests(ChatNodeTestCase):
    async def test_unknown_slash_command_gets_an_error(self):
        """`/frobnicate` -> `Error: unknown command: /frobnicate (try /help)`, to the sender only."""
        node = await self.start_node()
        c1, c2 = await self.connect_many(node, 2)
        await c1.say("/frobnicate")
        await c1.expect("Error: unknown command: /frobnicate (try /help)")
        await c2.expect_silence(0.3, why="nothing: the error goes to the sender only")

    async def test_who_lists_everyone_online_to_the_asker_only(self):
        """`/who` names every client online, private-chat members included, only to the asker."""
        node = await self.start_node()
        c1, c2, c3 = await self.connect_many(node, 3)
        await c2.say("invite 3")
        await c2.expect("Private chatting with Client 3")
        await c3.expect("Private chatting with Client 2")
        await c1.say("/who")
        first = await c1.recv(expecting="the /who answer")
        frames = [first] + await c1.collect(0.4)
        text = "\n".join(frames)
        for n in (1, 2, 3):
            self.assertRegex(text, rf"\bClient {n}\b", f"/who answer lacks Client {n}: {frames!r}")
        await c2.expect_silence(0.1, why="nothing: /who answers the asker only")
        await c3.expect_silence(0.1, why="nothing: /who answers the asker only")

    async def test_help_lists_the_commands(self):
        """`/help` mentions page, invite, leave, /who and /help."""
        node = await self.start_node()
        c1, c2 = await self.connect_many(node, 2)
        await c1.say("/help")
        first = await c1.recv(expecting="the /help answer")
        frames = [first] + await c1.collect(0.4)
        text = "\n".join(frames)
        for word in ("page", "invite", "leave", "/who", "/help"):
            self.assertIn(word, text, f"/help answer lacks {word!r}: {frames!r}")
        await c2.expect_silence(0.1, why="nothing: /help answers the asker only")


class LargeRoomTests(ChatNodeTestCase):
    async def test_above_the_announce_limit_arrivals_are_summarised(self):
        """--announce-limit=2: with more members, one summary line per second replaces per-client lines."""
        node = await self.start_node("--announce-limit=2")
        c1, c2 = await self.connect_many(node, 2)  # 2 members: not above the limit
        # Client 3 is the boundary case (announced either way); 4 and 5 arrive above the limit.
        newcomers = [await self.connect(node, n) for n in (3, 4, 5)]
        f1, f2 = await asyncio.gather(c1.collect(2.5), c2.collect(2.5))
        for who, frames in ((c1, f1), (c2, f2)):
            matches = [SUMMARY_RE.match(f) for f in frames]
            bad = [f for f, m in zip(frames, matches) if not m and f != "Client 3 connected"]
            self.assertEqual(bad, [], f"{who}: unexpected lines above the announce limit: {frames!r}")
            summaries = [m for m in matches if m]
            self.assertTrue(
                summaries,
                f"{who}: no '<A> clients connected, <D> disconnected (<K> online)' line within 2.5 s",
            )
            arrived = sum(int(m.group(1)) for m in summaries) + ("Client 3 connected" in frames)
            left = sum(int(m.group(2)) for m in summaries)
            self.assertEqual(
                (arrived, left), (3, 0), f"{who}: the lines must account for 3 arrivals, 0 departures: {frames!r}"
            )
            self.assertEqual(int(summaries[-1].group(3)), 5, f"{who}: last summary should say 5 online: {frames!r}")

        await newcomers[-1].close()  # Client 5 leaves; 4 members remain, still above the limit
        f1, f2 = await asyncio.gather(c1.collect(2.0), c2.collect(2.0))
        for who, frames in ((c1, f1), (c2, f2)):
            self.assertEqual(
                frames, ["0 clients connected, 1 disconnected (4 online)"], f"{who}: after one departure"
            )


def _strip_prompts(line):
    while line.startswith("> "):
        line = line[2:]
    return line


class DraftProtocolTests(ChatNodeTestCase):
    # The example handshake of draft-ietf-hybi-thewebsocketprotocol-00
    # (hixie-76), section 1.3.
    KEY1 = "4 @1  46546xW%0l 1 5"
    KEY2 = "12998 5 Y3 1  .P00"
    KEY3 = b"^n:ds[4U"

    async def test_a_draft_76_handshake_is_refused_with_the_versions_to_use(self):
        """PROTOCOL.md speaks RFC 6455. websocketpp would also take the
        pre-RFC draft hixie-76 (no Sec-WebSocket-Version, other framing):
        the node answers 426 naming the versions it speaks (RFC 6455 4.4),
        nobody hears of the attempt and it takes no client number."""
        node = await self.start_node()
        c1 = await self.connect(node, 1)
        reader, writer = await asyncio.open_connection("127.0.0.1", node.port)

        async def close():
            writer.close()
            await writer.wait_closed()

        self.addAsyncCleanup(close)
        request = (
            "GET / HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{node.port}\r\n"
            "Upgrade: WebSocket\r\nConnection: Upgrade\r\n"
            "Origin: http://127.0.0.1\r\n"
            f"Sec-WebSocket-Key1: {self.KEY1}\r\n"
            f"Sec-WebSocket-Key2: {self.KEY2}\r\n\r\n"
        )
        writer.write(request.encode() + self.KEY3)
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), RECV_TIMEOUT)
        self.assertTrue(head.startswith(b"HTTP/1.1 426"), head)
        self.assertIn(b"\r\nSec-WebSocket-Version: 13, 8, 7\r\n", head)
        await c1.expect_silence(0.3, why="no arrival of the refused client")
        await self.connect(node, 2, room=[c1])


# --------------------------------------------------------------------------
# 8. Shutdown
# --------------------------------------------------------------------------


class ShutdownTests(ChatNodeTestCase):
    async def test_sigterm_tells_every_client_closes_1001_and_exits_0(self):
        """SIGTERM: every client gets `Server shutting down` then close 1001; exit status 0 within 5 s."""
        node = await self.start_node()
        c1, c2, c3 = await self.connect_many(node, 3)
        await c2.say("invite 3")  # one main-room client, two in a private chat
        await c2.expect("Private chatting with Client 3")
        await c3.expect("Private chatting with Client 2")
        t0 = time.monotonic()
        node.signal(signal.SIGTERM)
        for c in (c1, c2, c3):
            await c.expect(SHUTDOWN_LINE)
        await asyncio.gather(*(c.expect_close(1001) for c in (c1, c2, c3)))
        status = await node.wait_exit(EXIT_TIMEOUT - (time.monotonic() - t0))
        self.assertEqual(status, 0, f"exit status after SIGTERM; stderr:\n{node.stderr_tail()}")

    async def test_a_client_behind_on_reading_gets_every_line_then_the_goodbye_then_1001(self):
        """A client that stopped reading while lines piled up for it gets them
        all once it reads again, then `Server shutting down`, then close 1001:
        no line is lost behind the close frame, none comes after it."""
        node = await self.start_node("--max-frames-per-second=0", "--max-backlog-bytes=67108864")
        # A small receive window and a client library that stops reading after
        # one queued message: the node's writes to it stall.
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", node.port))
        started = time.monotonic()
        ws = await websockets.connect(
            node.url, sock=sock, open_timeout=RECV_TIMEOUT, close_timeout=1,
            ping_interval=None, max_size=None, max_queue=1, read_limit=4096,
        )
        slow = Client(ws, 1, started, time.monotonic())
        self.addAsyncCleanup(slow.close)
        await slow.expect("You are Client 1")
        talker = await self.connect(node, 2)
        await slow.expect("Client 2 connected")
        filler = "x" * 16000  # 200 of these are more than the socket buffers hold

        async def frames_sent_reach(count):
            deadline = time.monotonic() + RECV_TIMEOUT
            while (await metrics(node.port))["chat_frames_sent_total"] < count:
                if time.monotonic() > deadline:
                    self.fail(f"the node did not send {count} frames within {RECV_TIMEOUT:g} s")
                await asyncio.sleep(0.02)

        sent = (await metrics(node.port))["chat_frames_sent_total"]
        for k in range(180):
            await talker.say(f"{k:03d} {filler}")
        await frames_sent_reach(sent + 180)  # the write to the slow client is stuck now
        for k in range(180, 200):  # these wait behind it
            await talker.say(f"{k:03d} {filler}")
        await frames_sent_reach(sent + 200)
        node.signal(signal.SIGTERM)
        # Once the talker has the goodbye, the node has queued the slow
        # client's goodbye and close frame too.
        await talker.expect(SHUTDOWN_LINE)
        for k in range(200):
            await slow.expect_where(
                lambda f, k=k: re.fullmatch(rf"\d+ {k:03d} x{{16000}}", f) is not None,
                f"line {k:03d} of 200",
            )
        await slow.expect(SHUTDOWN_LINE)
        await slow.expect_close(1001)
        await talker.expect_close(1001)
        status = await node.wait_exit(EXIT_TIMEOUT)
        self.assertEqual(status, 0, f"exit status after SIGTERM; stderr:\n{node.stderr_tail()}")

    async def test_sigint_behaves_like_sigterm(self):
        """SIGINT: `Server shutting down`, close 1001, exit status 0 within 5 s."""
        node = await self.start_node()
        c1, c2 = await self.connect_many(node, 2)
        t0 = time.monotonic()
        node.signal(signal.SIGINT)
        for c in (c1, c2):
            await c.expect(SHUTDOWN_LINE)
        await asyncio.gather(c1.expect_close(1001), c2.expect_close(1001))
        status = await node.wait_exit(EXIT_TIMEOUT - (time.monotonic() - t0))
        self.assertEqual(status, 0, f"exit status after SIGINT; stderr:\n{node.stderr_tail()}")


# --------------------------------------------------------------------------
# 9. The reference terminal client, unmodified, as a subprocess
# --------------------------------------------------------------------------


class ReferenceClientTests(ChatNodeTestCase):
    async def _start_reference_client(self, url):
        err = tempfile.TemporaryFile()
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(REFERENCE_CLIENT), url,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=err,
        )

        async def cleanup():
            if proc.returncode is None:
                try:  # os.kill, not proc.kill(): see _kill_group
                    os.kill(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                await asyncio.wait_for(proc.wait(), 5)
            except asyncio.TimeoutError:
                pass
            err.close()

        self.addAsyncCleanup(cleanup)
        proc.err_file = err
        proc.lines = []
        return proc

    async def _expect_line(self, proc, expected, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                raw = await asyncio.wait_for(proc.stdout.readline(), remaining)
            except asyncio.TimeoutError:
                break
            if not raw:
                proc.err_file.seek(0)
                self.fail(
                    f"reference client ended its output while {expected!r} was expected; "
                    f"lines: {proc.lines!r}; stderr: {proc.err_file.read().decode(errors='replace')[-1500:]}"
                )
            line = _strip_prompts(raw.decode("utf-8", "replace").rstrip("\n"))
            if not line:
                continue
            proc.lines.append(line)
            self.assertEqual(line, expected, f"reference client printed {line!r}, expected {expected!r}")
            return
        self.fail(f"reference client did not print {expected!r} within {timeout:g} s; lines: {proc.lines!r}")

    async def test_reference_terminal_client_works_unmodified(self):
        """The challenge's stdin/stdout client chats through the node and exits when it stops."""
        node = await self.start_node()
        spawned = time.monotonic()
        ref = await self._start_reference_client(node.url)
        await self._expect_line(ref, "< You are Client 1")
        ref_peer = _Sender(1, spawned, time.monotonic())

        c2 = await self.connect(node, 2)
        await self._expect_line(ref, "< Client 2 connected")
        await c2.say("hi")
        await self._expect_line(ref, "< 0 hi")

        t = time.monotonic()
        ref.stdin.write("hello from the terminal\n".encode())
        await ref.stdin.drain()
        await self.expect_relay(c2, ref_peer, "hello from the terminal", t)

        ref.stdin.write(b"page\n")
        await ref.stdin.drain()
        await c2.expect(PAGING)
        await c2.say("got it")
        await self._expect_line(ref, "< 0 got it")

        node.signal(signal.SIGTERM)
        await self._expect_line(ref, f"< {SHUTDOWN_LINE}")
        await c2.expect(SHUTDOWN_LINE, skip=(PAGING,))
        await c2.expect_close(1001)
        try:
            status = await asyncio.wait_for(ref.wait(), 5)
        except asyncio.TimeoutError:
            self.fail("reference client did not exit within 5 s after the node closed the connection")
        self.assertEqual(status, 0, "reference client exit status")
        self.assertEqual(await node.wait_exit(EXIT_TIMEOUT), 0, "node exit status after SIGTERM")


if __name__ == "__main__":
    argv = list(sys.argv)
    if "--node" in argv:
        i = argv.index("--node")
        if i + 1 >= len(argv):
            sys.exit("--node needs a path")
        os.environ["CHAT_NODE"] = argv[i + 1]
        del argv[i : i + 2]
    for a in list(argv):
        if a.startswith("--node="):
            os.environ["CHAT_NODE"] = a.split("=", 1)[1]
            argv.remove(a)
    unittest.main(argv=argv)
