"""Starts a packaged chat-node with the packaged ini on a free loopback
port and checks that it serves: the packaged chat-client's /who is
answered, /healthz counts the session; optionally SIGHUP (what systemctl
reload sends) keeps the node and the session; SIGTERM ends it with 0.

  serve_check.py NODE INI CLIENT RELOAD(0|1)

Run by scripts/package-check on the binaries dpkg-deb -x extracted."""

import json
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

node_path, ini, client_path = sys.argv[1:4]
reload = sys.argv[4] == "1"

logs = tempfile.TemporaryDirectory()
out = open(f"{logs.name}/out", "w+")
err = open(f"{logs.name}/err", "w+")
# The packaged ini as the unit passes it; only the port is the command
# line's, which wins over the file.
node = subprocess.Popen([node_path, f"--config-file={ini}", "--port=0"],
                        stdout=out, stderr=err)
chat = None


def fail(why):
    for proc in (chat, node):
        if proc and proc.poll() is None:
            proc.kill()
    err.seek(0)
    sys.exit(f"{why}\nchat-node's stderr: {err.read()!r}")


def poll(what, found):
    """found() until it is true, 10 s at most, while the node lives."""
    deadline = time.monotonic() + 10
    while not (result := found()):
        if node.poll() is not None:
            fail(f"chat-node ended ({node.returncode}) before {what}")
        if time.monotonic() > deadline:
            fail(f"no {what} within 10 s")
        time.sleep(0.05)
    return result


def grep(log, pattern):
    log.seek(0)
    return re.search(pattern, log.read())


port = int(poll("listening line", lambda: grep(
    out, r"listening on ws://127\.0\.0\.1:(\d+)/")).group(1))
chat = subprocess.Popen([client_path, "--url", f"ws://127.0.0.1:{port}/"],
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, text=True)


def who():
    chat.stdin.write("/who\n")
    chat.stdin.flush()
    seen = []
    # Bounded: the node closes within its timeouts, and 20 lines is plenty.
    for line in chat.stdout:
        seen.append(line.rstrip("\n"))
        if seen[-1] == "< Client 1 (you)" or len(seen) > 20:
            break
    if "< Online: 1" not in seen or "< Client 1 (you)" not in seen:
        fail(f"chat-client saw {seen!r}")


def healthz():
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz",
                                    timeout=5) as answer:
            health = json.load(answer)
    except OSError as e:
        fail(f"/healthz: {e}")
    if health.get("status") != "ok" or health.get("sessions") != 1:
        fail(f"/healthz said {health!r}")
    return health


who()
print(f"port {port}: chat-client's /who answered, /healthz {healthz()}")
if reload:
    node.send_signal(signal.SIGHUP)
    poll("SIGHUP line on stderr", lambda: grep(err, r"SIGHUP"))
    who()
    healthz()
    print("SIGHUP (systemctl reload): the node said so, kept the session "
          "and serves")
else:
    print("SIGHUP not checked: this node has no --tls-cert yet")
chat.stdin.close()
if (code := chat.wait(timeout=5)) != 0:
    fail(f"chat-client ended with {code}: {chat.stderr.read()!r}")
node.send_signal(signal.SIGTERM)
try:
    code = node.wait(timeout=10)
except subprocess.TimeoutExpired:
    fail("chat-node still runs 10 s after SIGTERM")
if code != 0:
    fail(f"chat-node ended with {code} on SIGTERM")
print("SIGTERM: chat-node ended with 0")
