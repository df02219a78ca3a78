"""Django Channels under test, run by daphne: an echo consumer at /echo/ and a group member at /fanout/.

Started by bench/systems/django-server.ts as `python3 -m daphne ... bench_app:application`.
"""
import os

from bench_settings import configure

configure()

# Channels reads the settings at import time, so these imports follow configure().
from channels.generic.websocket import AsyncJsonWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

GROUP = os.environ["BENCH_GROUP"]


class EchoConsumer(AsyncJsonWebsocketConsumer):
    """Echoes every JSON message back."""

    async def receive_json(self, content, **kwargs):
        await self.send_json(content)


class MemberConsumer(AsyncJsonWebsocketConsumer):
    """Joins the fan-out group before accepting, then forwards each `bench.message` to its client."""

    async def connect(self):
        await self.channel_layer.group_add(GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(GROUP, self.channel_name)

    async def bench_message(self, event):
        await self.send_json({"seq": event["seq"], "sentAt": event["sentAt"]})


application = ProtocolTypeRouter(
    {
        "websocket": URLRouter(
            [
                path("echo/", EchoConsumer.as_asgi()),
                path("fanout/", MemberConsumer.as_asgi()),
            ]
        ),
    }
)
