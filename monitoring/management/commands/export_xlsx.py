from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from assistance.services.exports import assistance_export
from fanpin.core.models import User
from fanpin.core.roles import Permission, Role, effective_role, role_can
from fanpin.core.terms import term
from monitoring.models import Region
from monitoring.services.exports import full_ids_check, households_export
from monitoring.services.exports_leads import leads_export, targets_export

# The kinds SPEC §6 names, each with its exporter (all scoped to the user, all audited).
EXPORTERS: dict[str, Any] = {
    "households": lambda *, user, output, year, region_code, full_ids=False, purpose="": households_export(
        user=user, out=output, year=year, region_code=region_code, full_ids=full_ids, purpose=purpose
    ),
    "leads": leads_export,
    "targets": targets_export,
    "assistance": assistance_export,
}
SPEC_KINDS = tuple(EXPORTERS)
NOUNS = {
    "households": "农户 {n} 户",
    "leads": "预警线索 {n} 条",
    "targets": "{target} {n} 户",
    "assistance": "帮扶措施 {n} 条",
}


def system_actor() -> User:
    """An unsaved administrator: the command without ``--user`` sees everything (not audited as a person)."""
    return User(username="manage.py", role=Role.ADMIN, is_superuser=True, is_active=True)


class Command(BaseCommand):
    help = f"导出 Excel (.xlsx)：农户、预警线索、{term('target')}或帮扶措施。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--kind", required=True, help=f"导出类型：{'、'.join(SPEC_KINDS)}")
        parser.add_argument("--region", help="区划代码（只导出该区划及其下级的数据）")
        parser.add_argument("--year", type=int, help="年度（农户导出时附带该年度收入）")
        parser.add_argument("--output", required=True, help="输出的 .xlsx 文件路径")
        parser.add_argument("--user", help="以该用户的管辖范围导出（不给则不限范围）")
        parser.add_argument(
            "--full-ids",
            action="store_true",
            help="农户导出写完整身份证号和联系电话（默认脱敏；须同时给 --purpose，写入访问日志）",
        )
        parser.add_argument("--purpose", default="", help="导出完整号码的用途")

    def handle(self, *args: Any, **options: Any) -> None:
        kind = options["kind"]
        if kind not in SPEC_KINDS:
            raise CommandError(f"未知的导出类型 {kind}，应为：{'、'.join(SPEC_KINDS)}。")
        exporter = EXPORTERS[kind]
        region = options["region"] or ""
        if region and (not re.fullmatch(r"[0-9]{12}", region) or not Region.objects.filter(code=region).exists()):
            raise CommandError(f"区划代码 {region} 不存在（应为系统中已有的 12 位区划代码）。")
        year = options["year"]
        if year is not None and not 2000 <= year <= 2100:
            raise CommandError("年度应在 2000 到 2100 之间。")
        output = Path(options["output"])
        if output.suffix.lower() != ".xlsx":
            raise CommandError("输出文件名应以 .xlsx 结尾。")
        if not output.parent.is_dir():
            raise CommandError(f"目录 {output.parent} 不存在。")
        user: User = system_actor()
        if options["user"]:
            found = User.objects.filter(username=options["user"], is_active=True).first()
            if found is None:
                raise CommandError(f"用户 {options['user']} 不存在或已停用。")
            if not role_can(effective_role(found), Permission.EXPORT_DATA):
                raise CommandError(f"用户 {found.username} 的角色无权导出数据。")
            user = found
        extra: dict[str, Any] = {}
        if options["full_ids"]:
            if kind != "households":
                raise CommandError("--full-ids 只用于农户导出（其他导出不含身份证号）。")
            try:
                extra = {"full_ids": True, "purpose": full_ids_check(user=user, purpose=options["purpose"])}
            except (PermissionDenied, ValidationError) as exc:
                message = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                raise CommandError(message) from None
        count = exporter(user=user, output=str(output), year=year, region_code=region, **extra)
        self.stdout.write(f"已导出{NOUNS[kind].format(n=count, target=term('target'))}到 {output}。")
