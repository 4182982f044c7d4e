FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=fanpin.settings

WORKDIR /app
# PDF files of printed pages (帮扶明白卡) are printed by headless Chromium with the Noto CJK fonts.
RUN apt-get update \
    && apt-get install -y --no-install-recommends chromium fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 1000 fanpin
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY --chown=fanpin:fanpin . .
# collectstatic needs a key at build time only; the real one comes from the environment at run time.
RUN SECRET_KEY=build-only python manage.py collectstatic --noinput
USER fanpin
EXPOSE 8000
# fanpin/wsgi.py marks gunicorn's processes as web processes: PostgreSQL cancels their statements after
# WEB_STATEMENT_TIMEOUT seconds (default 30, below gunicorn's --timeout); the same image run as a Celery
# worker or a manage.py command has no such limit.
CMD ["gunicorn", "fanpin.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120"]
