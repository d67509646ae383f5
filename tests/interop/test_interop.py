#!/usr/bin/python3
"""Interoperability: clients no one here wrote, and our chat-client, against a
real chat-node on loopback.

The contract is PROTOCOL.md: every string a client prints is asserted to the
letter. The clients:

- the challenge's Python client (tests/e2e/reference_client.py, Debian's
  python3-websockets), which prints `> ` prompts and `< frame` lines;
- wscat from npm (tests/interop/install-wscat puts it in the build tree),
  which prints each frame bare when its stdout is not a terminal;
- build/chat-client with stdin and stdout on pipes: `< frame` lines, nothing
  else on stdout, its own words on stderr, one exit status per ending;
- build/chat-client on a terminal, under tmux: what `capture-pane` shows.

Run (from the repository root, after scripts/build and install-wscat):

    /usr/bin/python3 tests/interop/test_interop.py --node build/chat-node \\
        --client build/chat-client \\
        --wscat build/tests/interop/node_modules/.bin/wscat -v

Each test starts its own node (or a small server of its own) on an ephemeral
port on 127.0.0.1, bounds every wait, and kills what it started.
"""

import asyncio
import math
import os
import re
import shlex
import signal
import socket
import sys
import tempfile
import time
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE.parent / "e2e"))

import websockets  # noqa: E402  (after the path, like test_e2e's own import)

from test_e2e import (  # noqa: E402
    EXIT_TIMEOUT,
    PAGING,
    RECV_TIMEOUT,
    REFERENCE_CLIENT,
    SHUTDOWN_LINE,
    ChatNodeTestCase,
    _short,
)

PYTHON = "/usr/bin/python3"

# What chat-client says on stderr for each way it ends, and its exit status.
EXIT_LEFT, EXIT_USAGE, EXIT_UNREACHABLE, EXIT_REFUSED, EXIT_LOST, EXIT_CLOSED = 0, 2, 3, 4, 5, 6
EXIT_SIGINT, EXIT_SIGTERM = 130, 143


def binary(option_env, default):
    path = os.environ.get(option_env)
    return Path(path).resolve() if path else default


def chat_client_binary():
    return binary("CHAT_CLIENT", REPO_ROOT / "build" / "chat-client")


def wscat_binary():
    return binary("WSCAT", REPO_ROOT / "build" / "tests" / "interop" / "node_modules" / ".bin" / "wscat")


def strip_prompts(line):
    while line.startswith("> "):
        line = line[2:]
    return line


