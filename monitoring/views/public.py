"""Public pages for households (no login): the status of an application by its receipt number, and
the appeal (申诉) against a 未纳入 answer.  Both are rate-limited like the self-report page."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from fanpin.web.mixins import client_ip
from monitoring.forms_cadre import AppealForm, StatusForm
from monitoring.selectors.status import ReceiptStatus, receipt_normalize, receipt_status
from monitoring.services.appeals import ReceiptNotFound, appeal_file_public
from monitoring.services.applications import RateLimited, status_rate_check

TEMPLATE = "monitoring/status.html"


def _page(
    request: HttpRequest,
    form: StatusForm,
    *,
    answer: ReceiptStatus | None = None,
    appeal_form: AppealForm | None = None,
    limited: str = "",
    appeal_filed: bool = False,
    appeal_error: str = "",
    status: int = 200,
) -> HttpResponse:
    if answer is not None and answer.may_appeal and appeal_form is None:
        appeal_form = AppealForm(initial={"receipt": answer.receipt_no, "name": form.data.get("name", "")})
    context: dict[str, Any] = {
        "form": form,
        "answer": answer,
        "appeal_form": appeal_form if answer is not None and answer.may_appeal else None,
        "limited": limited,
        "appeal_filed": appeal_filed,
        "appeal_error": appeal_error,
    }
    return render(request, TEMPLATE, context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def status_view(request: HttpRequest) -> HttpResponse:
    """办理进度查询: GET shows the form (``?receipt=`` fills in the number, never the name); POST
    answers with the stage, or the same neutral answer for an unknown receipt or a wrong name."""
    if request.method == "GET":
        initial = {"receipt": receipt_normalize(request.GET.get("receipt", ""))[:40]}
        return _page(request, StatusForm(initial=initial))
    form = StatusForm(request.POST)
    try:
        status_rate_check(ip=client_ip(request), receipt_no=receipt_normalize(request.POST.get("receipt", "")))
    except RateLimited as exc:
        return _page(request, form, limited=str(exc), status=429)
    if not form.is_valid():
        return _page(request, form, status=400)
    answer = receipt_status(receipt_no=form.cleaned_data["receipt"], name=form.cleaned_data["name"])
    return _page(request, form, answer=answer)


@never_cache
@require_http_methods(["GET", "POST"])
def status_appeal_view(request: HttpRequest) -> HttpResponse:
    """申诉 from the status page's 未纳入 answer (the receipt and name come with the reason); a GET
    (a bookmark, a reload) goes to the status page."""
    if request.method == "GET":
        return redirect("status")
    form = StatusForm({"receipt": request.POST.get("receipt", ""), "name": request.POST.get("name", "")})
    appeal_form = AppealForm(request.POST)
    try:
        status_rate_check(ip=client_ip(request), receipt_no=receipt_normalize(request.POST.get("receipt", "")))
    except RateLimited as exc:
        return _page(request, form, limited=str(exc), status=429)
    if not (form.is_valid() and appeal_form.is_valid()):
        answer = (
            receipt_status(receipt_no=form.cleaned_data["receipt"], name=form.cleaned_data["name"])
            if form.is_valid()
            else None
        )
        return _page(request, form, answer=answer, appeal_form=appeal_form, status=400)
    receipt, name = form.cleaned_data["receipt"], form.cleaned_data["name"]
    try:
        appeal_file_public(receipt_no=receipt, name=name, reason=appeal_form.cleaned_data["reason"])
    except ReceiptNotFound:
        return _page(request, form, answer=receipt_status(receipt_no=receipt, name=name))
    except ValidationError as exc:
        for field, errors in (exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}).items():
            appeal_form.add_error(field if field in appeal_form.fields else None, errors)
        answer = receipt_status(receipt_no=receipt, name=name)
        error = "" if answer.may_appeal else "；".join(exc.messages)  # else shown next to the form
        return _page(request, form, answer=answer, appeal_form=appeal_form, appeal_error=error, status=400)
    return _page(request, form, answer=receipt_status(receipt_no=receipt, name=name), appeal_filed=True)
