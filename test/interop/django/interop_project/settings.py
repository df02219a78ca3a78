"""
Settings read from the environment, so one project serves every test block:

- REDIS_URL (required): the Redis both sides share, e.g. redis://127.0.0.1:6379
- CHANNELS_PREFIX: channels_redis key prefix (no separator is added), default "asgi"
- CHANNELS_KEYS: comma-separated symmetric encryption keys, optional
- CHANNELS_EXPIRY: channels_redis `expiry` in seconds, optional (its default is 60)
- CHANNELS_CAPACITY: channels_redis `capacity`, optional (its default is 100)
- ASGI_APPLICATION: dotted path, default interop_project.asgi.application

No database: nothing here touches the ORM.
"""
import os

from django.core.exceptions import ImproperlyConfigured

SECRET_KEY = "switchyard-interop-tests-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["channels"]
DATABASES = {}
USE_TZ = True

ASGI_APPLICATION = os.environ.get("ASGI_APPLICATION", "interop_project.asgi.application")

try:
    _redis_url = os.environ["REDIS_URL"]
except KeyError:
    raise ImproperlyConfigured("Set REDIS_URL (e.g. redis://127.0.0.1:6379) for the interop project") from None

_layer_config = {
    "hosts": [_redis_url],
    "prefix": os.environ.get("CHANNELS_PREFIX", "asgi"),
}
if os.environ.get("CHANNELS_EXPIRY"):
    _layer_config["expiry"] = int(os.environ["CHANNELS_EXPIRY"])
if os.environ.get("CHANNELS_CAPACITY"):
    _layer_config["capacity"] = int(os.environ["CHANNELS_CAPACITY"])
_keys = [key for key in os.environ.get("CHANNELS_KEYS", "").split(",") if key]
if _keys:
    _layer_config["symmetric_encryption_keys"] = _keys

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": _layer_config,
    }
}

# Everything to stderr, and daphne's own loggers (configured before Django's) left enabled: the Node side waits
# for "Listening on TCP address" and "Running worker for channels" and shows the tail when a process fails.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django.channels.worker": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "channels_redis": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}
