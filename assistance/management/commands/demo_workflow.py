"""``manage.py demo_workflow``: move demo leads through review, plan measures, record visits."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from assistance.services.demo import demo_workflow_play


class Command(BaseCommand):
    help = "演示数据：把部分线索走完核实、审核、确定流程，制定帮扶措施并记录走访（仅用于演示）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--direct", type=int, default=20, help="县级直接确定的线索数（默认 20）")
        parser.add_argument("--rejected", type=int, default=5, help="不予纳入的线索数（默认 5）")

    def handle(self, *args: Any, **options: Any) -> None:
        s = demo_workflow_play(direct=options["direct"], rejected=options["rejected"])
        for reason in s.skipped:
            self.stdout.write(self.style.WARNING(reason))
        self.stdout.write(
            f"核实 {s.verified}、审核 {s.reviewed}、确定 {s.confirmed}、不予纳入 {s.rejected}，"
            f"帮扶措施 {s.measures} 项，走访 {s.visits} 次"
        )
