"""Pages of the working-day calendar, the provinces' 办理时限 and a lead's 受理 (SPEC §5.6)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fanpin.core.roles import Permission, Role, effective_role
from fanpin.core.typed import ascii_int
from fanpin.core.workflow import TransitionNotAllowed
from fanpin.web.errors import error_messages, error_text
from fanpin.web.mixins import permission_require
from monitoring.models.calendar import CalendarDayKind, DayUnit
from monitoring.selectors.calendar import WorkingCalendar
from monitoring.selectors.calendar_imports import (
    calendar_preview_diff,
    calendar_preview_get,
    calendar_preview_stale,
    calendar_previews_pending,
)
from monitoring.selectors.procedure import (
    calendar_days,
    calendar_history,
    calendar_years,
    procedure_history,
    procedure_limit_rows,
    procedure_provinces,
    procedure_setting_row,
)
from monitoring.services.acceptance import lead_accept
from monitoring.services.calendar import (
    calendar_import_cancel,
    calendar_import_confirm,
    calendar_import_preview,
    calendar_summary,
    calendar_template,
)
from monitoring.services.procedure import (
    LimitInput,
    may_set_procedure,
    procedure_province,
    procedure_settings_reset,
    procedure_settings_set,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _year(value: Any, default: int) -> int:
    year = ascii_int(value)
    return year if year is not None and 2000 <= year <= 2100 else default


# the calendar's audit actions as the history shows them
CALENDAR_ACTION_LABELS = {"import": "导入", "edit": "修改", "delete": "删除", "sample": "示例数据"}


def _calendar_page(
    request: HttpRequest, *, year: int, errors: list[str] | None = None, status: int = 200
) -> HttpResponse:
    days = list(calendar_days(year=year))
    context = {
        "year": year,
        "days": days,
        "years": calendar_years(),
        "sample": any(d.sample for d in days),
        "history": calendar_history(),
        "action_labels": CALENDAR_ACTION_LABELS,
        "errors": errors or [],
        "pending": calendar_previews_pending(user=request.user),
        "active_nav": "parameters",
        "this_year": timezone.localdate().year,
    }
    return render(request, "monitoring/calendar/calendar.html", context, status=status)


@login_required
@require_GET
def calendar_view(request: HttpRequest) -> HttpResponse:
    """A year's holidays and 调休 working days (administrators), the import form."""
    permission_require(request, Permission.MANAGE_PARAMETERS)
    return _calendar_page(request, year=_year(request.GET.get("year"), timezone.localdate().year))


@login_required
@require_POST
def calendar_import_view(request: HttpRequest) -> HttpResponseBase:
    """Upload a year: parsed and checked into a preview (nothing written), shown on its page."""
    permission_require(request, Permission.MANAGE_PARAMETERS)
    year = _year(request.POST.get("year"), 0)
    upload = request.FILES.get("file")
    if not year:
        return _calendar_page(
            request, year=timezone.localdate().year, errors=["请填写 2000–2100 之间的年度。"], status=400
        )
    if upload is None:
        return _calendar_page(request, year=year, errors=["请选择要上传的 .xlsx 文件。"], status=400)
    try:
        preview = calendar_import_preview(actor=request.user, year=year, source=upload, file_name=upload.name or "")
    except ValidationError as exc:
        return _calendar_page(request, year=year, errors=error_messages(exc), status=400)
    return redirect("monitoring:calendar_preview", pk=preview.pk)


def _preview_page(request: HttpRequest, pk: int, *, errors: list[str] | None = None, status: int = 200) -> HttpResponse:
    preview = calendar_preview_get(user=request.user, pk=pk)  # another user's: 404
    open_ = preview.status in (preview.Status.PENDING, preview.Status.INVALID)
    stale = open_ and calendar_preview_stale(preview=preview)
    kinds = dict(CalendarDayKind.choices)
    rows = [
        {"day": dt.date.fromisoformat(d), "kind": kinds.get(k, k), "name": n, "weekend_work": k == "WORKDAY"}
        for d, k, n in preview.rows
    ]
    context = {
        "preview": preview,
        "rows": rows,
        "holidays": sum(1 for _d, k, _n in preview.rows if k == CalendarDayKind.HOLIDAY),
        "workdays": sum(1 for _d, k, _n in preview.rows if k == CalendarDayKind.WORKDAY),
        "diff": calendar_preview_diff(preview=preview) if open_ else None,
        "stored": calendar_summary(year=preview.year),
        "stale": stale,
        "may_confirm": preview.status == preview.Status.PENDING and not stale,
        "open": open_,
        "errors": errors or [],
        "active_nav": "parameters",
    }
    return render(request, "monitoring/calendar/calendar_preview.html", context, status=status)


