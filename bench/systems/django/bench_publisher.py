"""The Django side of the fan-out publisher: `group_send` through the channel layer, one per request.

A line protocol on stdio, driven by bench/systems/broadcasters.ts (which keeps the pacing): prints `ready` once
the layer exists; for each line `<seq>` on stdin sends `bench.message` {seq, sentAt} to BENCH_GROUP and prints
`ok` once channels_redis returned; exits at end of input. sentAt is ms on the machine's monotonic clock, the one
the receiving side's `nowMs()` (bench/harness/ipc.ts) reads.
"""
import asyncio
import os
import sys
import time

from bench_settings import configure

configure()

from channels.layers import get_channel_layer  # noqa: E402


def reply(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def main():
    group = os.environ["BENCH_GROUP"]
    layer = get_channel_layer()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    reply("ready")
    while line := await reader.readline():
        event = {"type": "bench.message", "seq": int(line), "sentAt": time.monotonic_ns() / 1e6}
        await layer.group_send(group, event)
        reply("ok")
    await layer.close_pools()


asyncio.run(main())
