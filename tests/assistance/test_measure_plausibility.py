"""A household's measure as a county office would accept it (a newcomer's walk found the add form
saving a start in 1900 and in 2035, ¥99 999 999 999, the phone "abc", the same measure five times,
and a measure starting in 2035 marked 实施中 — which counts toward 风险消除)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assistance.models import MeasureStatus, TargetMeasure
from assistance.services.measures import measure_add, measure_status_set, measure_update
from tests.assistance.factories import TargetMeasureFactory, measure, target_for
from tests.conftest import World

pytestmark = pytest.mark.django_db

VILLAGE = "520101001001"


def _add(world: World, target_id: int, code: str = "MICROCREDIT", **extra: object) -> TargetMeasure:
    data: dict[str, object] = {
        "responsible_name": "李干部",
        "responsible_unit": "县农商行",
        "responsible_phone": "13800000000",
        "start_on": timezone.localdate(),
    }
    data.update(extra)
    return measure_add(actor=world.users["county"], target_id=target_id, measure_id=measure(code).pk, **data)  # type: ignore[arg-type]


def _refused(world: World, target_id: int, **extra: object) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as exc:
        _add(world, target_id, **extra)
    return exc.value.message_dict


def test_dates_amounts_and_phones_a_county_would_not_believe_are_refused(world: World) -> None:
    today = timezone.localdate()
    target = target_for(world.households[VILLAGE], identified_on=today - dt.timedelta(days=30))
    assert _refused(world, target.pk, start_on=dt.date(1900, 1, 1))["start_on"] == ["开始日期不能早于 2000-01-01。"]
    assert "最多提前一年" in _refused(world, target.pk, start_on=dt.date(today.year + 9, 1, 1))["start_on"][0]
    big = _refused(world, target.pk, amount=Decimal("99999999999.00"), amount_kind="FUNDS")
    assert "100 万元" in big["amount"][0]
    assert "7 到 15 位数字" in _refused(world, target.pk, responsible_phone="abc")["responsible_phone"][0]
    assert not TargetMeasure.objects.exists()
    # what a county does record: 低保 running long before the household was identified, a plan for
    # next month, a loan of 50 000 yuan, a landline written three ways
    _add(world, target.pk, "MINIMUM_LIVING_ALLOWANCE", start_on=dt.date(2009, 3, 1), responsible_phone="0851-86801234")
    _add(
        world, target.pk, "INDUSTRY_SUBSIDY", start_on=today + dt.timedelta(days=30), responsible_phone="(0851)86801234"
    )
    _add(
        world,
        target.pk,
        "LABOR_TRANSFER",
        amount=Decimal("50000.00"),
        amount_kind="LOAN",
        responsible_phone="+86 138 0000 0000",
    )
    assert TargetMeasure.objects.count() == 3


def test_a_measure_recorded_before_these_rules_stays_editable(world: World) -> None:
    """An edit checks only what it changes (a review: a measure saved earlier with a phone like
    0851-86801234转12, or a start in 1998, could not be edited at all, not even its phone)."""
    target = target_for(world.households[VILLAGE])
    old = TargetMeasureFactory(
        target=target,
        measure=measure("MINIMUM_LIVING_ALLOWANCE"),
        start_on=dt.date(1998, 5, 1),
        responsible_phone="0851-86801234转12",
    )
    edit = {
        "responsible_name": "王干部",
        "responsible_unit": old.responsible_unit,
        "responsible_phone": old.responsible_phone,
        "start_on": old.start_on,
    }
    measure_update(actor=world.users["county"], pk=old.pk, **edit)  # type: ignore[arg-type]
    old.refresh_from_db()
    assert old.responsible_name == "王干部"
    with pytest.raises(ValidationError) as exc:  # a changed value is checked
        measure_update(actor=world.users["county"], pk=old.pk, **edit | {"start_on": dt.date(1997, 1, 1)})  # type: ignore[arg-type]
    assert "start_on" in exc.value.message_dict


def test_the_same_measure_sent_twice_is_not_added_twice(world: World) -> None:
    target = target_for(world.households[VILLAGE])
    first = _add(world, target.pk)
    assert "请勿重复添加" in _refused(world, target.pk)["measure"][0]
    _add(world, target.pk, start_on=timezone.localdate() - dt.timedelta(days=1))  # another loan, another day
    _add(world, target.pk, amount=Decimal("3000.00"), amount_kind="LOAN")  # the same day, another loan
    measure_status_set(actor=world.users["county"], pk=first.pk, status="TERMINATED", note="农户放弃")
    _add(world, target.pk)  # the terminated one does not count
    assert TargetMeasure.objects.filter(target=target).count() == 4
    # on the page: Back, then 添加 again, answers with the message beside the field
    client = Client()
    client.force_login(world.users["county"])
    form = {
        "measure": measure("MICROCREDIT").pk,
        "responsible_name": "李干部",
        "responsible_unit": "县农商行",
        "responsible_phone": "13800000000",
        "start_on": timezone.localdate().isoformat(),
    }
    page = client.post(reverse("assistance:measure_add", args=[target.pk]), form).content.decode()
    assert "请勿重复添加" in page
    assert TargetMeasure.objects.filter(target=target).count() == 4


def test_a_measure_is_not_in_progress_before_it_starts(world: World) -> None:
    today = timezone.localdate()
    target = target_for(world.households[VILLAGE])
    planned = _add(world, target.pk, start_on=today + dt.timedelta(days=10))
    for status in ("IN_PROGRESS", "COMPLETED"):
        with pytest.raises(ValidationError) as exc:
            measure_status_set(actor=world.users["village"], pk=planned.pk, status=status, note="")
        assert "还未到" in exc.value.message_dict["status"][0]
    planned.refresh_from_db()
    assert planned.status == MeasureStatus.PLANNED
    started = _add(world, target.pk, "INDUSTRY_SUBSIDY")
    measure_status_set(actor=world.users["village"], pk=started.pk, status="IN_PROGRESS", note="已发放")
    with pytest.raises(ValidationError) as exc:  # nor moved into the future once started
        measure_update(
            actor=world.users["county"],
            pk=started.pk,
            responsible_name="李干部",
            responsible_unit="县农商行",
            responsible_phone="13800000000",
            start_on=today + dt.timedelta(days=5),
        )
    assert "不能晚于今天" in exc.value.message_dict["start_on"][0]
