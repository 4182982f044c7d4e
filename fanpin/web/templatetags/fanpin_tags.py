"""Chinese display conventions (SPEC §7) and masking filters."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django import template

from fanpin.core.idcard import id_number_mask, phone_mask
from fanpin.core.masking import free_text_for
from fanpin.core.terms import term as terms_term
from fanpin.core.terms import termed as terms_termed
from fanpin.web.errors import form_error_lines

register = template.Library()


@register.filter
def yuan(value: Any) -> str:
    """``12345.6`` → ``12,345.60 元``."""
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
    return f"{amount:,.2f} 元"


@register.filter
def money(value: Any) -> str:
    """``12345.6`` → ``12,345.60`` (tables with a 元 column header)."""
    if value is None or value == "":
        return "—"
    try:
        return f"{Decimal(value):,.2f}"
    except (InvalidOperation, TypeError, ValueError):
        return str(value)


@register.filter(expects_localtime=True)
def cn_date(value: Any) -> str:
    """``2025-03-14`` → ``2025年3月14日`` (prose); a timestamp on its local (Asia/Shanghai) date."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return f"{value.year}年{value.month}月{value.day}日"
    return "—" if value in (None, "") else str(value)


@register.filter
def masked_id(value: str) -> str:
    return id_number_mask(value) if value else ""


@register.filter
def masked_phone(value: str) -> str:
    return phone_mask(value) if value else ""


@register.filter
def free_text(value: Any, user: Any) -> Any:
    """Free text typed by households, cadres and staff (descriptions, notes, opinions, reasons): as
    ``user`` may see it — 身份证号-like and phone-like runs masked for the roles that do not see full
    IDs (``fanpin.core.masking.free_text_for``).  Every template showing such text uses it."""
    return free_text_for(user, value)


@register.filter
def person(user: Any) -> str:
    """A user's display name (full name, else user name); ``系统`` for rows the system wrote (no actor)."""
    if user is None:
        return "系统"
    return getattr(user, "full_name", "") or getattr(user, "username", "") or "系统"


@register.filter
def input_type(bound_field: Any) -> str:
    """The ``<input type>`` of a form field's widget (``radio``, ``checkbox``, ``date``, ``file`` …);
    ``""`` for widgets that are not inputs (a ``<textarea>``, a ``<select>``)."""
    return getattr(bound_field.field.widget, "input_type", "") or ""


@register.simple_tag
def term(key: str) -> str:
    """``{% term "system" %}``: a glossary word (fanpin.core.terms) where the page may have no request context
    (base.html also renders the 500 page); elsewhere pages use ``{{ terms.<key> }}``."""
    return terms_term(key)


@register.filter
def termed(value: Any) -> str:
    """A label frozen in the migrations with the 2020 words (``job.get_kind_display``) in the deployment's words."""
    return terms_termed(str(value))


@register.filter
def filter_error_lines(form: Any, skip: str = "") -> list[str]:
    """A filter form's errors as "字段：错误" lines (``form_error_lines``)."""
    return form_error_lines(form, skip)
