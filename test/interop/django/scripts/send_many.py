"""send_many.py <channel>: sends each tagged JSON message of the list on stdin to <channel>, in order, from one
process (one Django setup for thousands of sends); prints {"sent": <count>}."""
import json
import sys

from _common import emit, run_with_layer, untag, usage

if len(sys.argv) != 2:
    usage("send_many.py <channel> < messages.json")
channel = sys.argv[1]
messages = [untag(message) for message in json.load(sys.stdin)]


async def send(layer):
    for message in messages:
        await layer.send(channel, message)


run_with_layer(send)
emit({"sent": len(messages)})
