"""农户变更审核: pending household changes side by side, the county's accept / reject, and the list of
likely duplicate persons.  County staff decide; township and village staff (and the
leaders above) see their own region's changes read-only."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from fanpin.core.masking import user_sees_full_id
from fanpin.core.roles import Permission, effective_role, role_can
from fanpin.web.mixins import permission_require
from monitoring.models import ChangeState
from monitoring.selectors.household_changes import changes_with_lines, duplicate_persons, household_changes_in_scope
from monitoring.services.household_changes import household_change_accept, household_change_reject

STATES = [*ChangeState.choices, ("ALL", "全部")]


@login_required
@require_GET
def household_change_list_view(request: HttpRequest) -> HttpResponse:
    permission_require(request, Permission.VIEW_HOUSEHOLDS)
    state = request.GET.get("state", ChangeState.PENDING)
    if state not in dict(STATES):
        state = ChangeState.PENDING
    changes = household_changes_in_scope(user=request.user, state=state)
    page = Paginator(changes, 30).get_page(request.GET.get("page"))
    context = {
        "page_obj": page,
        "rows": changes_with_lines(page.object_list),
        "state": state,
        "states": STATES,
        "can_decide": role_can(effective_role(request.user), Permission.DECIDE_HOUSEHOLD_CHANGES),
        "can_see_duplicates": user_sees_full_id(request.user),
        "active_nav": "household_changes",
    }
    return render(request, "monitoring/changes/list.html", context)


@login_required
@require_POST
def household_change_decide_view(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """同意 (apply) or 驳回 (with a reason).  Errors propagate to the one error map: outside the
    region 404, not county 403, already decided 409, a registry changed since the proposal 400."""
    permission_require(request, Permission.DECIDE_HOUSEHOLD_CHANGES)
    if action == "accept":
        household_change_accept(actor=request.user, change_id=pk)
        messages.success(request, f"已同意变更 {pk}，登记已按变更后的内容修改。")
    elif action == "reject":
        household_change_reject(actor=request.user, change_id=pk, reason=request.POST.get("reason", ""))
        messages.success(request, f"已驳回变更 {pk}，登记未作修改。")
    else:
        return HttpResponse("未知操作。", status=404)
    back = request.POST.get("state", ChangeState.PENDING)
    query = urlencode({"state": back if back in dict(STATES) else ChangeState.PENDING})
    return redirect(f"{reverse('monitoring:household_changes')}?{query}")


@login_required
@require_GET
def duplicate_persons_view(request: HttpRequest) -> HttpResponse:
    permission_require(request, Permission.VIEW_HOUSEHOLDS)
    if not user_sees_full_id(request.user):
        # a group says two masked numbers share their birth date, digits 7–14, the ones the mask
        # hides: whoever knows one person's birthday would learn the other's number (SPEC §1)
        raise PermissionDenied("疑似重复人员列出出生日期相同的身份证号，只向可查看完整身份证号的县级岗位显示。")
    context = {
        "groups": duplicate_persons(user=request.user),
        "can_unmask": user_sees_full_id(request.user),
        "active_nav": "household_changes",
    }
    return render(request, "monitoring/changes/duplicates.html", context)
