"""send.py <channel>: sends the tagged JSON message on stdin to <channel>; prints {"sent": <channel>}."""
import sys

from _common import emit, read_message, run_with_layer, usage

if len(sys.argv) != 2:
    usage("send.py <channel> < message.json")
channel = sys.argv[1]
message = read_message()


async def send(layer):
    await layer.send(channel, message)


run_with_layer(send)
emit({"sent": channel})
