"""Issue 18, item 5: the page of the provinces' own rule parameters — who sees and changes what,
沿用全国默认值 or the province's value, reset to national, the per-province what-if preview."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from fanpin.core.models import AuditEntry
from monitoring.models import ProvinceRuleParameters
from monitoring.selectors.province_parameters import parameter_values_for
from tests.conftest import World
from tests.factories import ExpenditureFactory, income
from tests.monitoring.screening_helpers import YEAR, setup_lines

pytestmark = pytest.mark.django_db

P52, P53 = "520000000000", "530000000000"


def edit_url(code: str) -> str:
    return reverse("monitoring:province_parameters_edit", args=[code])


def preview_url(code: str) -> str:
    return reverse("monitoring:province_parameters_preview", args=[code])


def test_admin_reaches_every_province_from_the_parameters_page(world: World) -> None:
    client = world.client_for("admin")
    page = client.get(reverse("monitoring:parameters")).content.decode()
    assert reverse("monitoring:province_parameters") in page
    listing = client.get(reverse("monitoring:province_parameters")).content.decode()
    assert edit_url(P52) in listing and edit_url(P53) in listing
    assert "全部沿用全国默认值" in listing


def test_the_page_says_inherited_or_own_and_saves_with_audit(world: World) -> None:
    client = world.client_for("admin")
    page = client.get(edit_url(P53)).content.decode()
    assert "沿用全国默认值" in page and "留空则沿用全国默认值 1.0000" in page
    assert "留空则沿用全国默认值 5,000.00 元" in page
    response = client.post(
        edit_url(P53), {"spike_ratio": "0.5", "medical_alert_general": "", "reason": "省乡村振兴局 2026 年文件"}
    )
    assert response.status_code == 302
    assert parameter_values_for(province_code=P53)["spike_ratio"] == Decimal("0.5")
    page = client.get(edit_url(P53)).content.decode()
    assert "本省值" in page and "全国默认值 1.0000" in page
    assert "省乡村振兴局 2026 年文件" in page  # the history
    entry = AuditEntry.objects.get(object_type="province_rule_parameter")
    assert (entry.object_id, entry.from_state, entry.to_state) == (f"{P53}:spike_ratio", "沿用全国默认值", "0.5000")
    # reset to national
    assert client.post(edit_url(P53), {"action": "reset", "spike_ratio": "0.5", "reason": "恢复"}).status_code == 302
    assert ProvinceRuleParameters.objects.get(province_code=P53).spike_ratio is None
    assert AuditEntry.objects.filter(object_type="province_rule_parameter", action="reset").count() == 1


def test_invalid_values_are_shown_next_to_the_field(world: World) -> None:
    client = world.client_for("admin")
    response = client.post(edit_url(P53), {"drop_ratio": "1.5", "reason": "试"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "收入骤减比例必须在 0 和 1 之间" in page and "请更正下方标出的错误" in page
    assert 'class="invalid-feedback">收入骤减比例必须在 0 和 1 之间' in page  # next to the field
    response = client.post(edit_url(P53), {"spike_ratio": "x", "reason": "试"})
    assert response.status_code == 400 and "刚性支出骤增倍数必须是数字" in response.content.decode()
    response = client.post(edit_url(P53), {"spike_ratio": "0.5", "reason": ""})
    assert response.status_code == 400 and "须填写修改依据" in response.content.decode()
    assert not AuditEntry.objects.filter(object_type="province_rule_parameter").exists()


def test_a_provincial_user_edits_only_its_own_province(world: World) -> None:
    client = world.client_for("province")
    home = client.get(reverse("home")).content.decode()
    assert reverse("monitoring:province_parameters") in home  # the navigation
    assert client.get(reverse("monitoring:province_parameters")).url == edit_url(P52)
    assert client.get(edit_url(P52)).status_code == 200
    assert client.post(edit_url(P52), {"spike_ratio": "0.8", "reason": "本省文件"}).status_code == 302
    assert parameter_values_for(province_code=P52)["spike_ratio"] == Decimal("0.8")
    assert AuditEntry.objects.get(object_type="province_rule_parameter").actor == world.users["province"]
    # another province: not found, not changed, not previewed
    assert client.get(edit_url(P53)).status_code == 404
    assert client.post(edit_url(P53), {"spike_ratio": "0.5", "reason": "越权"}).status_code == 404
    assert client.post(preview_url(P53), {"spike_ratio": "0.5", "preview_year": YEAR}).status_code == 404
    assert parameter_values_for(province_code=P53)["spike_ratio"] == Decimal("1.0")
    # the national page stays the administrators'
    assert client.get(reverse("monitoring:parameters")).status_code == 403


@pytest.mark.parametrize("role", ["city", "county", "township", "village", "dept"])
def test_other_users_cannot_see_or_edit(world: World, role: str) -> None:
    client = world.client_for(role)
    assert client.get(reverse("monitoring:province_parameters")).status_code == 403
    assert client.get(edit_url(P52)).status_code == 403
    assert client.post(edit_url(P52), {"spike_ratio": "0.5", "reason": "越权"}).status_code == 403
    assert client.post(preview_url(P52), {"spike_ratio": "0.5", "preview_year": YEAR}).status_code == 403
    assert not ProvinceRuleParameters.objects.exists()


def test_preview_compares_the_province_current_and_proposed_values_per_county(world: World) -> None:
    setup_lines()
    for code in ("520101001001", "530101001001"):
        hh = world.households[code]
        income(hh, YEAR - 1, "10000.00", size=2)
        income(hh, YEAR, "10000.00", size=2)
        ExpenditureFactory(household=hh, occurred_on=dt.date(YEAR, 5, 1), amount=Decimal("15000.00"))
    client = world.client_for("admin")
    response = client.post(preview_url(P53), {"spike_ratio": "0.5", "preview_year": YEAR})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="preview-table"' in page
    assert "区划530101000000" in page and "区划520101000000" not in page  # only the province's counties
    assert '<td class="text-end">+1</td>' in page
    assert not ProvinceRuleParameters.objects.exists()  # nothing saved
    # the current values are the province's own
    client.post(edit_url(P53), {"spike_ratio": "0.5", "reason": "文件"})
    page = client.post(preview_url(P53), {"spike_ratio": "", "preview_year": YEAR}).content.decode()
    assert '<td class="text-end">-1</td>' in page  # back to the national 1.0: one household less
    page = client.post(preview_url(P53), {"drop_ratio": "2", "preview_year": YEAR}).content.decode()
    assert "无法预览" in page and "收入骤减比例必须在 0 和 1 之间" in page


def _version(page: str) -> str:
    import re

    found = re.search(r'name="version" value="([0-9a-f]*)"', page)
    assert found, "the form carries the version of the values it shows"
    return found.group(1)


def test_saving_a_page_opened_before_someone_else_saved_is_refused(world: World) -> None:
    """Two administrators open the page; the first saves 0.5; the second's form (which still shows
    the national value) would silently undo it: refused with a message, nothing written."""
    first, second = world.client_for("admin"), world.client_for("province")
    P52_first = _version(first.get(edit_url(P52)).content.decode())
    seen_by_second = _version(second.get(edit_url(P52)).content.decode())
    assert P52_first == seen_by_second
    ok = first.post(edit_url(P52), {"spike_ratio": "0.5", "reason": "文件一", "version": P52_first})
    assert ok.status_code == 302
    stale = second.post(
        edit_url(P52), {"drop_ratio": "0.6", "spike_ratio": "", "reason": "文件二", "version": seen_by_second}
    )
    assert stale.status_code == 400 and "已被他人修改" in stale.content.decode()
    values = parameter_values_for(province_code=P52)
    assert values["spike_ratio"] == Decimal("0.5") and values["drop_ratio"] != Decimal("0.6")
    assert AuditEntry.objects.filter(object_type="province_rule_parameter").count() == 1
    stale_reset = second.post(edit_url(P52), {"action": "reset", "reason": "恢复", "version": seen_by_second})
    assert stale_reset.status_code == 400
    # after reloading, the second administrator's form carries the new version and saves
    fresh = _version(second.get(edit_url(P52)).content.decode())
    assert fresh != seen_by_second
    again = second.post(
        edit_url(P52), {"spike_ratio": "0.5", "drop_ratio": "0.6", "reason": "文件二", "version": fresh}
    )
    assert again.status_code == 302 and parameter_values_for(province_code=P52)["drop_ratio"] == Decimal("0.6")
