"""
The minimal Django side: Channels with channels_redis on REDIS_URL. In your own project, the CHANNEL_LAYERS block
is all you add; keep "prefix" (and any encryption keys) the same as the Node layer's.
"""
import os

from django.core.exceptions import ImproperlyConfigured

SECRET_KEY = "switchyard-django-interop-example-not-a-secret"
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["channels"]
ROOT_URLCONF = "updates_project.urls"
DATABASES = {}
USE_TZ = True

try:
    _redis_url = os.environ["REDIS_URL"]
except KeyError:
    raise ImproperlyConfigured("Set REDIS_URL (e.g. redis://127.0.0.1:6379/0), the Redis the Node side uses") from None

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [_redis_url],
            # channels_redis' default; the Node layer uses the same (CHANNELS_PREFIX changes both sides).
            "prefix": os.environ.get("CHANNELS_PREFIX", "asgi"),
        },
    },
}
