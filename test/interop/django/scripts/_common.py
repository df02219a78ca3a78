"""
Shared by the scripts: puts the project on sys.path, sets Django up and runs one channel-layer operation through
async_to_sync. Messages arrive on stdin and leave on stdout as JSON with bytes tagged {"__bytes__": base64}.
"""
import json
import os
import sys

PROJECT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if PROJECT_DIR not in sys.path:
    sys.path.insert(0, PROJECT_DIR)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "interop_project.settings")

import django  # noqa: E402

django.setup()

from asgiref.sync import async_to_sync  # noqa: E402
from channels.layers import get_channel_layer  # noqa: E402

from interop_project.tagging import describe_types, tag, untag  # noqa: E402, F401

EXIT_USAGE = 64
EXIT_TIMEOUT = 2


def usage(text):
    sys.stderr.write(f"usage: {text}\n")
    sys.exit(EXIT_USAGE)


def read_message():
    """The tagged JSON object on stdin, with its bytes restored."""
    message = untag(json.load(sys.stdin))
    if not isinstance(message, dict):
        sys.stderr.write("stdin must hold a JSON object (a channel-layer message)\n")
        sys.exit(EXIT_USAGE)
    return message


def emit(value):
    sys.stdout.write(json.dumps(value) + "\n")
    sys.stdout.flush()


def run_with_layer(operation):
    """Runs `await operation(layer)` on the default layer, closing its Redis pools before the loop goes away."""
    layer = get_channel_layer()

    async def main():
        try:
            return await operation(layer)
        finally:
            await layer.close_pools()

    return async_to_sync(main)()
