#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fanpin.settings")
    # runserver serves web requests (web statement timeout); every other command runs without one
    os.environ.setdefault("FANPIN_PROCESS_ROLE", "web" if sys.argv[1:2] == ["runserver"] else "command")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
