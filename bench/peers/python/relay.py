#!/usr/bin/python3
"""The chat relay on Python asyncio and websockets: a peer for bench/run.

Each line goes to every other client as `<S> <line>` (S: whole seconds since
the sender connected), with `You are Client N` and `Client N connected` /
`disconnected`; above --announce-limit members, arrivals and departures are
summed up once a second, as chat-node does (PROTOCOL.md, "Large rooms").
websockets.broadcast() frames each line once for all recipients.
"""
import argparse
import asyncio
import resource
import time

import websockets

clients = {}  # websocket -> connect time
counts = {"next": 1, "arrived": 0, "left": 0}


def announce(kind, text, skip, limit):
    if len(clients) > limit:
        counts[kind] += 1
        return
    websockets.broadcast([c for c in clients if c is not skip], text)


async def handler(ws, path=None):
    n = counts["next"]
    counts["next"] += 1
    clients[ws] = time.monotonic()
    await ws.send(f"You are Client {n}")
    announce("arrived", f"Client {n} connected", ws, ARGS.announce_limit)
    try:
        async for line in ws:
            if not isinstance(line, str) or not line.strip():
                continue
            seconds = int(time.monotonic() - clients[ws])
            websockets.broadcast([c for c in clients if c is not ws],
                                 f"{seconds} {line}")
    except websockets.ConnectionClosed:
        pass  # a client that leaves without a close frame is no error here
    finally:
        del clients[ws]
        announce("left", f"Client {n} disconnected", None, ARGS.announce_limit)


async def summaries():
    while True:
        await asyncio.sleep(1)
        a, d = counts["arrived"], counts["left"]
        if a or d:
            counts["arrived"] = counts["left"] = 0
            websockets.broadcast(
                list(clients),
                f"{a} clients connected, {d} disconnected "
                f"({len(clients)} online)")


async def main():
    async with websockets.serve(handler, ARGS.host, ARGS.port,
                                compression=None, backlog=4096,
                                ping_interval=None) as server:
        port = server.sockets[0].getsockname()[1]
        loop = "uvloop" if ARGS.uvloop else "asyncio"
        print(f"python-{loop} listening on ws://{ARGS.host}:{port}/",
              flush=True)
        await summaries()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--announce-limit", type=int, default=1000)
    parser.add_argument("--uvloop", action="store_true")
    ARGS = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if ARGS.uvloop:
        import uvloop
        uvloop.install()
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