@login_required
@require_GET
def calendar_preview_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A preview: every parsed row, the errors by row and column, what confirming changes."""
    permission_require(request, Permission.MANAGE_PARAMETERS)
    return _preview_page(request, pk)


@login_required
@require_POST
def calendar_preview_confirm_view(request: HttpRequest, pk: int) -> HttpResponseBase:
    """确认导入: exactly the previewed rows; refused when decided, with errors, or stale (409)."""
    permission_require(request, Permission.MANAGE_PARAMETERS)
    try:
        outcome = calendar_import_confirm(actor=request.user, preview_id=pk)
    except ValidationError as exc:
        conflict = exc.code in ("applied", "cancelled", "stale")
        return _preview_page(request, pk, errors=error_messages(exc), status=409 if conflict else 400)
    messages.success(
        request,
        f"已导入 {outcome.year} 年节假日安排：法定节假日 {outcome.holidays} 天、调休上班 {outcome.workdays} 天。",
    )
    return redirect(f"{reverse('monitoring:calendar')}?year={outcome.year}")


@login_required
@require_POST
def calendar_preview_cancel_view(request: HttpRequest, pk: int) -> HttpResponseBase:
    permission_require(request, Permission.MANAGE_PARAMETERS)
    try:
        preview = calendar_import_cancel(actor=request.user, preview_id=pk)
    except ValidationError as exc:
        return _preview_page(request, pk, errors=error_messages(exc), status=409)
    messages.info(request, f"已取消 {preview.year} 年节假日安排的导入预览，未修改任何数据。")
    return redirect(f"{reverse('monitoring:calendar')}?year={preview.year}")


@login_required
@require_GET
def calendar_template_view(request: HttpRequest) -> HttpResponse:
    permission_require(request, Permission.MANAGE_PARAMETERS)
    response = HttpResponse(calendar_template(), content_type=XLSX)
    response["Content-Disposition"] = "attachment; filename*=UTF-8''%E8%8A%82%E5%81%87%E6%97%A5%E5%AE%89%E6%8E%92.xlsx"
    return response


def _limits_from(post: Any, rows: list[Any]) -> dict[str, LimitInput]:
    limits = {}
    for row in rows:
        raw = (post.get(f"days_{row.step}") or "").strip()
        try:
            days: int | None = int(raw)
        except ValueError:
            days = None
        limits[row.step] = LimitInput(days=days, unit=post.get(f"unit_{row.step}") or DayUnit.WORKING)
    return limits


@login_required
@require_http_methods(["GET", "POST"])
def procedure_settings_view(request: HttpRequest) -> HttpResponseBase:
    """Each step's 办理时限 and the 公告 setting of one province: administrators choose the
    province, provincial users set their own (another province: 404)."""
    user = request.user
    if not may_set_procedure(user):
        raise PermissionDenied("只有系统管理员和省级用户可以设置办理时限。")
    provinces = procedure_provinces(user=user)
    own = user.region_id if effective_role(user) == Role.PROVINCE else ""  # type: ignore[union-attr]
    code = (
        request.POST.get("province") or request.GET.get("province") or own or (provinces[0].code if provinces else "")
    )
    if not code:
        return render(
            request,
            "monitoring/calendar/procedure_settings.html",
            {"provinces": [], "province": None, "active_nav": "parameters"},
        )
    province = procedure_province(actor=user, province_code=code)  # 404 outside the scope
    errors: dict[str, str] = {}
    top: list[str] = []
    posted: dict[str, LimitInput] = {}
    rows = procedure_limit_rows(province_code=province.code)
    if request.method == "POST":
        reason = request.POST.get("reason", "")
        try:
            if request.POST.get("action") == "reset":
                procedure_settings_reset(actor=user, province_code=province.code, reason=reason)
                messages.success(request, f"{province.name}的办理时限已恢复全国默认。")
            else:
                posted = _limits_from(request.POST, rows)
                changes = procedure_settings_set(
                    actor=user,
                    province_code=province.code,
                    limits=posted,
                    announce_rejections=request.POST.get("announce_rejections") == "on",
                    reason=reason,
                )
                messages.success(request, f"已保存 {changes} 项修改。" if changes else "没有修改。")
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                errors = {name: "；".join(msgs) for name, msgs in exc.message_dict.items()}
            top = error_messages(exc)
        else:
            return redirect(f"{reverse('monitoring:procedure_settings')}?province={province.code}")
    setting = procedure_setting_row(province_code=province.code)
    shown = [
        {
            "row": row,
            "days": (posted[row.step].days if row.step in posted else row.limit.days) or "",
            "unit": posted[row.step].unit if row.step in posted else row.limit.unit,
            "error": errors.get(f"days_{row.step}") or errors.get(f"unit_{row.step}", ""),
        }
        for row in rows
    ]
    today = timezone.localdate()
    context = {
        "provinces": provinces,
        "province": province,
        "choose": effective_role(user) == Role.ADMIN,
        "rows": shown,
        "units": DayUnit.choices,
        "announce_rejections": bool(setting and setting.announce_rejections),
        "history": procedure_history(province_code=province.code),
        "errors": top,
        "calendar_notice": WorkingCalendar.load(around=today).notice([today]),
        "may_edit_calendar": effective_role(user) == Role.ADMIN,
        "active_nav": "parameters",
    }
    return render(request, "monitoring/calendar/procedure_settings.html", context, status=400 if top else 200)


@login_required
@require_POST
def lead_accept_view(request: HttpRequest, pk: int) -> HttpResponseBase:
    """受理 a lead (village, county): 404 outside the scope, 403 other roles, 409 when done."""
    permission_require(request, Permission.VIEW_HOUSEHOLDS)  # department users: 403 before the lead
    raw = (request.POST.get("accepted_on") or "").strip()
    try:
        day = dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        messages.error(request, "受理日期格式不正确。")
        return redirect("monitoring:lead_detail", pk=pk)
    try:
        lead_accept(lead_id=pk, actor=request.user, accepted_on=day)
    except TransitionNotAllowed:
        raise  # 409: already accepted, or decided
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, "已受理。")
    return redirect("monitoring:lead_detail", pk=pk)
