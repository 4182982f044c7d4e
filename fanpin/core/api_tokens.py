"""API tokens for other systems (a department's software): create (the key is shown once), revoke, authenticate.

The key is 40 random URL-safe characters; only its SHA-256 is stored, so a stolen database does
not yield usable keys.  Each token is its own service account (a ``User`` with an unusable
password) carrying the token's role, region and department, so scoping needs no special case.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from fanpin.core.audit import audit_record
from fanpin.core.models import ApiToken, User
from fanpin.core.regions import region_model
from fanpin.core.roles import Permission, Role, effective_role, role_can
from fanpin.core.scoping import out_of_scope_message, sees_everything, user_region_prefix
from fanpin.core.services import user_create

# A token used again within this window does not rewrite last_used_at (one write a minute at most).
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
# Roles a county user may give a token (never more than their own).
COUNTY_GRANTABLE = frozenset({Role.COUNTY, Role.TOWNSHIP, Role.VILLAGE, Role.DEPT})


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def token_manager(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and role_can(effective_role(user), Permission.MANAGE_TOKENS)


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    key: str  # shown once, never stored


@transaction.atomic
def token_create(*, actor: User | None, name: str, role: str, region_code: str, department: str = "") -> NewToken:
    """Create a token scoped to ``role`` in ``region_code``; refuses scopes wider than the actor's.
    ``actor`` None: a management command acting as administrator."""
    if actor is not None and not token_manager(actor):
        raise PermissionDenied("只有县级工作人员和系统管理员可以创建 API 令牌。")
    name = name.strip()
    if not name:
        raise ValidationError({"name": "请填写令牌名称。"})
    if role == Role.ADMIN or role not in Role.values:
        raise ValidationError({"role": "令牌不能具有系统管理员角色。"})
    if actor is not None and not sees_everything(actor) and role not in COUNTY_GRANTABLE:
        raise ValidationError({"role": "县级工作人员只能创建县级及以下或行业部门的令牌。"})
    region = region_model().objects.filter(code=region_code).first()
    prefix = "" if actor is None else user_region_prefix(actor)
    if region is None or prefix is None or not region.code.startswith(prefix):
        raise ValidationError({"region_code": out_of_scope_message("区划")})
    key = secrets.token_urlsafe(30)
    try:
        account = user_create(
            username=f"api-{secrets.token_hex(6)}",
            password=secrets.token_urlsafe(30),
            role=role,
            region=region,
            full_name=f"API：{name}"[:64],
            department=department if role == Role.DEPT else "",
        )
    except ValidationError as exc:
        raise ValidationError({"role": exc.messages}) from exc
    account.set_unusable_password()
    account.is_staff = account.is_superuser = False
    account.save(update_fields=["password", "is_staff", "is_superuser"])
    token = ApiToken.objects.create(
        name=name[:64], key_hash=key_hash(key), key_prefix=key[:8], user=account, created_by=actor
    )
    audit_record(
        actor=actor,
        object_type="api_token",
        object_id=token.pk,
        region_code=region.code,
        action="create",
        data={"name": token.name, "role": role},
    )
    return NewToken(token=token, key=key)


@transaction.atomic
def token_revoke(*, actor: User, token_id: int) -> ApiToken:
    token = ApiToken.objects.for_user(actor).select_for_update().select_related("user").get(pk=token_id)
    if not token_manager(actor):
        raise PermissionDenied("只有县级工作人员和系统管理员可以吊销 API 令牌。")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        token.user.is_active = False
        token.user.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            object_type="api_token",
            object_id=token.pk,
            region_code=token.user.region_id or "",
            action="revoke",
        )
    return token


def token_authenticate(*, key: str) -> ApiToken | None:
    """The active token with this key (and its account), touching ``last_used_at``; else None."""
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=key_hash(key), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
