from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from fanpin.core.regions import province_code_of
from fanpin.core.terms import term
from monitoring.models import Region, RunStatus, RunTrigger
from monitoring.models.screening_rules import screening_rules
from monitoring.services.screening import screening_run_create, screening_run_execute


class Command(BaseCommand):
    help = f"按县筛查{term('target')}线索（同步执行；省、市则逐县执行）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, required=True, help="评估年度 Y")
        parser.add_argument("--region", help="县、市或省的 12 位区划代码；不给则筛查所有有农户数据的省")

    def handle(self, *args: Any, **options: Any) -> None:
        year: int = options["year"]
        codes = [options["region"]] if options["region"] else self._provinces()
        if not codes:
            raise CommandError("没有农户数据，无需筛查。请先导入农户数据。")
        failed = False
        for code in codes:
            if len(code) != 12 or not code.isdigit():
                raise CommandError(f"区划代码“{code}”应为 12 位数字。")
            try:
                run = screening_run_create(region_code=code, year=year, trigger=RunTrigger.COMMAND)
            except ValidationError as exc:
                raise CommandError("；".join(exc.messages)) from None
            run = screening_run_execute(run_id=run.pk)
            failed = failed or run.status == RunStatus.FAILED
            self._print(run)
        if failed:
            raise CommandError("部分县筛查失败，详见上方信息；失败的县数据未作改动，可再次运行。")

    def _provinces(self) -> list[str]:
        from monitoring.selectors.screening import counties_with_households

        provinces = sorted({province_code_of(c) for c in counties_with_households(prefix="")})
        return [p for p in provinces if Region.objects.filter(code=p).exists()]

    def _print(self, run: Any) -> None:
        s = run.summary or {}
        leads = s.get("leads", {})
        self.stdout.write(
            f"{run.region.name} {run.year} 年筛查{run.get_status_display()}（批次 {run.pk}）："
            f"筛查 {s.get('households', 0):,} 户，触发 {s.get('fired', 0):,} 户；"
            f"新增线索 {leads.get('raised', 0):,}，更新 {leads.get('refreshed', 0):,}，"
            f"已是{term('target')}跳过 {leads.get('skipped_target', 0):,}，"
            f"已未纳入跳过 {leads.get('skipped_rejected', 0):,}。"
        )
        for rule in screening_rules():
            r = s.get("rules", {}).get(rule.code, {})
            self.stdout.write(f"  {rule.label}：触发 {r.get('fired', 0):,} 户，数据缺失 {r.get('missing', 0):,} 户")
        if run.error:
            self.stdout.write(self.style.WARNING(f"  {run.error}"))
