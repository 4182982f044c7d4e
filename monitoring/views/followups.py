"""绿色通道补办 pages (SPEC §5.6): the list of follow-ups in scope (filter 已超期), one follow-up with
its owed steps and the village's forms, and the POST that records a step."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from fanpin.core.roles import Permission, Role, effective_role
from fanpin.core.scoping import ObjectOutOfScope
from fanpin.core.workflow import TransitionNotAllowed
from fanpin.web.errors import form_errors_add
from fanpin.web.mixins import permission_require
from monitoring.forms_followups import STEP_FORMS, CountyReviewForm, step_record
from monitoring.models import FollowUp, FollowUpState, FollowUpStep, TargetStatus
from monitoring.selectors.followups import (
    STATE_FILTERS,
    checklist_lines,
    follow_up_detail,
    follow_up_rows,
    follow_ups_in_scope,
)
from monitoring.services.followups import follow_up_county_review, follow_up_step_record


@login_required
@require_GET
def followup_list_view(request: HttpRequest) -> HttpResponse:
    permission_require(request, Permission.VIEW_HOUSEHOLDS)
    state = request.GET.get("state", "OPEN")
    if state not in STATE_FILTERS:
        state = "OPEN"
    page = Paginator(follow_ups_in_scope(user=request.user, state=state), 50).get_page(request.GET.get("page"))
    context = {
        "page_obj": page,
        "rows": follow_up_rows(page.object_list),
        "state": state,
        "states": list(STATE_FILTERS.items()),
        "active_nav": "followups",
    }
    return render(request, "monitoring/followups/list.html", context)


def _detail(
    request: HttpRequest,
    pk: int,
    *,
    bound: tuple[str, Any] | None = None,
    review_form: CountyReviewForm | None = None,
    status: int = 200,
) -> HttpResponse:
    try:
        follow_up = follow_up_detail(user=request.user, pk=pk)
    except FollowUp.DoesNotExist:
        raise ObjectOutOfScope("绿色通道补办") from None
    row = follow_up_rows([follow_up])[0]
    may_record = effective_role(request.user) == Role.VILLAGE and follow_up.state == FollowUpState.OPEN
    outstanding = follow_up.steps_outstanding
    step = outstanding[0] if may_record and outstanding else ""
    form = None
    if step:
        form = bound[1] if bound and bound[0] == step else STEP_FORMS[step]()
    may_review = (
        effective_role(request.user) == Role.COUNTY
        and follow_up.county_review_waiting
        and follow_up.target.status == TargetStatus.ACTIVE
    )
    context = {
        "row": row,
        "f": follow_up,
        "review_form": (review_form or CountyReviewForm()) if may_review else None,
        "checklist": checklist_lines(follow_up),
        "step": step,
        "step_label": FollowUpStep(step).label if step else "",
        "form": form,
        "active_nav": "followups",
    }
    return render(request, "monitoring/followups/detail.html", context, status=status)


@login_required
@require_GET
def followup_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    permission_require(request, Permission.VIEW_HOUSEHOLDS)
    return _detail(request, pk)


@login_required
@require_POST
def followup_record_view(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    """登记一个补办环节. Out of scope 404, not the village 403, done / recorded already 409 (the
    one error map); a wrong date is shown next to its field (400)."""
    permission_require(request, Permission.RECORD_VISITS)
    if step not in STEP_FORMS:
        raise Http404("未知的补办环节。")
    form = STEP_FORMS[step](request.POST)
    if form.is_valid():
        try:
            follow_up_step_record(follow_up_id=pk, actor=request.user, record=step_record(form))
        except TransitionNotAllowed:
            raise  # done or recorded already: 409 from the one error map, not a form error
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(request, f"已登记补办{FollowUpStep(step).label}。")
            return redirect(reverse("monitoring:followup", args=[pk]))
    return _detail(request, pk, bound=(step, form), status=400)


@login_required
@require_POST
def followup_county_review_view(request: HttpRequest, pk: int) -> HttpResponse:
    """县级复核 of a 不同意 appraisal (维持认定, with the county's written opinion). Out of scope 404,
    not the county 403, not asked or answered already 409 (the one error map); no opinion 400."""
    permission_require(request, Permission.VIEW_HOUSEHOLDS)
    form = CountyReviewForm(request.POST)
    form.is_valid()  # parsing only: scope, role, state and the opinion's rules are the service's
    try:
        follow_up_county_review(follow_up_id=pk, actor=request.user, note=form.cleaned_data.get("note", ""))
    except TransitionNotAllowed:
        raise  # not sent back or answered already: 409 from the one error map, not a form error
    except ValidationError as exc:
        form_errors_add(form, exc)
        return _detail(request, pk, review_form=form, status=400)
    messages.success(request, "已县级复核：维持认定，继续监测。")
    return redirect(reverse("monitoring:followup", args=[pk]))
