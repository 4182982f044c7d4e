"""Issue 16, holes 3 and 4: the admin neither moves regions nor edits registry data past the services,
and it shows 身份证号 and phones masked."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from monitoring.models import AnnualIncome, Household, Region, RigidExpenditure
from tests.conftest import World
from tests.factories import ExpenditureFactory, IncomeFactory

pytestmark = pytest.mark.django_db

COUNTY = "520101000000"
TOWNSHIP = "520101001000"
VILLAGE = "520101001001"


def region_form(code: str, name: str, deep: bool = False) -> dict[str, str]:
    data = {"code": code, "name": name}
    if deep:
        data["is_deep_poverty"] = "on"
    return data


def test_county_staff_cannot_change_or_add_regions(client: Client, world: World) -> None:
    client.force_login(world.users["county"])
    change = reverse("admin:monitoring_region_change", args=[COUNTY])
    page = client.get(change)
    assert page.status_code == 200  # they may look
    assert 'name="code"' not in page.content.decode() and 'name="_save"' not in page.content.decode()
    # the probe: the county's own code edited to one in another province saved a new region there
    response = client.post(change, region_form("530199000000", "新县"))
    assert response.status_code == 403
    assert client.post(change, region_form(COUNTY, "改名县")).status_code == 403
    assert client.get(reverse("admin:monitoring_region_add")).status_code == 403
    add = client.post(reverse("admin:monitoring_region_add"), region_form("520101001009", "新村"))
    assert add.status_code == 403
    assert not Region.objects.filter(code__in=["530199000000", "520101001009"]).exists()
    assert Region.objects.get(code=COUNTY).name != "改名县"


def test_administrator_renames_a_region_but_never_changes_its_code(client: Client, world: World) -> None:
    client.force_login(world.users["admin"])
    change = reverse("admin:monitoring_region_change", args=[COUNTY])
    assert 'name="code"' not in client.get(change).content.decode()
    response = client.post(change, region_form("530199000000", "观山湖区", deep=True))
    assert response.status_code == 302
    county = Region.objects.get(code=COUNTY)
    assert (county.name, county.is_deep_poverty) == ("观山湖区", True)
    assert not Region.objects.filter(code="530199000000").exists()


def test_administrator_adds_a_region_below_an_existing_one(client: Client, world: World) -> None:
    client.force_login(world.users["admin"])
    add = reverse("admin:monitoring_region_add")
    assert client.post(add, region_form("520101001009", "新村")).status_code == 302
    village = Region.objects.get(code="520101001009")
    assert (village.level, village.parent_id) == (Region.Level.VILLAGE, TOWNSHIP)

    orphan = client.post(add, region_form("520101077001", "无上级村"))
    assert orphan.status_code == 200
    assert "上级区划 520101077000 不存在" in orphan.content.decode()
    bad = client.post(add, region_form("52010100100", "短码村"))
    assert "应为 12 位数字" in bad.content.decode()
    assert not Region.objects.filter(code__in=["520101077001", "52010100100"]).exists()


@pytest.mark.parametrize(("code", "label"), [(TOWNSHIP, "乡镇"), (VILLAGE, "村")])
def test_deep_poverty_flag_below_county_is_a_chinese_form_error(
    client: Client, world: World, code: str, label: str
) -> None:
    client.force_login(world.users["admin"])
    response = client.post(reverse("admin:monitoring_region_change", args=[code]), region_form(code, "某地", deep=True))
    assert response.status_code == 200
    assert f"只有县级区划可以标记为深度贫困地区（{code} 是{label}级）" in response.content.decode()
    assert Region.objects.get(code=code).is_deep_poverty is False
    add = client.post(reverse("admin:monitoring_region_add"), region_form("520101001008", "新村", deep=True))
    assert "只有县级区划可以标记为深度贫困地区" in add.content.decode()
    assert not Region.objects.filter(code="520101001008").exists()


def household_form(household: Household, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "household_no": household.household_no,
        "village": household.village_id,
        "household_type": household.household_type,
        "exit_year": household.exit_year or "",
        "phone": household.phone,
        "address": household.address,
        "members-TOTAL_FORMS": "0",
        "members-INITIAL_FORMS": "0",
        "members-MIN_NUM_FORMS": "0",
        "members-MAX_NUM_FORMS": "1000",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize("role", ["county", "admin"])
def test_household_cannot_be_changed_in_the_admin(client: Client, world: World, role: str) -> None:
    """The probe changed 一般农户 → 脱贫户, the exit year and the phone with no audit row and no screening."""
    household = world.households[VILLAGE]
    client.force_login(world.users[role])
    url = reverse("admin:monitoring_household_change", args=[household.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="household_type"' not in page.content.decode()
    response = client.post(
        url, household_form(household, household_type="EXITED", exit_year="2019", phone="13900000000")
    )
    assert response.status_code == 403
    household.refresh_from_db()
    assert (household.household_type, household.exit_year, household.phone) == ("GENERAL", None, "13812345678")
    delete = client.post(reverse("admin:monitoring_household_delete", args=[household.pk]), {"post": "yes"})
    assert delete.status_code == 403
    assert Household.objects.filter(pk=household.pk).exists()


@pytest.mark.parametrize("model", ["household", "member", "annualincome", "rigidexpenditure", "visit"])
@pytest.mark.parametrize("role", ["county", "admin"])
def test_registry_rows_cannot_be_added_in_the_admin(client: Client, world: World, role: str, model: str) -> None:
    client.force_login(world.users[role])
    assert client.get(reverse(f"admin:monitoring_{model}_add")).status_code == 403


def test_income_and_expenditure_cannot_be_changed_in_the_admin(client: Client, world: World) -> None:
    household = world.households[VILLAGE]
    income = IncomeFactory(household=household)
    expenditure = ExpenditureFactory(household=household)
    client.force_login(world.users["county"])
    income_url = reverse("admin:monitoring_annualincome_change", args=[income.pk])
    assert 'name="wage_income"' not in client.get(income_url).content.decode()
    data = {
        "household": household.pk,
        "year": 2024,
        "family_size": 9,
        "wage_income": "0",
        "business_income": "0",
        "property_income": "0",
        "transfer_income": "0",
    }
    assert client.post(income_url, data).status_code == 403
    assert AnnualIncome.objects.get(pk=income.pk).family_size == 3
    expenditure_url = reverse("admin:monitoring_rigidexpenditure_change", args=[expenditure.pk])
    data = {
        "household": household.pk,
        "category": "MEDICAL",
        "occurred_on": "2024-06-01",
        "amount": "99999",
        "reimbursed": "0",
    }
    assert client.post(expenditure_url, data).status_code == 403
    assert RigidExpenditure.objects.get(pk=expenditure.pk).amount == expenditure.amount


@pytest.mark.parametrize("role", ["township", "county", "admin"])
def test_admin_pages_mask_phones_and_id_numbers(client: Client, world: World, role: str) -> None:
    household = world.households[VILLAGE]
    member = household.members.get()
    client.force_login(world.users[role])
    pages = [
        client.get(reverse("admin:monitoring_household_changelist")),
        client.get(reverse("admin:monitoring_household_change", args=[household.pk])),
        client.get(reverse("admin:monitoring_member_changelist")),
        client.get(reverse("admin:monitoring_member_change", args=[member.pk])),
    ]
    for page in pages:
        assert page.status_code == 200
        html = page.content.decode()
        assert "13812345678" not in html
        assert member.id_number not in html
    assert "138****5678" in pages[1].content.decode()
    assert f"{member.id_number[:6]}********{member.id_number[-4:]}" in pages[3].content.decode()


@pytest.mark.parametrize(
    ("model", "lookup"),
    [
        ("household", "phone__startswith"),
        ("member", "id_number__startswith"),
        ("member", "household__phone__startswith"),
        ("rigidexpenditure", "member__id_number__startswith"),
    ],
)
def test_admin_list_cannot_be_filtered_by_hidden_digits(client: Client, world: World, model: str, lookup: str) -> None:
    """A filter in the query string would tell the hidden digits one at a time by the row count."""
    member = world.households[VILLAGE].members.get()
    value = member.id_number[:10] if "id_number" in lookup else "1381234"
    client.force_login(world.users["township"])
    response = client.get(reverse(f"admin:monitoring_{model}_changelist"), {lookup: value})
    assert response.status_code == 400


ID_IN_TEXT, PHONE_IN_TEXT = "520101199001011237", "13812345678"


def test_township_staff_see_free_text_masked_in_the_admin_and_cannot_search_its_digits(
    client: Client, world: World
) -> None:
    """An outside attack: a rejection reason with a phone and a 身份证号 in it was shown whole to
    township staff on the audit row's admin page (the lead page masked it), and the admin's search
    box matched part of the number — a way to learn digits the mask hides.  The same for a visit's
    notes and a household's address."""
    from fanpin.core.audit import audit_record
    from fanpin.core.models import AuditEntry
    from monitoring.models import Visit

    household = world.households[VILLAGE]
    typed = f"农户说联系{PHONE_IN_TEXT}，身份证{ID_IN_TEXT}"
    audit_record(
        actor=world.users["county"],
        object_type="lead",
        object_id=1,
        region_code=VILLAGE,
        action="reject",
        reason=typed,
        data={"note": typed},
    )
    entry = AuditEntry.objects.get(reason=typed)
    visit = Visit.objects.create(household=household, visited_on="2025-03-01", visitors=typed, notes=typed)
    Household.objects.filter(pk=household.pk).update(address=typed)
    pages = [
        reverse("admin:fanpin_auditentry_change", args=[entry.pk]),
        reverse("admin:fanpin_auditentry_changelist"),
        reverse("admin:monitoring_visit_change", args=[visit.pk]),
        reverse("admin:monitoring_visit_changelist"),
        reverse("admin:monitoring_household_change", args=[household.pk]),
    ]
    client.force_login(world.users["township"])
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        text = response.content.decode()
        assert ID_IN_TEXT not in text and PHONE_IN_TEXT not in text, page
    assert "520101********1237" in client.get(pages[0]).content.decode()  # shown, masked
    changelist = reverse("admin:fanpin_auditentry_changelist")
    for digits in (PHONE_IN_TEXT[:7], PHONE_IN_TEXT, ID_IN_TEXT[6:14]):
        assert f"/{entry.pk}/change/" not in client.get(changelist, {"q": digits}).content.decode(), digits
    # nor by a lookup in the address (a review found ``?reason__contains=`` answered like the search)
    for page, lookup in (
        (changelist, "reason__contains"),
        (changelist, "data__icontains"),
        (reverse("admin:monitoring_visit_changelist"), "notes__contains"),
    ):
        refused = Client(raise_request_exception=False)
        refused.force_login(world.users["township"])
        response = refused.get(page, {lookup: PHONE_IN_TEXT[:7]})
        assert response.status_code == 400 and f"/{entry.pk}/change/" not in response.content.decode(), lookup
    # county staff may see full numbers: the admin shows them the text as typed, and searches it
    client.force_login(world.users["county"])
    assert ID_IN_TEXT in client.get(pages[0]).content.decode()
    assert f"/{entry.pk}/change/" in client.get(changelist, {"q": PHONE_IN_TEXT[:7]}).content.decode()
    assert f"/{entry.pk}/change/" in client.get(changelist, {"reason__contains": PHONE_IN_TEXT[:7]}).content.decode()


