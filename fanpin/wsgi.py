"""The WSGI entry point (gunicorn and any other WSGI server).

It marks the process as a web process before the settings load, so its PostgreSQL connections get
the web statement timeout (``WEB_STATEMENT_TIMEOUT``; see ``PROCESS_ROLE`` in settings).
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("FANPIN_PROCESS_ROLE", "web")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fanpin.settings")
application = get_wsgi_application()
