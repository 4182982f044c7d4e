from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitoring.services.demo import DEMO_PASSWORD, demo_generate


class Command(BaseCommand):
    help = "生成演示数据：一个省、一个市、两个县（其中一个为深度贫困地区）及其乡镇、村、农户和演示用户。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--households", type=int, default=2000, help="农户数（默认 2000）")
        parser.add_argument("--seed", type=int, default=2020, help="随机种子（相同种子生成相同数据）")
        parser.add_argument("--no-users", action="store_true", help="不创建演示用户")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["households"] < 1:
            raise CommandError("--households 必须是正整数。")
        started = time.monotonic()
        summary = demo_generate(
            households=options["households"], seed=options["seed"], with_users=not options["no_users"]
        )
        if summary.skipped:
            self.stdout.write("演示数据已存在，未重复生成。")
        else:
            self.stdout.write(
                f"已生成演示数据：区划 {summary.regions} 个，农户 {summary.households:,} 户，"
                f"家庭成员 {summary.members:,} 人，年度收入 {summary.incomes:,} 条，"
                f"刚性支出 {summary.expenditures:,} 条，用时 {time.monotonic() - started:.1f} 秒。"
            )
        if summary.users:
            self.stdout.write(f"演示用户（密码均为 {DEMO_PASSWORD}）：{'、'.join(summary.users)}")
