#!/usr/bin/env python3
"""Django's command line for the demo project: `manage.py runserver 127.0.0.1:8001` serves the view in views.py."""
import os
import sys

if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "updates_project.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
