"""Pages: the 公告 of a township and period (choose, print, download)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from assistance.selectors.announcements import (
    announcement_build,
    announcement_counts,
    announcement_period_default,
    announcement_period_errors,
    announcement_period_last_month,
    announcement_period_shortcuts,
    announcement_township,
    announcement_townships,
)
from assistance.services.announcements import announcement_groups, announcement_xlsx
from assistance.views.common import paginate
from fanpin.core.roles import Permission
from fanpin.core.xlsx import attachment_disposition
from fanpin.web.mixins import permission_require

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATE_ATTRS = {"type": "date", "class": "form-control"}


class AnnouncementPeriodForm(forms.Form):
    # format: an <input type="date"> shows only an ISO value (the locale's 2026/12/01 showed empty fields)
    start = forms.DateField(label="开始日期", widget=forms.DateInput(attrs=DATE_ATTRS, format="%Y-%m-%d"))
    end = forms.DateField(label="结束日期", widget=forms.DateInput(attrs=DATE_ATTRS, format="%Y-%m-%d"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end"):
            for name, message in announcement_period_errors(start=data["start"], end=data["end"]).items():
                self.add_error(name, message)
        return data


def _period(request: HttpRequest, today: dt.date) -> tuple[AnnouncementPeriodForm, dt.date, dt.date]:
    """The period asked for (``?start=…&end=…``), by default 本月至今 (this month to today)."""
    start, end = announcement_period_default(today=today)
    if "start" not in request.GET and "end" not in request.GET:
        return AnnouncementPeriodForm(initial={"start": start, "end": end}), start, end
    form = AnnouncementPeriodForm(request.GET)
    if form.is_valid():
        return form, form.cleaned_data["start"], form.cleaned_data["end"]
    return form, start, end


def _period_strict(request: HttpRequest, today: dt.date) -> tuple[dt.date, dt.date]:
    """The 公告 itself: a period that is wrong is an error (400), not silently another month."""
    form, start, end = _period(request, today)
    if form.is_bound and not form.is_valid():
        raise ValidationError([str(e) for errors in form.errors.values() for e in errors])
    return start, end


@login_required
@require_GET
def announcements_view(request: HttpRequest) -> HttpResponse:
    """Choose the township (those in scope; a township's or village's user: their own) and the period."""
    permission_require(request, Permission.VIEW_HOUSEHOLDS)
    today = timezone.localdate()
    form, start, end = _period(request, today)
    townships = list(announcement_townships(user=request.user))
    pages = paginate(request, townships)
    shown = list(pages["page_obj"].object_list)
    counts = announcement_counts(townships=shown, start=start, end=end)
    # the default period (本月至今) with nothing decided yet, as on a month's first days: say so, link 上月
    this_month_empty = not form.is_bound and bool(shown) and not any(sum(counts[t.code].values()) for t in shown)
    return render(
        request,
        "assistance/announcements/index.html",
        {
            "form": form,
            "start": start,
            "end": end,
            "shortcuts": announcement_period_shortcuts(today=today),
            "this_month_empty": this_month_empty,
            "last_month": announcement_period_last_month(today=today),
            "rows": [(t, counts[t.code]) for t in shown],
            **pages,
            "active_nav": "announcements",
        },
    )


@login_required
@require_GET
def announcement_view(request: HttpRequest, code: str) -> HttpResponse:
    """The printable 公告 of one township and period, in the township's name."""
    permission_require(request, Permission.VIEW_HOUSEHOLDS)
    township = announcement_township(user=request.user, code=code)
    start, end = _period_strict(request, timezone.localdate())
    announcement = announcement_build(user=request.user, township=township, start=start, end=end)
    return render(
        request,
        "assistance/announcements/announcement.html",
        {
            "announcement": announcement,
            "groups": announcement_groups(announcement),
            "today": timezone.localdate(),
            "active_nav": "announcements",
        },
    )


@login_required
@require_GET
def announcement_xlsx_view(request: HttpRequest, code: str) -> HttpResponse:
    """The same rows as a sheet (safe cells), recorded as an export of personal data."""
    permission_require(request, Permission.VIEW_HOUSEHOLDS)
    township = announcement_township(user=request.user, code=code)
    start, end = _period_strict(request, timezone.localdate())
    announcement = announcement_build(user=request.user, township=township, start=start, end=end)
    buffer = io.BytesIO()
    announcement_xlsx(user=request.user, announcement=announcement, output=buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = attachment_disposition(
        filename=f"公告-{township.name}-{start:%Y%m%d}-{end:%Y%m%d}.xlsx",
        fallback=f"announcement-{township.code}-{start:%Y%m%d}-{end:%Y%m%d}.xlsx",
    )
    return response
