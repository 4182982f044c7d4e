"""The ASGI entry point; a web process like fanpin/wsgi.py (web statement timeout)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("FANPIN_PROCESS_ROLE", "web")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fanpin.settings")
application = get_asgi_application()
