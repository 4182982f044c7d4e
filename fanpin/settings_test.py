"""Test settings: the production settings with fast hashing and no in-process (eager) Celery.

The database comes from ``DATABASE_URL`` (PostgreSQL in CI) or is SQLite.  Celery is not eager:
task tests start a real worker against ``CELERY_BROKER_URL`` (Redis in CI) and are skipped
without one; everything else calls services directly.
"""

import os

os.environ.setdefault("DEBUG", "0")

from fanpin.settings import *  # noqa: F403
from fanpin.settings import DATABASES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
ALLOWED_HOSTS = ["*"]

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "memory://")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", "cache+memory://")
CELERY_TASK_ALWAYS_EAGER = False
# Under pytest-xdist each worker process has its own test database (pytest-django names it
# ``test_<name>_gw0``…) and sends its tasks to its own queue: a real worker started by one test
# process never takes a task of another (it would look the ids up in the wrong database).
if os.environ.get("PYTEST_XDIST_WORKER"):
    CELERY_TASK_DEFAULT_QUEUE = f"fanpin-test-{os.environ['PYTEST_XDIST_WORKER']}"

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("SQLITE_TEST_NAME", "")}
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}

# Uploads (consent scans) go to a throw-away directory in tests.
import tempfile as _tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

MEDIA_ROOT = Path(_tempfile.mkdtemp(prefix="fanpin-test-media-"))

# Dashboard figures are computed on every request in tests (a test of the cache turns it on).
DASHBOARD_CACHE_SECONDS = 0
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
