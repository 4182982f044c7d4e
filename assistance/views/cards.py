"""帮扶明白卡: one target's card, a village's batch (one card per page), both as a page the browser
prints (A4 or A5) and as a PDF file; the page listing the villages to print for."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET

from assistance.selectors.cards import (
    BATCH_MAX_CARDS,
    Card,
    card_villages,
    target_card,
    village_cards,
)
from assistance.services.cards import cards_print_record
from fanpin.core.roles import Permission
from fanpin.core.scoping import ObjectOutOfScope
from fanpin.core.terms import term
from fanpin.web.mixins import client_ip, permission_require
from fanpin.web.pdf import PdfUnavailable, pdf_from_html
from monitoring.models import MonitoringTarget, Region

# The household's public status page (by receipt number): the URL name, and its path should the
# name not be there (the QR code must lead somewhere on every deployment).
STATUS_URL_NAME = "status"
STATUS_PATH = "/status/"

PAGE_SIZES = ("A4", "A5")
CARD_STYLESHEETS = {"A4": ["css/cards.css", "css/page-a4.css"], "A5": ["css/cards.css", "css/page-a5.css"]}


def _size(request: HttpRequest) -> str:
    size = request.GET.get("size", "A4").upper()
    return size if size in PAGE_SIZES else "A4"


def status_url(request: HttpRequest, receipt_no: str) -> str:
    """The absolute address of the public status page, with the receipt number filled in."""
    try:
        path = reverse(STATUS_URL_NAME)
    except NoReverseMatch:
        path = STATUS_PATH
    query = f"?{urlencode({'receipt': receipt_no})}" if receipt_no else ""
    return request.build_absolute_uri(path + query)


def _context(request: HttpRequest, cards: list[Card], *, size: str, title: str, pdf: bool) -> dict[str, Any]:
    return {
        "cards": [(card, status_url(request, card.receipt_no)) for card in cards],
        "size": size,
        "sizes": PAGE_SIZES,
        "stylesheets": CARD_STYLESHEETS[size],
        "title": title,
        "pdf": pdf,
        "self_report_url": request.build_absolute_uri(reverse("self_report")),
    }


def _pdf_response(request: HttpRequest, context: dict[str, Any], filename: str) -> HttpResponse:
    html = render_to_string("assistance/cards/print.html", context, request=request)
    try:
        pdf = pdf_from_html(html, stylesheets=context["stylesheets"])
    except PdfUnavailable as exc:
        back = (
            request.headers.get("Referer", "")
            if url_has_allowed_host_and_scheme(request.headers.get("Referer", ""), allowed_hosts={request.get_host()})
            else "/"
        )
        context = {"title": "无法生成 PDF", "messages_list": [str(exc)], "back": back}
        return render(request, "refused.html", context, status=503)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


def _record(
    request: HttpRequest, region_code: str, *, cards: int, output: str, size: str, target_id: int | None = None
) -> None:
    """Every card printed or downloaded goes to the personal-data access log (the print page says so)."""
    cards_print_record(
        actor=request.user,
        region_code=region_code,
        cards=cards,
        output=output,
        size=size,
        target_id=target_id,
        ip_address=client_ip(request),
    )


def _target_card(request: HttpRequest, pk: int) -> Card:
    permission_require(request, Permission.PRINT_CARDS)
    try:
        return target_card(user=request.user, pk=pk)
    except MonitoringTarget.DoesNotExist:
        raise ObjectOutOfScope(term("target")) from None


@login_required
@require_GET
def card_view(request: HttpRequest, pk: int) -> HttpResponse:
    """One household's card, to print from the browser (A4 or A5)."""
    card = _target_card(request, pk)
    size = _size(request)
    _record(request, card.village_code, cards=1, output="html", size=size, target_id=pk)
    context = _context(request, [card], size=size, title=f"{card.head_name}户帮扶明白卡", pdf=False)
    context.update(
        back_url=reverse("monitoring:target_detail", args=[pk]),
        back_label=f"返回{term('target')}",
        pdf_url=reverse("assistance:card_pdf", args=[pk]) + f"?size={size}",
        size_urls=[(s, f"?size={s}") for s in PAGE_SIZES],
    )
    return render(request, "assistance/cards/print.html", context)


@login_required
@require_GET
def card_pdf_view(request: HttpRequest, pk: int) -> HttpResponse:
    card = _target_card(request, pk)
    size = _size(request)
    _record(request, card.village_code, cards=1, output="pdf", size=size, target_id=pk)
    context = _context(request, [card], size=size, title=f"{card.head_name}户帮扶明白卡", pdf=True)
    return _pdf_response(request, context, f"帮扶明白卡-{card.household_no}-{size}.pdf")


def _village_cards(request: HttpRequest, code: str) -> Any:
    permission_require(request, Permission.PRINT_CARDS)
    try:
        return village_cards(user=request.user, code=code)
    except Region.DoesNotExist:
        raise ObjectOutOfScope("村") from None


@login_required
@require_GET
def village_cards_view(request: HttpRequest, code: str) -> HttpResponse:
    """A village's cards, one per page: names and 帮扶责任人 phones of the whole village (logged)."""
    batch = _village_cards(request, code)
    size = _size(request)
    if batch.cards:
        _record(request, code, cards=len(batch.cards), output="html", size=size)
    village = batch.village
    context = _context(request, batch.cards, size=size, title=f"{village.name}帮扶明白卡（批量打印）", pdf=False)
    context.update(
        village=village,
        batch=True,
        too_many=batch.too_many,
        batch_max=BATCH_MAX_CARDS,
        back_url=reverse("assistance:card_villages"),
        back_label="返回明白卡与海报",
        pdf_url=reverse("assistance:village_cards_pdf", args=[code]) + f"?size={size}",
        size_urls=[(s, f"?size={s}") for s in PAGE_SIZES],
    )
    return render(request, "assistance/cards/print.html", context)


@login_required
@require_GET
def village_cards_pdf_view(request: HttpRequest, code: str) -> HttpResponse:
    batch = _village_cards(request, code)
    size = _size(request)
    if batch.too_many:
        target = term("target")
        raise ValidationError(f"{batch.village.name}的{target}超过 {BATCH_MAX_CARDS} 户，请在{target}列表中分批打印。")
    if not batch.cards:
        raise ValidationError(f"{batch.village.name}没有监测中的{term('target')}，无需打印明白卡。")
    _record(request, code, cards=len(batch.cards), output="pdf", size=size)
    context = _context(request, batch.cards, size=size, title=f"{batch.village.name}帮扶明白卡", pdf=True)
    return _pdf_response(request, context, f"帮扶明白卡-{batch.village.name}-{size}.pdf")


@login_required
@require_GET
def card_villages_view(request: HttpRequest) -> HttpResponse:
    """The villages in the user's scope: each with its number of active targets, the batch of cards
    (page and PDF) and the village's QR poster."""
    permission_require(request, Permission.PRINT_CARDS)
    villages = card_villages(user=request.user)
    page = Paginator(villages, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "assistance/cards/villages.html",
        {"page_obj": page, "active_nav": "targets", "total": len(villages)},
    )
