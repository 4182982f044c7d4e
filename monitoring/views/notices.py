"""Notices: the county's log of sends, and a household's consent to notices (recorded by a cadre)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from fanpin.core.idcard import phone_mask
from fanpin.core.roles import Permission
from fanpin.core.scoping import ObjectOutOfScope
from fanpin.web.errors import form_errors_add
from fanpin.web.mixins import permission_require
from monitoring.forms_cadre import NoticePreferenceForm
from monitoring.models import Household, NoticeKind, NoticeStatus
from monitoring.selectors.households import household_detail
from monitoring.selectors.notices import notice_preference_for, notices_in_scope
from monitoring.services.notices import notice_preference_set
from monitoring.services.notices.senders import configured_channel


@login_required
@require_GET
def notice_list_view(request: HttpRequest) -> HttpResponse:
    permission_require(request, Permission.VIEW_NOTICES)
    kind = request.GET.get("kind", "")
    status = request.GET.get("status", "")
    notices = notices_in_scope(user=request.user, kind=kind, status=status)
    page = Paginator(notices, 50).get_page(request.GET.get("page"))
    context = {
        "page_obj": page,
        "kind": kind if kind in NoticeKind.values else "",
        "status": status if status in NoticeStatus.values else "",
        "kinds": NoticeKind.choices,
        "statuses": NoticeStatus.choices,
        "channel": configured_channel(),
        "active_nav": "notices",
    }
    return render(request, "monitoring/notice_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def notice_preference_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A household's consent to notices and the phone they go to (a cadre records it; audited)."""
    permission_require(request, Permission.RECORD_VISITS)
    try:
        household = household_detail(user=request.user, pk=pk)
    except Household.DoesNotExist:
        raise ObjectOutOfScope("农户") from None
    preference = notice_preference_for(household_id=household.pk)
    # the number is never written into the page: shown masked, the input left empty keeps it
    initial = {"opted_in": preference.opted_in, "wechat_openid": preference.wechat_openid} if preference else {}
    form = NoticePreferenceForm(request.POST or None, initial=initial)
    current = (preference.phone if preference else "") or household.phone
    if current:
        form.fields["phone"].help_text = f"当前号码 {phone_mask(current)}，留空则保留原号码。"
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            notice_preference_set(
                actor=request.user,
                household_id=household.pk,
                opted_in=d["opted_in"],
                phone=d["phone"],
                wechat_openid=d["wechat_openid"],
            )
        except Household.DoesNotExist:
            raise ObjectOutOfScope("农户") from None
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            text = "已登记：农户接收办理进度通知。" if d["opted_in"] else "已登记：农户不接收通知。"
            messages.success(request, text)
            return redirect("monitoring:household_detail", pk=household.pk)
    context = {"household": household, "form": form, "preference": preference, "active_nav": "households"}
    return render(request, "monitoring/notice_preference.html", context, status=400 if form.errors else 200)
