from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from fanpin.core.models import User
from monitoring.services.imports.jobs import import_file
from monitoring.services.imports.spec import KINDS

MAX_ERRORS_PRINTED = 200


class Command(BaseCommand):
    help = "从 Excel (.xlsx) 导入数据：区划、农户、家庭成员、年度收入、刚性支出、部门预警。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--kind", required=True, help=f"数据类型：{'、'.join(KINDS)}")
        parser.add_argument("file", help=".xlsx 文件路径")
        parser.add_argument("--dry-run", action="store_true", help="只校验并报告将新增/更新的行数，不写入")
        parser.add_argument("--user", help="以该用户的身份和管辖范围导入（不给则以系统管理员身份导入，不限范围）")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["kind"] not in KINDS:
            raise CommandError(f"未知的数据类型 {options['kind']}，应为：{'、'.join(KINDS)}。")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"文件 {path} 不存在。")
        user = None
        if options["user"]:
            user = User.objects.filter(username=options["user"], is_active=True).first()
            if user is None:
                raise CommandError(f"用户 {options['user']} 不存在或已停用。")
        try:
            _job, result = import_file(
                kind=options["kind"], source=str(path), file_name=path.name, user=user, dry_run=options["dry_run"]
            )
        except (ValidationError, PermissionDenied) as exc:
            message = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            raise CommandError(message) from None
        if not result.ok:
            if result.error_count == 1 and result.errors[0].row == 0:
                raise CommandError(result.errors[0].message)  # the file as a whole, e.g. no header row
            for error in result.errors[:MAX_ERRORS_PRINTED]:
                self.stderr.write(str(error))
            if result.error_count > MAX_ERRORS_PRINTED:
                self.stderr.write(f"……另有 {result.error_count - MAX_ERRORS_PRINTED} 处错误未列出。")
            raise CommandError(result.summary())
        self.stdout.write(result.summary())
