"""The screening pages: start a run, watch it, run history; parameters with the what-if preview."""

from __future__ import annotations

from decimal import Decimal
from unittest import mock

import pytest
from django.urls import reverse

from fanpin.core.models import AuditEntry
from monitoring.models import Lead, MonitoringLine, RunStatus, ScreeningParameters, ScreeningRun
from monitoring.services.screening import screening_county_execute
from tests.factories import MonitoringLineFactory, income
from tests.monitoring.screening_helpers import YEAR, household, setup_lines

pytestmark = pytest.mark.django_db


@pytest.fixture
def county_data(world) -> None:  # type: ignore[no-untyped-def]
    setup_lines()
    poor = household()
    income(poor, YEAR, "100.00")


def _run_inline(run_id: int) -> None:
    """Stand-in for the Celery dispatch (the test settings are not eager)."""
    screening_county_execute(run_id=run_id)


def test_county_staff_start_a_run_and_watch_it(client, world, county_data) -> None:  # type: ignore[no-untyped-def]
    client.force_login(world.users["county"])
    page = client.get(reverse("monitoring:screening"))
    assert page.status_code == 200
    assert "还没有筛查记录" in page.content.decode()
    with mock.patch("monitoring.tasks.screening_dispatch_task.delay_on_commit") as enqueue:
        response = client.post(reverse("monitoring:screening"), {"region": "520101000000", "year": YEAR})
    run = ScreeningRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("monitoring:screening_run", args=[run.pk])
    enqueue.assert_called_once_with(run.pk)
    assert run.started_by == world.users["county"]
    assert run.trigger == "MANUAL"

    pending = client.get(response["Location"])
    assert 'hx-trigger="every 2s"' in pending.content.decode()  # polls while it runs
    _run_inline(run.pk)
    partial = client.get(response["Location"], headers={"HX-Request": "true"})
    body = partial.content.decode()
    assert "<html" not in body
    assert "hx-trigger" not in body  # finished: polling stops
    assert "已完成" in body and "新增线索 <strong>1</strong>" in body
    history = client.get(reverse("monitoring:screening")).content.decode()
    assert f"#{run.pk}" in history


def test_county_staff_cannot_screen_another_county(client, world, county_data) -> None:  # type: ignore[no-untyped-def]
    client.force_login(world.users["county"])
    response = client.post(reverse("monitoring:screening"), {"region": "520102000000", "year": YEAR})
    assert response.status_code == 200
    assert "is-invalid" in response.content.decode()
    assert not ScreeningRun.objects.exists()


def test_runs_outside_scope_answer_404(client, world, county_data) -> None:  # type: ignore[no-untyped-def]
    setup_lines()
    household(village="520102001001")
    from monitoring.services.screening import screening_run_create

    other = screening_run_create(region_code="520102000000", year=YEAR, trigger="COMMAND")
    client.force_login(world.users["county"])
    assert client.get(reverse("monitoring:screening_run", args=[other.pk])).status_code == 404


def test_roles_without_permission_are_refused(client, world) -> None:  # type: ignore[no-untyped-def]
    client.force_login(world.users["village"])
    assert client.get(reverse("monitoring:screening")).status_code == 403
    client.force_login(world.users["county"])
    assert client.get(reverse("monitoring:parameters")).status_code == 403


def test_navigation_shows_screening_and_parameters(client, world) -> None:  # type: ignore[no-untyped-def]
    client.force_login(world.users["county"])
    body = client.get(reverse("home")).content.decode()
    assert "筛查" in body and "参数设置" not in body
    client.force_login(world.users["admin"])
    body = client.get(reverse("home")).content.decode()
    assert "筛查" in body and "参数设置" in body