class LineClient:
    """A client program on pipes: lines in on stdin, frames out on stdout.

    `prefix` is what the program prints before each frame (`< ` or nothing);
    prompts (`> `) are stripped only for programs that print them. Has the
    same expect_where / connect_started / connected_at / name as test_e2e's
    Client, so ChatNodeTestCase.expect_relay works with it."""

    def __init__(self, label, proc, err_file, prefix, prompts, started):
        self.label = label
        self.proc = proc
        self.err_file = err_file
        self.prefix = prefix
        self.prompts = prompts
        self.number = None
        self.connect_started = started
        self.connected_at = None
        self.lines = []

    @property
    def name(self):
        return f"Client {self.number}"

    def __str__(self):
        return f"{self.label} ({self.name})" if self.number else self.label

    def stderr_text(self):
        self.err_file.flush()
        self.err_file.seek(0)
        return self.err_file.read().decode("utf-8", "replace")

    def _context(self):
        return f"lines so far: {_short(self.lines[-8:])}; stderr: {self.stderr_text()[-600:]!r}"

    async def next_line(self, timeout, expecting):
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                if remaining <= 0:
                    raise asyncio.TimeoutError
                raw = await asyncio.wait_for(self.proc.stdout.readline(), remaining)
            except asyncio.TimeoutError:
                raise AssertionError(
                    f"{self}: printed no line within {timeout:g} s while waiting for {expecting}; "
                    + self._context()
                ) from None
            if not raw:
                raise AssertionError(
                    f"{self}: output ended while waiting for {expecting}; " + self._context()
                )
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if self.prompts:
                line = strip_prompts(line)
                if not line:
                    continue
            self.lines.append(line)
            return line

    async def expect_where(self, predicate, description, skip=(), timeout=RECV_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            line = await self.next_line(max(0.0, deadline - time.monotonic()), description)
            if not line.startswith(self.prefix):
                raise AssertionError(
                    f"{self}: printed {line!r}, which is not {self.prefix!r} + a frame, "
                    f"while waiting for {description}; " + self._context()
                )
            frame = line[len(self.prefix):]
            if frame in skip:
                continue
            if predicate(frame):
                return frame
            raise AssertionError(
                f"{self}: printed {line!r}, expected {self.prefix!r} + {description}; " + self._context()
            )

    async def expect(self, expected, skip=(), timeout=RECV_TIMEOUT):
        return await self.expect_where(lambda f: f == expected, _short(expected), skip, timeout)

    async def expect_greeting(self, number):
        await self.expect(f"You are Client {number}")
        self.number = number
        self.connected_at = time.monotonic()

    async def say(self, text):
        t = time.monotonic()
        self.proc.stdin.write(text.encode() + b"\n")
        await self.proc.stdin.drain()
        return t

    def end_input(self):
        self.proc.stdin.close()

    async def wait_exit(self, timeout=EXIT_TIMEOUT):
        try:
            return await asyncio.wait_for(self.proc.wait(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"{self}: did not exit within {timeout:g} s; " + self._context()) from None

    async def rest_of_output(self, timeout=EXIT_TIMEOUT):
        """Every line until the program closes its stdout."""
        try:
            raw = await asyncio.wait_for(self.proc.stdout.read(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"{self}: kept its stdout open for {timeout:g} s; " + self._context()) from None
        return raw.decode("utf-8", "replace").splitlines()


class InteropTestCase(ChatNodeTestCase):
    """Starts client programs as subprocesses and cleans them up."""

    async def start_program(self, label, args, prefix, prompts):
        err = tempfile.TemporaryFile()
        started = time.monotonic()
        try:
            proc = await asyncio.create_subprocess_exec(
                *map(str, args),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=err,
                env={**os.environ, "LANG": "C.UTF-8"},
            )
        except OSError as exc:
            err.close()
            self.fail(f"cannot start {label} ({args}): {exc}")

        async def cleanup():
            if proc.returncode is None:
                try:  # os.kill, not proc.kill(): see test_e2e's _kill_group
                    os.kill(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                await asyncio.wait_for(proc.wait(), 5)
            except asyncio.TimeoutError:
                pass
            err.close()

        self.addAsyncCleanup(cleanup)
        return LineClient(label, proc, err, prefix, prompts, started)

    async def start_chat_client(self, url, *extra):
        binary = chat_client_binary()
        if not binary.exists():
            self.fail(f"chat-client not found at {binary}: build it, or pass --client PATH")
        return await self.start_program("chat-client", [binary, "--url", url, *extra], "< ", prompts=False)

    async def start_reference_client(self, url):
        return await self.start_program("reference client", [PYTHON, REFERENCE_CLIENT, url], "< ", prompts=True)

    async def start_wscat(self, url):
        binary = wscat_binary()
        if not binary.exists():
            self.fail(f"wscat not found at {binary}: run tests/interop/install-wscat, or pass --wscat PATH")
        return await self.start_program("wscat", [binary, "--no-color", "-c", url], "", prompts=True)

    def assert_stderr(self, client, *fragments):
        text = client.stderr_text()
        for fragment in fragments:
            self.assertIn(fragment, text, f"{client}: stderr lacks {fragment!r}")


# --------------------------------------------------------------------------
# 1. Three programs no one wrote for each other, in one chat
# --------------------------------------------------------------------------


class ClientsInteroperateTests(InteropTestCase):
    async def test_reference_client_wscat_and_chat_client_chat_together(self):
        """Greetings, arrivals, relays, a private chat, /who, page and departures,
        each seen by three different client programs as PROTOCOL.md says."""
        node = await self.start_node()
        cc = await self.start_chat_client(node.url)
        await cc.expect_greeting(1)
        ref = await self.start_reference_client(node.url)
        await ref.expect_greeting(2)
        await cc.expect("Client 2 connected")
        ws = await self.start_wscat(node.url)
        await ws.expect_greeting(3)
        await cc.expect("Client 3 connected")
        await ref.expect("Client 3 connected")

        # Task 1 and 2: every line reaches the others as `<S> line`.
        t = await cc.say("hello from chat-client")
        await self.expect_relay(ref, cc, "hello from chat-client", t)
        await self.expect_relay(ws, cc, "hello from chat-client", t)
        t = await ref.say("hello from the reference client")
        await self.expect_relay(cc, ref, "hello from the reference client", t)
        await self.expect_relay(ws, ref, "hello from the reference client", t)
        t = await ws.say("hello from wscat")
        await self.expect_relay(cc, ws, "hello from wscat", t)
        await self.expect_relay(ref, ws, "hello from wscat", t)

        # Task 4: wscat invites chat-client; the reference client sees nothing.
        await ws.say("invite 1")
        await ws.expect("Private chatting with Client 1")
        await cc.expect("Private chatting with Client 3")
        t = await cc.say("just us")
        await self.expect_relay(ws, cc, "just us", t)
        await ref.say("invite Client 3")
        await ref.expect("Error: Client 3 is already in a private chat")
        await cc.say("leave")
        await cc.expect("Private chat ended.")
        await ws.expect("Private chat ended.")

        await ref.say("/who")
        for line in ("Online: 3", "Client 1", "Client 2 (you)", "Client 3"):
            await ref.expect(line)

        # Task 3: the reference client pages; chat-client's line stops it.
        await ref.say("page")
        await cc.expect(PAGING)
        await ws.expect(PAGING)
        t = await cc.say("I am here")
        await self.expect_relay(ref, cc, "I am here", t)
        await self.expect_relay(ws, cc, "I am here", t, skip=(PAGING,))

        # Departures: end of input for the reference client and wscat,
        # /quit for chat-client; each exits 0.
        ref.end_input()
        self.assertEqual(await ref.wait_exit(), 0, "reference client exit status")
        await cc.expect("Client 2 disconnected", skip=(PAGING,))
        await ws.expect("Client 2 disconnected", skip=(PAGING,))
        await cc.say("/quit")
        self.assertEqual(await cc.wait_exit(), EXIT_LEFT, f"chat-client exit status; stderr: {cc.stderr_text()!r}")
        await ws.expect("Client 1 disconnected", skip=(PAGING,))
        ws.end_input()
        self.assertEqual(await ws.wait_exit(), 0, "wscat exit status")

        # chat-client on pipes printed frames and nothing else: no prompt,
        # no escape sequence, `< ` before every line.
        cc_lines = cc.lines + await cc.rest_of_output()
        for line in cc_lines:
            self.assertTrue(line.startswith("< "), f"chat-client printed {line!r} on a pipe")
            self.assertNotIn("\x1b", line, "chat-client printed an escape sequence on a pipe")
        self.assert_stderr(cc, "/quit; left the chat")

    async def test_every_client_sees_the_shutdown_line_and_exits(self):
        """SIGTERM to the node: all three print `Server shutting down`; chat-client
        also says how the server closed (1001 and the reason) and exits 6."""
        node = await self.start_node()
        cc = await self.start_chat_client(node.url)
        await cc.expect_greeting(1)
        ref = await self.start_reference_client(node.url)
        await ref.expect_greeting(2)
        await cc.expect("Client 2 connected")
        ws = await self.start_wscat(node.url)
        await ws.expect_greeting(3)
        await cc.expect("Client 3 connected")
        await ref.expect("Client 3 connected")

        node.signal(signal.SIGTERM)
        for client in (cc, ref, ws):
            await client.expect(SHUTDOWN_LINE)
        self.assertEqual(await cc.wait_exit(), EXIT_CLOSED, "chat-client exit status")
        self.assertEqual(await ref.wait_exit(), 0, "reference client exit status")
        self.assertEqual(await ws.wait_exit(), 0, "wscat exit status")
        self.assert_stderr(
            cc, "the server closed the connection: 1001 (going away), reason: Server shutting down"
        )
        self.assertEqual(await node.wait_exit(EXIT_TIMEOUT), 0, "node exit status")


# --------------------------------------------------------------------------
# 2. chat-client on pipes: every ending has its words and exit status
# --------------------------------------------------------------------------


class ChatClientEndingTests(InteropTestCase):
    async def serve(self, handler):
        """A WebSocket server of the test's own on 127.0.0.1; returns its URL."""
        server = await websockets.serve(handler, "127.0.0.1", 0, ping_interval=None)

        async def cleanup():
            server.close()
            await server.wait_closed()

        self.addAsyncCleanup(cleanup)
        return f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/"

    def recording_server(self):
        """A handler that greets, records what it receives and how the client closed."""
        record = {"frames": [], "closed": asyncio.get_running_loop().create_future()}

        async def handler(ws, path=None):
            await ws.send("welcome")
            try:
                async for frame in ws:
                    record["frames"].append(frame)
            except websockets.ConnectionClosed:
                pass
            if not record["closed"].done():
                record["closed"].set_result((ws.close_code, ws.close_reason))

        return record, handler

    async def closed_with(self, record):
        try:
            return await asyncio.wait_for(asyncio.shield(record["closed"]), RECV_TIMEOUT)
        except asyncio.TimeoutError:
            self.fail(f"the server saw no close within {RECV_TIMEOUT:g} s")

    async def test_end_of_input_sends_every_line_closes_with_1000_and_exits_0(self):
        record, handler = self.recording_server()
        url = await self.serve(handler)
        cc = await self.start_chat_client(url)
        await cc.expect("welcome")
        await cc.say("first line")
        await cc.say("  second line, white space kept\t")
        cc.end_input()
        self.assertEqual(await cc.wait_exit(), EXIT_LEFT)
        self.assertEqual(await self.closed_with(record), (1000, ""))
        self.assertEqual(record["frames"], ["first line", "  second line, white space kept\t"])
        self.assert_stderr(cc, "end of input; left the chat")

    async def test_quit_closes_with_1000_exits_0_and_sends_nothing_after(self):
        record, handler = self.recording_server()
        url = await self.serve(handler)
        cc = await self.start_chat_client(url)
        await cc.expect("welcome")
        cc.proc.stdin.write(b"before\n  /quit  \nafter\n")
        await cc.proc.stdin.drain()
        self.assertEqual(await cc.wait_exit(), EXIT_LEFT)
        self.assertEqual(await self.closed_with(record), (1000, ""))
        self.assertEqual(record["frames"], ["before"], "/quit is not sent, and nothing after it")
        self.assert_stderr(cc, "/quit; left the chat")

    async def test_ctrl_c_closes_with_1001_and_exits_130(self):
        record, handler = self.recording_server()
        url = await self.serve(handler)
        cc = await self.start_chat_client(url)
        await cc.expect("welcome")
        os.kill(cc.proc.pid, signal.SIGINT)
        self.assertEqual(await cc.wait_exit(), EXIT_SIGINT)
        self.assertEqual((await self.closed_with(record))[0], 1001)
        self.assert_stderr(cc, "interrupted (Ctrl-C); left the chat")

    async def test_sigterm_closes_with_1001_and_exits_143(self):
        record, handler = self.recording_server()
        url = await self.serve(handler)
        cc = await self.start_chat_client(url)
        await cc.expect("welcome")
        os.kill(cc.proc.pid, signal.SIGTERM)
        self.assertEqual(await cc.wait_exit(), EXIT_SIGTERM)
        self.assertEqual((await self.closed_with(record))[0], 1001)
        self.assert_stderr(cc, "terminated (SIGTERM); left the chat")

    async def test_ctrl_c_before_the_handshake_is_answered_exits_130(self):
        # A socket that listens but never answers: TCP connects, the
        # WebSocket handshake waits.
        with socket.socket() as silent:
            silent.bind(("127.0.0.1", 0))
            silent.listen()
            silent.setblocking(False)
            url = f"ws://127.0.0.1:{silent.getsockname()[1]}/"
            cc = await self.start_chat_client(url)
            # Connected: the client is in its loop, its signal handling set up.
            accepted, _ = await asyncio.wait_for(
                asyncio.get_running_loop().sock_accept(silent), RECV_TIMEOUT
            )
            with accepted:  # open until the end: no EOF to race the signal
                os.kill(cc.proc.pid, signal.SIGINT)
                self.assertEqual(await cc.wait_exit(timeout=2), EXIT_SIGINT)
        self.assert_stderr(cc, f"interrupted (Ctrl-C); gave up connecting to {url}")

    async def test_unreachable_server_exits_3(self):
        # A bound socket that does not listen: connecting to it is refused.
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            url = f"ws://127.0.0.1:{closed.getsockname()[1]}/"
            cc = await self.start_chat_client(url)
            self.assertEqual(await cc.wait_exit(), EXIT_UNREACHABLE)
        self.assertEqual(await cc.rest_of_output(), [], "nothing on stdout")
        self.assert_stderr(cc, f"cannot reach {url}: Connection refused")

    async def test_refused_handshake_exits_4_with_the_http_status(self):
        async def not_websocket(reader, writer):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(not_websocket, "127.0.0.1", 0)
        self.addAsyncCleanup(server.wait_closed)
        self.addCleanup(server.close)
        url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
        cc = await self.start_chat_client(url)
        self.assertEqual(await cc.wait_exit(), EXIT_REFUSED)
        self.assert_stderr(cc, f"{url} did not accept the WebSocket handshake: HTTP 404 Not Found")

    async def test_connection_dropped_without_close_frame_exits_5(self):
        async def drop(ws, path=None):
            await ws.send("welcome")
            await asyncio.sleep(0.2)
            ws.transport.abort()

        url = await self.serve(drop)
        cc = await self.start_chat_client(url)
        await cc.expect("welcome")
        self.assertEqual(await cc.wait_exit(), EXIT_LOST)
        self.assert_stderr(cc, f"connection to {url} lost")

    async def test_killed_node_is_a_lost_connection(self):
        node = await self.start_node()
        cc = await self.start_chat_client(node.url)
        await cc.expect_greeting(1)
        node.signal(signal.SIGKILL)
        self.assertEqual(await cc.wait_exit(), EXIT_LOST)
        self.assert_stderr(cc, f"connection to {node.url} lost")

    async def test_server_close_shows_code_and_reason_and_exits_6(self):
        async def close_4000(ws, path=None):
            await ws.send("welcome")
            await ws.close(4000, "closing time")

        url = await self.serve(close_4000)
        cc = await self.start_chat_client(url)
        await cc.expect("welcome")
        self.assertEqual(await cc.wait_exit(), EXIT_CLOSED)
        self.assert_stderr(cc, "the server closed the connection: 4000 (unknown code), reason: closing time")

    async def test_line_over_the_nodes_limit_is_closed_1009_and_said_so(self):
        node = await self.start_node("--max-message-bytes=100")
        cc = await self.start_chat_client(node.url)
        await cc.expect_greeting(1)
        await cc.say("x" * 101)
        self.assertEqual(await cc.wait_exit(), EXIT_CLOSED)
        self.assert_stderr(cc, "the server closed the connection: 1009 (message too big)")

    async def test_bad_command_lines_exit_2_and_help_exits_0(self):
        for args, words in (
            (["--url"], "--url needs a value"),
            (["--bogus"], "unknown option --bogus"),
            (["--url=http://127.0.0.1:1/"], "not a ws:// or wss:// URL"),
            (["--ca-file", "ca.pem", "ws://127.0.0.1:1/"], "--ca-file is for wss:// URLs"),
            (["--ca-file"], "--ca-file needs a value"),
            (["ws://127.0.0.1:1/", "ws://127.0.0.1:2/"], "more than one URL"),
            (["--url=ws://"], "not a URL"),
        ):
            with self.subTest(args=args):
                cc = await self.start_program("chat-client", [chat_client_binary(), *args], "< ", False)
                self.assertEqual(await cc.wait_exit(), EXIT_USAGE)
                self.assert_stderr(cc, words)
        cc = await self.start_program("chat-client", [chat_client_binary(), "--help"], "", False)
        self.assertEqual(await cc.wait_exit(), 0)
        out = "\n".join(await cc.rest_of_output())
        self.assertIn("Usage: chat-client [--url ws://HOST:PORT/]", out)
        self.assertIn("Exit codes:", out)

    async def test_invalid_utf8_line_is_not_sent_and_the_session_goes_on(self):
        record, handler = self.recording_server()
        url = await self.serve(handler)
        cc = await self.start_chat_client(url)
        await cc.expect("welcome")
        cc.proc.stdin.write(b"caf\xe9\nstill here\n")
        cc.end_input()
        self.assertEqual(await cc.wait_exit(), EXIT_LEFT)
        self.assertEqual(record["frames"], ["still here"])
        self.assert_stderr(cc, "not sent: the line is not valid UTF-8")

    async def test_received_frames_are_printed_terminal_safe_one_per_line(self):
        """Another server may send what the node never would: control characters
        never reach the output, a line break inside a frame starts an indented
        line, a binary frame is reported, not printed."""
        sent = asyncio.get_running_loop().create_future()

        async def hostile(ws, path=None):
            await ws.send("a\x1b[2Jb\x07c\u009bd\te")
            await ws.send("first\nsecond\r\nthird")
            await ws.send(b"\x00\x01\x02")
            await ws.send("last")
            sent.set_result(True)
            await ws.wait_closed()

        url = await self.serve(hostile)
        cc = await self.start_chat_client(url)
        await cc.expect("a\ufffd[2Jb\ufffdc\ufffdd\te")
        await cc.expect("first")
        self.assertEqual(await cc.next_line(RECV_TIMEOUT, "the second line of a frame"), "  second")
        self.assertEqual(await cc.next_line(RECV_TIMEOUT, "the third line of a frame"), "  third")
        await cc.expect("last")
        cc.end_input()
        self.assertEqual(await cc.wait_exit(), EXIT_LEFT)
        self.assert_stderr(cc, "ignored a binary frame of 3 bytes")


# --------------------------------------------------------------------------
# 3. chat-client on a terminal, under tmux
# --------------------------------------------------------------------------


class Tmux:
    """A private tmux server (own socket, no config) with one pane."""

    def __init__(self, directory):
        self.socket = os.path.join(directory, "tmux.sock")

    async def run(self, *args, check=True):
        proc = await asyncio.create_subprocess_exec(
            "tmux", "-S", self.socket, "-f", "/dev/null", *args,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(), 5)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
            raise AssertionError(f"tmux {' '.join(args)} did not finish within 5 s") from None
        if check and proc.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)} failed: {err.decode(errors='replace')}")
        return out.decode("utf-8", "replace")

    async def screen(self):
        """The visible pane, one string per line (wrapped rows joined), trailing
        blanks removed."""
        return [row.rstrip() for row in (await self.run("capture-pane", "-p", "-J")).split("\n")]

    async def cursor(self):
        x, y = (await self.run("display-message", "-p", "#{cursor_x} #{cursor_y}")).split()
        return int(x), int(y)

    async def type(self, text):
        await self.run("send-keys", "-l", text)

    async def keys(self, *names):
        await self.run("send-keys", *names)

    async def kill(self):
        await self.run("kill-server", check=False)


class TerminalTests(InteropTestCase):
    async def start_in_tmux(self, url):
        """chat-client in a 80x24 tmux pane; its exit status is printed after it."""
        directory = tempfile.mkdtemp(prefix="chat-client-tmux-")
        tmux = Tmux(directory)
        command = (
            # The shell survives Ctrl-C (a trap, not SIG_IGN, which the
            # client would inherit) to print the client's exit status.
            "trap : INT; "
            f"{shlex.quote(str(chat_client_binary()))} --url {shlex.quote(url)}; "
            'echo "exit status $?"; exec sleep 60'
        )
        await tmux.run(
            "new-session", "-d", "-x", "80", "-y", "24",
            "-e", "LANG=C.UTF-8", "sh", "-c", command,
        )

        async def cleanup():
            await tmux.kill()
            for name in os.listdir(directory):
                os.unlink(os.path.join(directory, name))
            os.rmdir(directory)

        self.addAsyncCleanup(cleanup)
        return tmux

    async def wait_screen(self, tmux, predicate, what, timeout=RECV_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            rows = await tmux.screen()
            if predicate(rows):
                return rows
            if time.monotonic() > deadline:
                self.fail(f"the terminal never showed {what}; screen:\n" + "\n".join(rows).rstrip())
            await asyncio.sleep(0.05)

    async def wait_row(self, tmux, row):
        return await self.wait_screen(tmux, lambda rows: row in rows, repr(row))

    @staticmethod
    def last_row(rows):
        filled = [r for r in rows if r]
        return filled[-1] if filled else ""

    async def test_a_message_arriving_mid_line_leaves_the_typed_line_intact(self):
        """The frame prints above the prompt; the half-typed line is redrawn, the
        cursor stays after it, and finishing it sends the whole line."""
        node = await self.start_node()
        tmux = await self.start_in_tmux(node.url)
        await self.wait_row(tmux, "< You are Client 1")
        await self.wait_screen(tmux, lambda rows: self.last_row(rows) == ">", "the prompt")

        await tmux.type("half typed")
        await self.wait_screen(tmux, lambda rows: self.last_row(rows) == "> half typed", "the typed text")
        peer = await self.connect(node, 2)
        await self.wait_row(tmux, "< Client 2 connected")
        await peer.say("hello while you type")
        rows = await self.wait_screen(
            tmux, lambda rows: any(re.fullmatch(r"< \d+ hello while you type", r) for r in rows),
            "the peer's line",
        )
        filled = [r for r in rows if r]
        self.assertEqual(filled[-1], "> half typed", f"the typed line is not intact:\n{rows}")
        self.assertRegex(filled[-2], r"^< \d+ hello while you type$", "the frame prints right above the prompt")
        self.assertEqual(sum("half typed" in r for r in rows), 1, f"the typed line shows once:\n{rows}")
        x, y = await tmux.cursor()
        self.assertEqual((x, rows[y]), (len("> half typed"), "> half typed"), "the cursor is after the typed text")
        print(f"\ntmux capture-pane after a message arrived mid-line:\n" + "\n".join(filled), file=sys.stderr)

        # Readline still holds the text: finishing the line sends all of it.
        await tmux.type(" and finished")
        await tmux.keys("Enter")
        await peer.expect_where(
            lambda f: re.fullmatch(r"\d+ half typed and finished", f) is not None,
            "the finished line",
        )

        # Line editing and history: Up recalls the line, Home and Left move.
        await self.wait_screen(tmux, lambda rows: self.last_row(rows) == ">", "a fresh prompt")
        await tmux.keys("Up")
        await self.wait_screen(tmux, lambda rows: self.last_row(rows) == "> half typed and finished",
                               "the recalled line")
        await tmux.keys("Home")
        await tmux.type("so: ")
        await tmux.keys("End", *["BSpace"] * len("finished"))
        await tmux.type("edited")
        await tmux.keys("Enter")
        await peer.expect_where(lambda f: re.fullmatch(r"\d+ so: half typed and edited", f) is not None,
                                "the edited line")

    async def test_ctrl_c_leaves_and_exits_130(self):
        node = await self.start_node()
        peer = await self.connect(node, 1)
        tmux = await self.start_in_tmux(node.url)
        await self.wait_row(tmux, "< You are Client 2")
        await peer.expect("Client 2 connected")
        await tmux.type("never sent")
        await self.wait_screen(tmux, lambda rows: self.last_row(rows) == "> never sent", "the typed text")
        await tmux.keys("C-c")
        rows = await self.wait_row(tmux, "exit status 130")
        self.assertIn("chat-client: interrupted (Ctrl-C); left the chat", rows)
        await peer.expect("Client 2 disconnected")

    async def test_the_server_closing_mid_line_is_reported_with_code_and_reason(self):
        node = await self.start_node()
        tmux = await self.start_in_tmux(node.url)
        await self.wait_row(tmux, "< You are Client 1")
        await tmux.type("half")
        await self.wait_screen(tmux, lambda rows: self.last_row(rows) == "> half", "the typed text")
        node.signal(signal.SIGTERM)
        rows = await self.wait_row(tmux, "exit status 6")
        filled = [r for r in rows if r]
        self.assertEqual(
            filled[-4:],
            [
                f"< {SHUTDOWN_LINE}",
                "> half",
                "chat-client: the server closed the connection: 1001 (going away), "
                "reason: Server shutting down",
                "exit status 6",
            ],
        )

    async def test_end_of_input_ctrl_d_exits_0(self):
        node = await self.start_node()
        tmux = await self.start_in_tmux(node.url)
        await self.wait_row(tmux, "< You are Client 1")
        await self.wait_screen(tmux, lambda rows: self.last_row(rows) == ">", "the prompt")
        await tmux.keys("C-d")
        rows = await self.wait_row(tmux, "exit status 0")
        self.assertIn("chat-client: end of input; left the chat", rows)


def main():
    argv = list(sys.argv)
    for option, env in (("--node", "CHAT_NODE"), ("--client", "CHAT_CLIENT"), ("--wscat", "WSCAT")):
        for i, arg in enumerate(argv):
            if arg == option and i + 1 < len(argv):
                os.environ[env] = argv[i + 1]
                del argv[i : i + 2]
                break
            if arg.startswith(option + "="):
                os.environ[env] = arg.split("=", 1)[1]
                del argv[i]
                break
    unittest.main(argv=argv)


if __name__ == "__main__":
    main()
