from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitoring.services.lines import monitoring_line_set


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise CommandError(f"“{text}”不是有效的金额。") from None


class Command(BaseCommand):
    help = "设置某年度的监测标准（全国或某省）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, required=True, help="年度")
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--poverty-line", type=_decimal, help="扶贫标准（元），监测标准 = 扶贫标准 × 倍数")
        group.add_argument("--line", type=_decimal, help="直接给出的监测标准（元）")
        parser.add_argument("--multiplier", type=_decimal, help="倍数，默认 1.5（仅与 --poverty-line 合用）")
        parser.add_argument("--province", help="省级区划代码（不给则为全国标准）")
        parser.add_argument("--source", default="", help="依据（文件名、文号）")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["multiplier"] is not None and options["poverty_line"] is None:
            raise CommandError("--multiplier 只能与 --poverty-line 一起使用。")
        try:
            line = monitoring_line_set(
                year=options["year"],
                poverty_line=options["poverty_line"],
                multiplier=options["multiplier"],
                line=options["line"],
                province_code=options["province"],
                source=options["source"],
            )
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from None
        scope = line.province.name if line.province else "全国"
        self.stdout.write(f"已设置 {line.year} 年{scope}监测标准：{line.line:,.2f} 元/人·年。")
