"""
receive.py <channel> <timeout_s> [--types]: prints the next message on <channel> as tagged JSON; exits 2 if none
arrives in time. With --types it prints {"message": <tagged>, "types": <the same shape with Python type names>}
so a test can tell int from float, which JSON read by JavaScript cannot.
"""
import asyncio
import sys

from _common import EXIT_TIMEOUT, describe_types, emit, run_with_layer, tag, usage

args = sys.argv[1:]
with_types = "--types" in args
args = [arg for arg in args if arg != "--types"]
if len(args) != 2:
    usage("receive.py <channel> <timeout_s> [--types]")
channel = args[0]
try:
    timeout_s = float(args[1])
except ValueError:
    usage(f"receive.py: <timeout_s> must be a number of seconds, got {args[1]!r}")


async def receive(layer):
    try:
        return await asyncio.wait_for(layer.receive(channel), timeout_s)
    except asyncio.TimeoutError:
        return None


message = run_with_layer(receive)
if message is None:
    sys.stderr.write(f"receive.py: no message on {channel!r} within {timeout_s} s\n")
    sys.exit(EXIT_TIMEOUT)
emit({"message": tag(message), "types": describe_types(message)} if with_types else tag(message))
