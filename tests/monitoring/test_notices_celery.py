"""A notice sent through a real Celery worker (Redis broker, PostgreSQL, as in CI): the fake SMS
gateway fails once, the task retries with backoff, the second attempt is sent."""

from __future__ import annotations

import os
import time

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from monitoring.models import Notice
from tests.conftest import World
from tests.monitoring.notice_helpers import fake_gateway

BROKER = os.environ.get("CELERY_BROKER_URL", "")


@pytest.mark.celery_worker
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Call to deprecated:DeprecationWarning")
@pytest.mark.django_db(transaction=True)
def test_a_notice_is_sent_and_retried_by_a_real_worker(world: World, settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    if not BROKER.startswith("redis://"):
        pytest.skip("需要 Redis：设置 CELERY_BROKER_URL=redis://…（CI 中已设置）")
    if connection.vendor != "postgresql":
        pytest.skip("需要 PostgreSQL（工作进程与测试共用数据库）")
    from celery.contrib.testing.worker import start_worker

    from fanpin.celery import app
    from monitoring.tasks import notice_send_task

    app.conf.update(broker_url=BROKER, result_backend=os.environ.get("CELERY_RESULT_BACKEND", BROKER))
    app.conf.task_always_eager = False
    monkeypatch.setattr(notice_send_task, "retry_backoff", 1)  # 1 s before the retry, not 30
    head = world.households["520101001001"].members.get()
    report = {"name": head.name, "id_number": head.id_number, "village": "520101001001", "phone": "13800001234"}
    report |= {"reason": "ILLNESS", "description": "住院", "notice_opt_in": "on"}
    with fake_gateway((503, {"code": "BUSY"}), (200, {"code": 0})) as gateway:
        settings.NOTICE_SENDER, settings.NOTICE_SMS_URL = "sms", gateway.url
        with start_worker(app, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=30):
            # the request commits; the notice's send is enqueued on that commit and run by the worker
            assert Client().post(reverse("self_report"), report).status_code == 200
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not Notice.objects.filter(status="SENT").exists():
                time.sleep(0.2)
    notice = Notice.objects.get()
    assert (notice.status, notice.attempts, notice.address, notice.channel) == ("SENT", 2, "", "SMS")
    assert [r["json"]["phone"] for r in gateway.requests] == ["13800001234", "13800001234"]
    assert "【防返贫监测】" in gateway.requests[-1]["json"]["text"]
