#!/usr/bin/python3
"""The challenge's reference terminal client, as PROTOCOL.md describes it.

Connects to the node, prints "> " as its prompt, sends every line it reads from
stdin as one text frame, prints every received frame as "< <frame>", never sends
anything else, answers pings automatically (websockets does), and exits when the
connection drops (or when stdin reaches end of file).

Usage: reference_client.py [ws://localhost:8765]

Only `websockets` + asyncio. Stdin is read by a daemon thread feeding an asyncio
queue, so the event loop never blocks and the process can exit while a read is
still pending (a run_in_executor worker would keep the interpreter alive at exit).
"""

import asyncio
import sys
import threading

import websockets


async def print_results(socket):
    try:
        async for message in socket:
            print(f"< {message}", flush=True)
    except websockets.ConnectionClosed:
        pass


def start_stdin_reader(loop, queue):
    def reader():
        while True:
            line = sys.stdin.readline()
            loop.call_soon_threadsafe(queue.put_nowait, line)
            if not line:  # end of file
                return

    threading.Thread(target=reader, name="stdin-reader", daemon=True).start()


async def send_lines(socket):
    queue = asyncio.Queue()
    start_stdin_reader(asyncio.get_running_loop(), queue)
    while True:
        print("> ", end="", flush=True)
        line = await queue.get()
        if not line:
            return
        if line.endswith("\n"):  # what input() would strip
            line = line[:-1]
        try:
            await socket.send(line)
        except websockets.ConnectionClosed:
            return


async def main(uri):
    async with websockets.connect(uri) as socket:
        receiver = asyncio.create_task(print_results(socket))
        sender = asyncio.create_task(send_lines(socket))
        done, pending = await asyncio.wait(
            {receiver, sender}, return_when=asyncio.FIRST_COMPLETED
        )
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "ws://localhost:8765"))
