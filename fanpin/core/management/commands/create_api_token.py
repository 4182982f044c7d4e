"""``manage.py create_api_token --name N (--role R --region CODE [--department D] | --like-user U)``

Creates an API token (as administrator) and prints its key on stdout — the only time it is shown.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from fanpin.core.api_tokens import token_create
from fanpin.core.models import User


class Command(BaseCommand):
    help = "创建 API 令牌并输出密钥（只显示这一次）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="令牌名称")
        parser.add_argument("--role", help="角色代码，如 COUNTY、DEPT")
        parser.add_argument("--region", help="12 位区划代码")
        parser.add_argument("--department", default="", help="行业部门代码（角色为 DEPT 时必填）")
        parser.add_argument("--like-user", help="复制此用户的角色、区划和部门")

    def handle(self, *args: Any, **options: Any) -> None:
        role, region, department = options["role"], options["region"], options["department"]
        if options["like_user"]:
            user = User.objects.filter(username=options["like_user"]).first()
            if user is None:
                raise CommandError(f"用户 {options['like_user']} 不存在。")
            role, region, department = user.role, user.region_id, user.department
        if not role or not region:
            raise CommandError("请指定 --role 和 --region，或 --like-user。")
        try:
            made = token_create(actor=None, name=options["name"], role=role, region_code=region, department=department)
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        self.stderr.write(f"已创建令牌“{made.token.name}”（{role} {region}）。")
        self.stdout.write(made.key)
