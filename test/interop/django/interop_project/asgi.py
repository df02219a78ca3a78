import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "interop_project.settings")
# Sets Django up before the consumers import anything that needs settings. No HTTP route: nothing here serves pages.
get_asgi_application()

from channels.routing import ChannelNameRouter, ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from .consumers import GroupConsumer, TaskConsumer  # noqa: E402

application = ProtocolTypeRouter(
    {
        "websocket": URLRouter([path("ws/group/<str:name>/", GroupConsumer.as_asgi())]),
        "channel": ChannelNameRouter({"django-tasks": TaskConsumer.as_asgi()}),
    }
)
