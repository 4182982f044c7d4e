"""fanpin settings: configured by environment variables only (SPEC §6).

With nothing set, the project runs on a SQLite file in the project directory and Celery tasks run
in-process, so the demo needs nothing but Python.  Production sets ``SECRET_KEY``,
``DATABASE_URL``, ``CELERY_BROKER_URL`` and ``ALLOWED_HOSTS``; ``DEBUG`` is off unless set.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.text import format_lazy

from fanpin.core.terms import term_lazy

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def province_codes(name: str, values: list[str]) -> list[str]:
    """A setting's list of provinces as 2-digit province codes.  Each entry is a province's 2-digit
    code (``52``) or its 12-digit code (``520000000000``); anything else (``5``, a city's or a
    county's code) stops the start with a message naming the value, never silently widened or
    ignored."""
    codes: list[str] = []
    for value in values:
        if value.isascii() and value.isdigit() and (len(value) == 2 or (len(value) == 12 and value.endswith("0" * 10))):
            codes.append(value[:2])
            continue
        raise ImproperlyConfigured(
            f"{name} 中的“{value}”不是省级区划代码：请填写 2 位省代码（如 52）或以 10 个 0 结尾的 12 位省级代码"
            f"（如 520000000000）。 {name}: {value!r} is not a province code; use a 2-digit code (52) or a "
            "12-digit province code ending in ten zeros (520000000000)."
        )
    return codes


DEBUG = env_bool("DEBUG", False)

# SECRET_KEY comes from the environment; without it a random key is generated once into a local,
# git-ignored file, so the zero-setup demo works without ever shipping a known key.
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    _key_file = BASE_DIR / ".secret_key"
    if not _key_file.exists():
        import secrets

        _key_file.write_text(secrets.token_urlsafe(50))
        _key_file.chmod(0o600)
    SECRET_KEY = _key_file.read_text().strip()
# Rotating SECRET_KEY: the new key in SECRET_KEY, the old one(s) here (comma-separated) until sessions
# and password-reset links signed with them have expired (SESSION_COOKIE_AGE), then remove them.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "fanpin.core",
    "fanpin.web",
    "monitoring",
    "assistance",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # out of scope → 404, a refused step → 409, bad input → 400, no right → 403 (fanpin.web.errors)
    "fanpin.web.errors.ErrorPageMiddleware",
    # a query cancelled by the web statement timeout answers a Chinese 503 page (or API detail)
    "fanpin.web.middleware.QueryTimeoutMiddleware",
    # access-log rows written while a request is answered record its client's address
    "fanpin.web.middleware.ClientAddressMiddleware",
    # django-axes must be last: it locks out repeated failed logins.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "fanpin.urls"
WSGI_APPLICATION = "fanpin.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "fanpin.web.context_processors.navigation",
                "fanpin.web.context_processors.glossary",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}

# The role of this process, set by its entry point before the settings load: "web" by fanpin/wsgi.py,
# fanpin/asgi.py (gunicorn, any WSGI/ASGI server) and `manage.py runserver`; "command" by manage.py
# for every other command; "worker" may be set for Celery (docker-compose does).  Unset = "command".
PROCESS_ROLE = os.environ.get("FANPIN_PROCESS_ROLE", "command").strip() or "command"
if PROCESS_ROLE not in {"web", "worker", "command"}:
    raise ImproperlyConfigured(f"FANPIN_PROCESS_ROLE must be web, worker or command, not {PROCESS_ROLE!r}")


def env_seconds(name: str, default: str) -> float:
    value = os.environ.get(name, "").strip() or default
    try:
        seconds = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number of seconds, not {value!r}") from None
    if seconds < 0:
        raise ImproperlyConfigured(f"{name} must be 0 (no limit) or more, not {value!r}")
    return seconds


# PostgreSQL cancels a statement of a web request that runs longer than this (statement_timeout), so a
# runaway query cannot outlive its request (or a killed server); the user gets a Chinese error page
# (fanpin.web.middleware.QueryTimeoutMiddleware).  Workers and commands (screening, imports, demo
# generation, benchmarks) have no limit unless WORKER_STATEMENT_TIMEOUT is set (it applies to "worker").
# 0 = no limit.
STATEMENT_TIMEOUT_SECONDS = {
    "web": env_seconds("WEB_STATEMENT_TIMEOUT", "30"),
    "worker": env_seconds("WORKER_STATEMENT_TIMEOUT", "0"),
    "command": 0.0,
}[PROCESS_ROLE]

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # JIT compilation costs 0.3-0.9 s on the web's short queries over large tables (measured on the
    # lead queue, household list, exports and dashboard with 1 000 000 households): off for the app.
    # Both are libpq startup options: no extra query per connection.
    DATABASES["default"].setdefault("OPTIONS", {})
    _options = DATABASES["default"]["OPTIONS"].get("options", "-c jit=off")
    if STATEMENT_TIMEOUT_SECONDS:
        _options += f" -c statement_timeout={round(STATEMENT_TIMEOUT_SECONDS * 1000)}"
    DATABASES["default"]["OPTIONS"]["options"] = _options
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the in-process demo read while a long import writes.  Transactions take the write
    # lock when they begin (IMMEDIATE): two people acting on one lead at once then wait for each
    # other (up to ``timeout`` seconds) and the second is told the lead has moved on, instead of
    # failing with "database is locked" when its read turns into a write (select_for_update does
    # nothing on SQLite).
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;",
        }
    )
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "fanpin.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
# Django's own messages that its catalogue words badly (half-width periods): fanpin/locale overrides them
LOCALE_PATHS = [BASE_DIR / "fanpin" / "locale"]
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
# The demo (and a server run without collectstatic) serves static files straight from the source tree.
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or WHITENOISE_USE_FINDERS
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Security: production-safe defaults; the demo (DEBUG) relaxes the HTTPS-only ones.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(8 * 3600)))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
# X-Forwarded-Proto is believed only when a reverse proxy in front sets it (and overwrites whatever the
# client sent): otherwise any client could claim HTTPS (request.is_secure(), the HTTPS redirect, CSRF's
# referer check).  Off by default; TRUST_X_FORWARDED_PROTO=1 behind the office's HTTPS proxy.
TRUST_X_FORWARDED_PROTO = env_bool("TRUST_X_FORWARDED_PROTO", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUST_X_FORWARDED_PROTO else None
# Login lockout (django-axes): 5 failures for one username from one address lock it for an hour.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "1"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"

# Content Security Policy (django-csp): only this site's own scripts, styles and images.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Celery: with no broker configured, tasks run in-process (the zero-setup demo).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", CELERY_BROKER_URL or None)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Cache: Redis when CACHE_URL is set (shared by all web workers), else per-process memory.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": os.environ["CACHE_URL"]}
        if os.environ.get("CACHE_URL")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# Dashboard figures are kept this long; the warm job recomputes them before they expire.
DASHBOARD_CACHE_SECONDS = int(os.environ.get("DASHBOARD_CACHE_SECONDS", "7200"))

CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {}


def _beat(name: str, task: str, env: str, default: str) -> str:
    """A beat entry from a five-field crontab "minute hour day-of-month month day-of-week" in the
    environment variable ``env`` (Asia/Shanghai); an empty value disables it."""
    cron = os.environ.get(env, default).strip()
    if cron:
        from celery.schedules import crontab

        minute, hour, dom, month, dow = cron.split()
        CELERY_BEAT_SCHEDULE[name] = {
            "task": task,
            "schedule": crontab(minute=minute, hour=hour, day_of_month=dom, month_of_year=month, day_of_week=dow),
        }
    return cron


# Screening (SPEC §4): Celery beat screens every province monthly by default.
SCREENING_CRON = _beat("screening-monthly", "monitoring.tasks.screening_scheduled_task", "SCREENING_CRON", "0 2 1 * *")
# A province's counties are written in batches of this many, one transaction (and one task) each.
SCREENING_COUNTIES_PER_TASK = int(os.environ.get("SCREENING_COUNTIES_PER_TASK", "10"))
# Dashboard snapshots: recomputed hourly by default.
DASHBOARD_WARM_CRON = _beat(
    "dashboard-warm", "assistance.tasks.dashboard_warm_task", "DASHBOARD_WARM_CRON", "5 * * * *"
)
# Uploaded sheets hold personal data: the files of import jobs are deleted this many days after
# the job ended (or was abandoned); the job row, its counts and its masked error list stay.
IMPORT_FILE_RETENTION_DAYS = int(os.environ.get("IMPORT_FILE_RETENTION_DAYS", "30"))
# Browser exports: up to this many rows download at once; larger ones run as a job whose file
# waits on its page (SPEC §7) and is deleted EXPORT_FILE_RETENTION_DAYS after it was made.
EXPORT_DIRECT_MAX_ROWS = int(os.environ.get("EXPORT_DIRECT_MAX_ROWS", "5000"))
EXPORT_FILE_RETENTION_DAYS = int(os.environ.get("EXPORT_FILE_RETENTION_DAYS", "7"))
IMPORT_PURGE_CRON = _beat(
    "import-files-purge", "monitoring.tasks.import_files_purge_task", "IMPORT_PURGE_CRON", "30 3 * * *"
)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an unauthenticated request gets 401 with "WWW-Authenticate: Token".
        "fanpin.web.authentication.HashedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["fanpin.web.authentication.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"token": os.environ.get("FANPIN_TOKEN_RATE", "600/min")},
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "fanpin.web.api.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # the same map of the kernel's exceptions as the pages (404 / 409 / 400 / 403)
    "EXCEPTION_HANDLER": "fanpin.web.errors.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": format_lazy("{} API", term_lazy("system")),  # the glossary (FANPIN_TERMS, below)
    "DESCRIPTION": "fanpin REST API：所有数据按用户所属行政区划限定范围。",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI is served from static files (drf-spectacular-sidecar): the machines are offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name per shared choice set (a lead's suggested category and a target's category).
    "ENUM_NAME_OVERRIDES": {
        "TargetCategoryEnum": "monitoring.models.leads.TargetCategory",
        "RiskTypeEnum": "monitoring.models.leads.RiskType",
        "LeadStateEnum": "monitoring.models.leads.LeadState",
        "RejectionCategoryEnum": "monitoring.models.leads.RejectionCategory",
        "VisitEventEnum": "monitoring.models.visits.VisitEvent",
        "AlertStatusEnum": "monitoring.models.alerts.AlertStatus",
        "AlertTypeEnum": "monitoring.models.alerts.AlertType",
        "AssistanceCategoryEnum": "monitoring.models.social_assistance.AssistanceCategory",
        "LeadAppraisalOutcomeEnum": "monitoring.models.leads.AppraisalOutcome",
        "EliminationAppraisalOutcomeEnum": "assistance.models.elimination.EliminationAppraisal",
        "EliminationMethodEnum": "monitoring.models.targets.EliminationMethod",
        "FollowUpStepEnum": "monitoring.models.followups.FollowUpStep",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# Domain parameters with defaults from the SPEC (administrators change the stored ones).
FANPIN_PAGE_SIZE = 50
# The glossary (fanpin.core.terms, SPEC §2.1): "2026" (default) labels the population 防止返贫致贫对象 and the
# mechanism 防止返贫致贫监测; "2020" keeps the transition period's 监测对象 / 防止返贫监测.  The system check
# fanpin.E101 refuses any other value.
FANPIN_TERMS = os.environ.get("FANPIN_TERMS", "").strip() or "2026"

# Village cadres' visits: photo size limit; public self-report page: tries per address / per 身份证号
# within the window (seconds), counted in Django's cache.
VISIT_PHOTO_MAX_BYTES = int(os.environ.get("VISIT_PHOTO_MAX_BYTES", str(5 * 1024 * 1024)))
SELF_REPORT_RATE_PER_IP = int(os.environ.get("SELF_REPORT_RATE_PER_IP", "10"))
SELF_REPORT_RATE_PER_ID = int(os.environ.get("SELF_REPORT_RATE_PER_ID", "3"))
SELF_REPORT_RATE_WINDOW = int(os.environ.get("SELF_REPORT_RATE_WINDOW", "3600"))
# 帮扶明白卡: the provinces (2-digit codes or 12-digit province codes, comma-separated) whose cards
# show the members' health details (健康状况, 残疾等级); default: none, the cards show no health
# details.  Checked here: a value that is not a province's code refuses to start.
CARD_SHOWS_HEALTH_DETAILS_PROVINCES = province_codes(
    "CARD_SHOWS_HEALTH_DETAILS_PROVINCES", env_list("CARD_SHOWS_HEALTH_DETAILS_PROVINCES")
)
# PDF files of printed pages (fanpin.web.pdf): the headless Chromium to run (default: the first of
# chromium, chromium-browser, google-chrome on PATH) and how long one file may take (seconds).
PDF_BROWSER = os.environ.get("PDF_BROWSER", "")
PDF_TIMEOUT = int(os.environ.get("PDF_TIMEOUT", "60"))
# The Chromium kept for PDF files (fanpin.web.pdf) is closed after this many seconds without a file.
PDF_BROWSER_IDLE_SECONDS = int(os.environ.get("PDF_BROWSER_IDLE_SECONDS", "60"))
# A file made from the very same page is handed out again for this long (it is not printed twice),
# the files kept by one process at most this many bytes in all.
PDF_KEEP_SECONDS = int(os.environ.get("PDF_KEEP_SECONDS", "600"))
PDF_KEEP_BYTES = int(os.environ.get("PDF_KEEP_BYTES", str(64 * 1024 * 1024)))
# The public status page (/status/): tries per address in the self-report's window, and per receipt
# number in a shorter window (wrong names typed by others lock the household out only that long).
STATUS_RATE_PER_IP = int(os.environ.get("STATUS_RATE_PER_IP", "30"))
STATUS_RATE_PER_RECEIPT = int(os.environ.get("STATUS_RATE_PER_RECEIPT", "10"))
STATUS_RATE_RECEIPT_WINDOW = int(os.environ.get("STATUS_RATE_RECEIPT_WINDOW", "900"))
# The reverse proxies in front of the site (comma-separated IPs, default none): from these the client
# address is taken from X-Forwarded-For (fanpin.web.mixins.client_ip; docs/operations.md).
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")

# Notices (受理, 纳入/未纳入, 风险消除, measures falling due; docs/decisions/2026-12-03-receipt-appeal-notices.md).
# NOTICE_SENDER: log (default: recorded and written to the log, nothing leaves the machine) · sms (an HTTP
# SMS gateway: NOTICE_SMS_URL, NOTICE_SMS_KEY, NOTICE_SMS_SIGN) · wechat (template messages of an official
# account: NOTICE_WECHAT_APPID, NOTICE_WECHAT_SECRET, NOTICE_WECHAT_TEMPLATE_ID, the two URLs).
NOTICE_SENDER = os.environ.get("NOTICE_SENDER", "log").strip().lower() or "log"
if NOTICE_SENDER not in {"log", "sms", "wechat"}:
    raise ImproperlyConfigured(f"NOTICE_SENDER must be log, sms or wechat, not {NOTICE_SENDER!r}")
NOTICE_SMS_URL = os.environ.get("NOTICE_SMS_URL", "")
NOTICE_SMS_KEY = os.environ.get("NOTICE_SMS_KEY", "")
NOTICE_SMS_SIGN = os.environ.get("NOTICE_SMS_SIGN", "防返贫监测")
NOTICE_WECHAT_URL = os.environ.get("NOTICE_WECHAT_URL", "https://api.weixin.qq.com/cgi-bin/message/template/send")
NOTICE_WECHAT_TOKEN_URL = os.environ.get("NOTICE_WECHAT_TOKEN_URL", "https://api.weixin.qq.com/cgi-bin/token")
NOTICE_WECHAT_APPID = os.environ.get("NOTICE_WECHAT_APPID", "")
NOTICE_WECHAT_SECRET = os.environ.get("NOTICE_WECHAT_SECRET", "")
NOTICE_WECHAT_TEMPLATE_ID = os.environ.get("NOTICE_WECHAT_TEMPLATE_ID", "")
NOTICE_HTTP_TIMEOUT = env_seconds("NOTICE_HTTP_TIMEOUT", "10")
# attempts per notice (the first and the retries, with exponential backoff from NOTICE_RETRY_BACKOFF s)
NOTICE_MAX_ATTEMPTS = int(os.environ.get("NOTICE_MAX_ATTEMPTS", "5"))
NOTICE_RETRY_BACKOFF = int(os.environ.get("NOTICE_RETRY_BACKOFF", "30"))
# the public address of the status page, written into the household's texts (empty: not written)
NOTICE_STATUS_URL = os.environ.get("NOTICE_STATUS_URL", "")
# a 帮扶责任人 is reminded of a measure that starts or ends within this many days (once per due date)
NOTICE_MEASURE_DUE_DAYS = int(os.environ.get("NOTICE_MEASURE_DUE_DAYS", "3"))
MEASURE_DUE_CRON = _beat(
    "measures-due-notices", "assistance.tasks.measures_due_notify_task", "MEASURE_DUE_CRON", "0 8 * * *"
)
