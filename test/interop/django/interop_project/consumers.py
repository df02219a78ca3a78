import json

from channels.consumer import AsyncConsumer
from channels.generic.websocket import AsyncWebsocketConsumer

from .tagging import tag, untag


class GroupConsumer(AsyncWebsocketConsumer):
    """
    /ws/group/<name>/: joins group <name>, then says {"joined": true}. Every group message, whatever its type, goes
    to the client as tagged JSON. A client frame {"group_send": group, "message": {...}} is group_sent (tags
    decoded) and acknowledged with {"group_sent": group}.
    """

    async def connect(self):
        self.group_name = self.scope["url_route"]["kwargs"]["name"]
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        await self.accept()
        await self.send(text_data=json.dumps({"joined": True}))

    async def disconnect(self, code):
        await self.channel_layer.group_discard(self.group_name, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        content = json.loads(text_data)
        group = content["group_send"]
        await self.channel_layer.group_send(group, untag(content["message"]))
        await self.send(text_data=json.dumps({"group_sent": group}))

    async def dispatch(self, message):
        # Forward any layer message rather than needing one handler per type the tests invent.
        if message["type"].startswith("websocket."):
            await super().dispatch(message)
        else:
            await self.send(text_data=json.dumps(tag(message)))


class TaskConsumer(AsyncConsumer):
    """Runs under `runworker django-tasks`: answers every message on the channel named in its `reply_to`."""

    async def dispatch(self, message):
        await self.channel_layer.send(message["reply_to"], {"type": "task.done", "echo": message})
