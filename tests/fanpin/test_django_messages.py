"""Django's own form messages read as the rest of the product: full-width periods, plain wording
(its catalogue says "确认小数不超过 2 位." — fanpin/locale overrides it)."""

from __future__ import annotations

import pytest
from django import forms
from django.utils import translation

from tests.conftest import World


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


class Visit(forms.Form):
    visitors = forms.CharField(max_length=5)
    count = forms.IntegerField(min_value=0)
    on = forms.DateField()
    kind = forms.ChoiceField(choices=[("A", "甲")])


def test_other_form_messages() -> None:
    with translation.override("zh-hans"):
        form = Visit(data={"visitors": "王" * 8, "count": "-1", "on": "昨天", "kind": "Z"})
        assert not form.is_valid()
        assert form.errors == {
            "visitors": ["最多 5 个字（现有 8 个）。"],
            "count": ["不能小于 0。"],
            "on": ["请输入有效的日期，如 2025-03-01。"],
            "kind": ["请从列表中选择：“Z”不是可选项。"],
        }
        assert Visit(data={"visitors": "王", "count": "x", "on": "2025-03-01", "kind": "A"}).errors == {
            "count": ["请输入整数。"]
        }


def test_csrf_failure_is_plain_chinese() -> None:
    with translation.override("zh-hans"):
        assert translation.gettext("CSRF verification failed. Request aborted.").startswith("页面已过期")


def test_api_not_found_and_bad_json_in_chinese(world: World) -> None:
    """DRF passed on Django's English "No Household matches the given query." and its "JSON parse error"."""
    client = world.client_for("county")
    missing = client.get("/api/v1/households/99999999/")
    assert missing.status_code == 404 and missing.json() == {"detail": "未找到：记录不存在，或不在您的管辖范围内。"}
    bad = client.post("/api/v1/visits/", data="{not json", content_type="application/json")
    assert bad.status_code == 400 and bad.json() == {"detail": "请求内容无法解析：请发送有效的 JSON。"}


def test_an_api_path_that_matches_nothing_answers_json_in_chinese(world: World) -> None:
    """An API client got Django's HTML 404 page for a mistyped path."""
    client = world.client_for("county")
    for path in ("/api/v1/no-such-thing/", "/api/v1/households/not-a-number/", "/api/v2/"):
        response = client.get(path)
        assert response.status_code == 404 and response["Content-Type"] == "application/json", path
        assert response.json() == {"detail": "接口地址不存在。"}
    page = client.get("/monitoring/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")
