"""API token pages (tokens for other systems): list with last use, create (key shown once), revoke."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from fanpin.core.api_tokens import COUNTY_GRANTABLE, token_create, token_manager, token_revoke
from fanpin.core.models import ApiToken
from fanpin.core.roles import Department, Role
from fanpin.core.scoping import sees_everything
from fanpin.web.errors import form_errors_add


class TokenForm(forms.Form):
    name = forms.CharField(label="令牌名称", max_length=64, help_text="例如：县医保局结算系统")
    role = forms.ChoiceField(label="角色范围")
    region_code = forms.CharField(label="区划代码", max_length=12, help_text="12 位区划代码，须在您的管辖范围内")
    department = forms.ChoiceField(
        label="行业部门", required=False, choices=[("", "（非行业部门）"), *Department.choices]
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        roles = [(r.value, r.label) for r in Role if r != Role.ADMIN]
        if not sees_everything(user):
            roles = [(v, label) for v, label in roles if v in COUNTY_GRANTABLE]
        field = self.fields["role"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = roles
        if user.region_id:
            self.fields["region_code"].initial = user.region_id


def _require_manager(request: HttpRequest) -> None:
    if not token_manager(request.user):
        raise PermissionDenied("只有县级工作人员和系统管理员可以管理 API 令牌。")


@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    form = TokenForm(request.POST or None, user=request.user)
    new_key = ""
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                made = token_create(actor=request.user, **form.cleaned_data)  # type: ignore[arg-type]
            except ValidationError as exc:
                form_errors_add(form, exc)
            else:
                new_key = made.key
        if form.errors:
            status = 400
        elif new_key:
            form = TokenForm(user=request.user)
    tokens = ApiToken.objects.for_user(request.user).select_related("user__region", "created_by")
    context = {"form": form, "tokens": tokens, "new_key": new_key, "active_nav": "tokens"}
    return render(request, "fanpin/token_list.html", context, status=status)


@login_required
@require_POST
def token_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    try:
        token = token_revoke(actor=request.user, token_id=pk)  # type: ignore[arg-type]
    except ApiToken.DoesNotExist as exc:
        raise Http404 from exc
    messages.success(request, f"已吊销令牌“{token.name}”，使用它的系统将无法再访问。")
    return redirect("token_list")