@pytest.mark.parametrize("lookup", ["data__note__contains", "data__contains"])
def test_a_json_containment_lookup_answers_on_every_database(world: World, lookup: str) -> None:
    """``?data__note__contains=`` in the audit list's address: results on PostgreSQL, a 400 where
    the database has no JSON containment (SQLite answered 500 while rendering the list)."""
    client = Client(raise_request_exception=False)
    client.force_login(world.users["county"])
    response = client.get(reverse("admin:fanpin_auditentry_changelist"), {lookup: "x"})
    assert response.status_code == (200 if connection.features.supports_json_field_contains else 400)
    # containment the other way round is never sent by a filter: refused on every database
    assert client.get(reverse("admin:fanpin_auditentry_changelist"), {"data__contained_by": "x"}).status_code == 400


@pytest.mark.parametrize(
    "query",
    [
        {"id__contained_by": "1"},
        {"id__range": "1"},
        {"household_no__range": "1,2"},
        {"household_no__regex": "("},
        {"household_no__iregex": "("},
        {"created_at__year": "1"},
        {"created_at__month": "13"},
    ],
)
@pytest.mark.parametrize("role", ["county", "township"])
def test_odd_lookups_in_the_address_are_refused_not_a_500(world: World, role: str, query: dict[str, str]) -> None:
    """An attack on the county's admin found 234 answers 500: lookups the list's filters never send."""
    client = Client(raise_request_exception=False)
    client.force_login(world.users[role])
    response = client.get(reverse("admin:monitoring_household_changelist"), query)
    assert response.status_code == 400, query


