"""group_send.py <group>: group_sends the tagged JSON message on stdin; prints {"group_sent": <group>}."""
import sys

from _common import emit, read_message, run_with_layer, usage

if len(sys.argv) != 2:
    usage("group_send.py <group> < message.json")
group = sys.argv[1]
message = read_message()


async def group_send(layer):
    await layer.group_send(group, message)


run_with_layer(group_send)
emit({"group_sent": group})
