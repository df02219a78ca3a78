"""Django settings for the benchmark, configured in code from the runner's environment.

BENCH_REDIS_URL is the run's private redis-server, BENCH_PREFIX keeps each run's keys apart. Capacity stays at
channels_redis' default (100 per channel) on purpose: the benchmark reports what an untuned install does.
"""
import os

import django
from django.conf import settings


def configure():
    """Configures Django once; both the daphne application and the publisher call it before touching channels."""
    if settings.configured:
        return
    settings.configure(
        DEBUG=False,
        SECRET_KEY="switchyard-bench",
        ALLOWED_HOSTS=["127.0.0.1"],
        INSTALLED_APPS=["channels"],
        CHANNEL_LAYERS={
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {
                    "hosts": [os.environ["BENCH_REDIS_URL"]],
                    "prefix": os.environ["BENCH_PREFIX"],
                },
            }
        },
    )
    django.setup()