@pytest.mark.parametrize(
    ("page", "query"),
    [
        ("admin:assistance_measure_changelist", {"kind__range": "1,2"}),
        ("admin:assistance_measure_changelist", {"category__regex": "("}),
        ("admin:assistance_measure_changelist", {"is_active__regex": "("}),
        ("admin:monitoring_comparisonsource_changelist", {"active__regex": "("}),
        ("admin:monitoring_monitoringline_changelist", {"year__regex": "("}),
    ],
)
def test_odd_lookups_on_the_catalogue_lists_are_refused_too(world: World, page: str, query: dict[str, str]) -> None:
    """A second attack found the same 500s on the admin lists outside the region scoping."""
    client = Client(raise_request_exception=False)
    client.force_login(world.users["county"])
    assert client.get(reverse(page), query).status_code == 400, (page, query)
    assert client.get(reverse(page)).status_code == 200


def test_the_date_hierarchy_and_filters_still_work(world: World) -> None:
    client = world.client_for("county")
    page = reverse("admin:fanpin_auditentry_changelist")
    assert client.get(page, {"at__year": "2026", "at__month": "12"}).status_code == 200
    assert client.get(reverse("admin:monitoring_household_changelist"), {"created_at__year": "2025"}).status_code == 200


def test_a_refused_lookup_answers_a_chinese_page(world: World) -> None:
    """With DEBUG off, a 400 was Django's bare "Bad Request (400)"."""
    client = Client(raise_request_exception=False)
    client.force_login(world.users["county"])
    response = client.get(reverse("admin:monitoring_household_changelist"), {"household_no__regex": "("})
    assert response.status_code == 400 and "请求无效" in response.content.decode()
