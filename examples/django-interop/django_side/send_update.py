#!/usr/bin/env python3
"""
send_update.py [text]: sends one `update.message` to the group "updates", from Django, the way a view or a task
would. Every page open on the Switchyard side shows it. Needs REDIS_URL (the same Redis as the Node side).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "updates_project.settings")

import django  # noqa: E402

django.setup()

from updates_project.views import send_update  # noqa: E402

text = " ".join(sys.argv[1:]) or "hello from Django"
send_update(text, source="send_update.py")
print(f'sent to group "updates": {text}')
