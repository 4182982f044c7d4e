"""申诉 filed by a cadre for a household, from the rejected lead's page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from fanpin.core.roles import Permission
from fanpin.core.scoping import ObjectOutOfScope
from fanpin.web.errors import form_errors_add
from fanpin.web.mixins import permission_require
from monitoring.forms_cadre import AppealForm
from monitoring.models import Lead
from monitoring.selectors.leads import lead_detail
from monitoring.services.appeals import appeal_refusal, lead_appeal_file


@login_required
@require_http_methods(["GET", "POST"])
def lead_appeal_view(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the appeal form (or why this lead cannot be appealed now); POST: file it, then the new
    appeal lead's page."""
    permission_require(request, Permission.RECORD_VISITS)
    try:
        lead = lead_detail(user=request.user, pk=pk)
    except Lead.DoesNotExist:
        raise ObjectOutOfScope("线索") from None
    refusal = appeal_refusal(lead)
    form = AppealForm(request.POST or None, staff=True)
    if request.method == "POST" and not refusal and form.is_valid():
        try:
            appeal = lead_appeal_file(actor=request.user, lead_id=lead.pk, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(request, f"申诉已提交，已生成申诉线索（{appeal.get_state_display()}），由县级审定。")
            return redirect("monitoring:lead_detail", pk=appeal.pk)
    status = 400 if form.errors or (request.method == "POST" and refusal) else 200
    context = {"lead": lead, "form": form, "refusal": refusal, "active_nav": "leads"}
    return render(request, "monitoring/lead_appeal.html", context, status=status)