def test_parameter_preview_shows_counts_per_county_and_writes_nothing(client, world, county_data) -> None:  # type: ignore[no-untyped-def]
    spiky = household()
    income(spiky, YEAR, "20000.00")
    income(spiky, YEAR - 1, "30000.00")  # −33 %: fires INCOME_DROP only when the drop ratio is ≤ 0.33
    client.force_login(world.users["admin"])
    response = client.post(
        reverse("monitoring:parameters_preview"),
        {
            "kind": "params",
            "spike_ratio": "1",
            "drop_ratio": "0.3",
            "drop_line_multiple": "3",
            "scale_cap_normal": "0.05",
            "scale_cap_deep": "0.1",
            "scale_floor": "0.01",
            "medical_alert_supported": "5000",
            "medical_alert_general": "20000",
            "preview_year": YEAR,
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "preview-table" in body
    # 520101: 1 in scope now (the poor household), 2 with the line multiple raised to 3
    assert '<td class="text-end">1</td><td class="text-end">2</td><td class="text-end">+1</td>' in body
    assert ScreeningParameters.objects.get().drop_line_multiple == Decimal("2.0000")
    assert not Lead.objects.exists()


def test_monitoring_line_preview_and_save(client, world, county_data) -> None:  # type: ignore[no-untyped-def]
    client.force_login(world.users["admin"])
    # a national line of exactly the poor household's 100.00 per head: it would leave the scope
    preview = client.post(
        reverse("monitoring:parameters_preview"), {"kind": "line", "year": YEAR, "province": "", "line": "100.00"}
    ).content.decode()
    assert '<td class="text-end">1</td><td class="text-end">0</td><td class="text-end">-1</td>' in preview
    assert MonitoringLine.objects.get(year=YEAR, province=None).line == Decimal("7000.00")
    data = {"kind": "line", "year": YEAR, "province": "520000000000", "line": "8700.00", "source": "测试"}
    saved = client.post(reverse("monitoring:parameters"), data)
    assert saved.status_code == 302
    assert MonitoringLine.objects.get(year=YEAR, province_id="520000000000").line == Decimal("8700.00")
    assert AuditEntry.objects.filter(object_type="monitoring_line").exists()


def test_line_below_national_is_refused_with_message(client, world, county_data) -> None:  # type: ignore[no-untyped-def]
    client.force_login(world.users["admin"])
    response = client.post(
        reverse("monitoring:parameters"), {"kind": "line", "year": YEAR, "province": "520000000000", "line": "100"}
    )
    assert response.status_code == 400
    assert "低于全国标准" in response.content.decode()


def test_saving_parameters_is_audited_and_validated(client, world) -> None:  # type: ignore[no-untyped-def]
    client.force_login(world.users["admin"])
    base = {
        "kind": "params",
        "spike_ratio": "1.2",
        "drop_ratio": "0.3",
        "drop_line_multiple": "2",
        "scale_cap_normal": "0.05",
        "scale_cap_deep": "0.1",
        "scale_floor": "0.01",
        "medical_alert_supported": "5000.00",
        "medical_alert_general": "20000.00",
        "reason": "省里文件",
    }
    assert client.post(reverse("monitoring:parameters"), base).status_code == 302
    entry = AuditEntry.objects.get(object_type="screening_parameter")
    assert (entry.object_id, entry.from_state, entry.to_state, entry.reason) == (
        "spike_ratio",
        "1.0000",
        "1.2",
        "省里文件",
    )
    bad = client.post(reverse("monitoring:parameters"), {**base, "drop_ratio": "1.5"})
    assert bad.status_code == 400
    assert "0 和 1 之间" in bad.content.decode()
    assert ScreeningParameters.objects.get().drop_ratio == Decimal("0.3000")


def test_province_run_has_one_child_per_county_and_gathers(world) -> None:  # type: ignore[no-untyped-def]
    from monitoring.services.screening import screening_run_create, screening_run_execute

    setup_lines()
    MonitoringLineFactory(year=YEAR - 1)
    for village in ("520101001001", "520102001001"):
        hh = household(village=village)
        income(hh, YEAR, "100.00")
    run = screening_run_create(region_code="520000000000", year=YEAR, trigger="COMMAND")
    # the world fixture has households in 520201 too, without incomes
    assert run.children.count() == 3
    run = screening_run_execute(run_id=run.pk)
    assert run.status == RunStatus.SUCCEEDED
    assert run.counties_done == 3
    assert run.leads_raised == 2
    assert run.summary["rules"]["LOW_INCOME"]["missing"] == 5  # the world's five households in 52 lack incomes


def test_parameters_page_shows_current_values_and_lines(client, world, county_data) -> None:  # type: ignore[no-untyped-def]
    client.force_login(world.users["admin"])
    body = client.get(reverse("monitoring:parameters")).content.decode()
    assert '<label for="id_drop_ratio" class="form-label">收入骤减比例</label>' in body
    assert 'value="0.3000"' in body
    assert "7000.00" in body  # the national line of the year set up above
    assert "预览影响" in body


def test_province_run_page_lists_each_countys_figures_and_links_its_run(client, world) -> None:  # type: ignore[no-untyped-def]
    """The administrator reads each county's households fired and skipped beside its leads, opens
    the county's own run, and is told why the rules' rows add up to more than the households fired."""
    from monitoring.services.screening import screening_run_create, screening_run_execute

    setup_lines()
    poor = household(village="520101001001")
    income(poor, YEAR, "100.00")
    run = screening_run_create(region_code="520000000000", year=YEAR, trigger="COMMAND")
    run = screening_run_execute(run_id=run.pk)
    client.force_login(world.users["admin"])
    html = client.get(reverse("monitoring:screening_run", args=[run.pk])).content.decode()
    child = run.children.get(region_id="520101000000")
    assert f'href="{reverse("monitoring:screening_run", args=[child.pk])}"' in html
    assert "触发规则户数" in html and "已有在办线索" in html and "更新线索" not in html
    assert "各规则的户数相加可多于触发规则的户数" in html
    county_row = html.split(reverse("monitoring:screening_run", args=[child.pk]))[1]
    cells = [cell.split("</td>")[0] for cell in county_row.split('<td class="text-end">')[1:6]]
    assert cells == [str(child.households), "1", "1", "0", "0"]  # households, fired, raised, open, target
    unfinished = screening_run_create(region_code="520000000000", year=YEAR, trigger="COMMAND")  # not run yet
    waiting = client.get(reverse("monitoring:screening_run", args=[unfinished.pk])).content.decode()
    first = unfinished.children.order_by("region_id").first()
    row = waiting.split(reverse("monitoring:screening_run", args=[first.pk]))[1].split("</tr>")[0]
    assert row.count('<td class="text-end">—</td>') == 3  # fired and skipped not known yet, not blank
    page = client.get(reverse("monitoring:screening_run", args=[child.pk])).content.decode()
    assert "新增线索 <strong>1</strong>" in page
    assert f'href="{reverse("monitoring:screening_run", args=[run.pk])}"' in page  # back to the province's run
    client.force_login(world.users["county"])  # the county's run is its own; the province's is not
    page = client.get(reverse("monitoring:screening_run", args=[child.pk])).content.decode()
    assert "新增线索 <strong>1</strong>" in page
    assert f'href="{reverse("monitoring:screening_run", args=[run.pk])}"' not in page
    assert client.get(reverse("monitoring:screening_run", args=[run.pk])).status_code == 404


def test_county_officer_finds_its_county_in_the_provinces_run(client, world) -> None:  # type: ignore[no-untyped-def]
    """A province screened by the administrator lists, for the county officer, the county's own part
    (the list said 还没有筛查记录); the administrator's list shows the province's run, not its parts."""
    from monitoring.services.screening import screening_run_create, screening_run_execute

    setup_lines()
    income(household(village="520101001001"), YEAR, "100.00")
    run = screening_run_execute(
        run_id=screening_run_create(region_code="520000000000", year=YEAR, trigger="COMMAND").pk
    )
    child = run.children.get(region_id="520101000000")
    other = run.children.exclude(region_id="520101000000").first()
    client.force_login(world.users["county"])
    html = client.get(reverse("monitoring:screening")).content.decode()
    assert "还没有筛查记录" not in html
    assert f'href="{reverse("monitoring:screening_run", args=[child.pk])}"' in html
    assert f'href="{reverse("monitoring:screening_run", args=[run.pk])}"' not in html
    assert f'href="{reverse("monitoring:screening_run", args=[other.pk])}"' not in html
    assert "筛查的一部分" in html
    client.force_login(world.users["admin"])
    html = client.get(reverse("monitoring:screening")).content.decode()
    assert f'href="{reverse("monitoring:screening_run", args=[run.pk])}"' in html
    assert f'href="{reverse("monitoring:screening_run", args=[child.pk])}"' not in html


def test_a_province_run_has_one_run_per_county_as_a_database_rule(world) -> None:  # type: ignore[no-untyped-def]
    from django.db import IntegrityError, transaction

    from monitoring.services.screening import screening_run_create

    setup_lines()
    run = screening_run_create(region_code="520000000000", year=YEAR, trigger="COMMAND")
    child = run.children.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        ScreeningRun.objects.create(region_id=child.region_id, year=YEAR, parent=run, trigger="COMMAND")
    # a county screened on its own again and again is not a county of a run: no limit
    for _ in range(2):
        ScreeningRun.objects.create(region_id=child.region_id, year=YEAR, trigger="COMMAND")
