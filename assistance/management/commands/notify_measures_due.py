"""``manage.py notify_measures_due [--days N] [--date YYYY-MM-DD]``: remind 帮扶责任人 of measures
falling due (what the daily beat task does; safe to run again the same day)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assistance.services.measure_reminders import measures_due_notify


class Command(BaseCommand):
    help = "提醒帮扶责任人：N 天内开始或到期的帮扶措施（每项措施每个到期日只提醒一次）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=None, help="提前天数（默认 NOTICE_MEASURE_DUE_DAYS）")
        parser.add_argument("--date", default=None, help="按哪一天计算（YYYY-MM-DD，默认今天）")

    def handle(self, *args: Any, **options: Any) -> None:
        today = None
        if options["date"]:
            try:
                today = dt.date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError(f"--date 须为 YYYY-MM-DD 格式的日期，不是“{options['date']}”。") from None
        if options["days"] is not None and options["days"] < 0:
            raise CommandError("--days 不能为负数。")
        outcome = measures_due_notify(today=today, days=options["days"])
        self.stdout.write(f"即将开始或到期的帮扶措施 {outcome.due} 项，本次发出提醒 {outcome.noticed} 条。")
