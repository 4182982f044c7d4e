"""Django's own form messages read as the rest of the product: full-width periods, plain wording
(its catalogue says "确认小数不超过 2 位." — fanpin/locale overrides it)."""

from __future__ import annotations

import pytest
from django import forms
from django.utils import translation


class Amount(forms.Form):
    amount = forms.DecimalField(max_digits=6, decimal_places=2)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("1.234", "最多保留 2 位小数。"),
        ("12345.6", "小数点前最多 4 位数字。"),
        ("1234567", "最多 6 位数字。"),
    ],
)
def test_decimal_messages(typed: str, message: str) -> None:
    with translation.override("zh-hans"):
        form = Amount(data={"amount": typed})
        assert not form.is_valid()
        assert form.errors["amount"] == [message]
    assert Amount(data={"amount": "1234.56"}).is_valid()


def test_csrf_failure_is_plain_chinese() -> None:
    with translation.override("zh-hans"):
        assert translation.gettext("CSRF verification failed. Request aborted.").startswith("页面已过期")
