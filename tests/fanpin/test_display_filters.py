"""Display filters (SPEC §7): dates in prose on the local (Asia/Shanghai) date, also for timestamps."""

from __future__ import annotations

import datetime as dt

from django.template import Context, Template
from django.utils import timezone


def test_cn_date_of_a_timestamp_is_its_local_date() -> None:
    # 00:30 on 3 December in Shanghai is still 2 December in UTC
    moment = dt.datetime(2026, 12, 2, 16, 30, tzinfo=dt.UTC)
    with timezone.override("Asia/Shanghai"):
        out = Template("{% load fanpin_tags %}{{ moment|cn_date }}").render(Context({"moment": moment}))
    assert out == "2026年12月3日"


def test_cn_date_of_a_date_and_of_nothing() -> None:
    template = Template("{% load fanpin_tags %}{{ day|cn_date }}")
    assert template.render(Context({"day": dt.date(2025, 3, 14)})) == "2025年3月14日"
    assert template.render(Context({"day": None})) == "—"
