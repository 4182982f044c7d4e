"""A realistic synthetic county registry for demos, tests and benchmarks (``generate_demo``).

Deterministic for a seed; written with batched bulk inserts so 100 000 households are practical and
memory stays flat (one batch of households, members and incomes is held at a time).

The demo province is 云南省 (53) with a synthetic city ``5399`` (no real city has that code), two
counties (青山县 flagged 深度贫困地区, 绿水县), their townships and villages.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction

from fanpin.core.db import tables_analyze
from fanpin.core.idcard import id_check_digit
from fanpin.core.models import User
from fanpin.core.regions import region_level_of
from fanpin.core.roles import Department, Role
from fanpin.core.services import user_create
from fanpin.core.terms import term
from monitoring.models import (
    AnnualIncome,
    ChangeKind,
    DisabilityGrade,
    Employment,
    ExpenditureCategory,
    Health,
    Household,
    HouseholdType,
    Labor,
    Member,
    MemberStatus,
    MonitoringLine,
    Region,
    Relation,
    RigidExpenditure,
    Schooling,
)
from monitoring.services.calendar import calendar_sample_load
from monitoring.services.lines import monitoring_line_set
from monitoring.services.regions import region_upsert

DEMO_PASSWORD = "demo-2020"  # noqa: S105 - documented demo credentials
PROVINCE_CODE = "530000000000"
CITY_CODE = "539900000000"
COUNTIES = [("539901000000", "青山县", True), ("539902000000", "绿水县", False)]
DEMO_YEARS = (2024, 2025)
DEMO_LINE = Decimal("8700.00")  # 云南 2024 and 2025 (SPEC §2)
BATCH = 2000

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "国华建明永军秀英兰芳玉红海平德志文富贵成学忠林春金荣福兴云珍凤桂花梅丽琴伟强刚勇杰涛斌磊超鹏浩宇轩子涵雨欣佳怡思琪晨阳"
TOWNSHIP_NAMES = [
    "东岗",
    "西河",
    "南坪",
    "北山",
    "中和",
    "新街",
    "大坝",
    "小河",
    "石门",
    "龙泉",
    "凤鸣",
    "白沙",
    "清水",
    "黄土",
    "松林",
    "柏树",
    "马场",
    "牛街",
    "羊坪",
    "鹤庆",
]
VILLAGE_NAMES = [
    "上营",
    "下营",
    "前寨",
    "后寨",
    "大箐",
    "小箐",
    "河边",
    "山脚",
    "坪子",
    "岩头",
    "沙坝",
    "竹林",
    "杨柳",
    "桃园",
    "李家",
    "张家",
    "新华",
    "老寨",
    "团结",
    "和平",
]
ROLE_USERS = ["admin", "province", "city", "county", "township", "village", "dept"]


@dataclass
class DemoSummary:
    regions: int = 0
    households: int = 0
    members: int = 0
    incomes: int = 0
    expenditures: int = 0
    users: list[str] = field(default_factory=list)
    skipped: bool = False


def demo_exists() -> bool:
    return Household.objects.filter(village__code__startswith=CITY_CODE[:4]).exists()


def _region_plan(households: int) -> list[tuple[str, str, bool]]:
    """Counties → townships → villages sized for about 200 households a village."""
    villages_total = max(8, math.ceil(households / 200))
    per_county = math.ceil(villages_total / len(COUNTIES))
    rows: list[tuple[str, str, bool]] = [(PROVINCE_CODE, "云南省", False), (CITY_CODE, "示范市", False)]
    for county_code, county_name, deep in COUNTIES:
        rows.append((county_code, county_name, deep))
        townships = max(2, math.ceil(per_county / 10))
        per_township = math.ceil(per_county / townships)
        for t in range(1, townships + 1):
            t_code = f"{county_code[:6]}{t:03d}000"
            t_name = TOWNSHIP_NAMES[(t - 1) % len(TOWNSHIP_NAMES)] + ("镇" if t % 3 else "乡")
            if t > len(TOWNSHIP_NAMES):
                t_name = f"{t_name}{t}"
            rows.append((t_code, t_name, False))
            for v in range(1, per_township + 1):
                v_name = VILLAGE_NAMES[(v - 1) % len(VILLAGE_NAMES)] + "村"
                if v > len(VILLAGE_NAMES):
                    v_name = f"{v_name}{v}"
                rows.append((f"{t_code[:9]}{v:03d}", v_name, False))
    return rows


class _Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.used_ids: set[str] = set()
        self.today = dt.date(DEMO_YEARS[-1], 12, 31)

    # -- people ---------------------------------------------------------------------------------
    def name(self, surname: str | None = None) -> str:
        r = self.rng
        surname = surname or r.choice(SURNAMES)
        return surname + "".join(r.choice(GIVEN) for _ in range(r.choice((1, 2, 2))))

    def id_number(self, county: str, birth: dt.date, male: bool) -> str:
        r = self.rng
        while True:
            seq = r.randrange(0, 500) * 2 + (1 if male else 0)
            first17 = f"{county[:6]}{birth:%Y%m%d}{seq:03d}"
            value = first17 + id_check_digit(first17)
            if value not in self.used_ids:
                self.used_ids.add(value)
                return value

    def birth(self, age: int) -> dt.date:
        year = self.today.year - age
        return dt.date(year, 1, 1) + dt.timedelta(days=self.rng.randrange(0, 365))

    def member_attrs(self, age: int) -> dict[str, object]:
        r = self.rng
        roll = r.random()
        if roll < 0.03:
            health = Health.SERIOUS
        elif roll < 0.11 + (0.15 if age > 60 else 0):
            health = Health.CHRONIC
        elif roll < 0.15 + (0.15 if age > 60 else 0):
            health = Health.DISABLED
        else:
            health = Health.HEALTHY
        disability = r.choice(DisabilityGrade.values[1:]) if health == Health.DISABLED else ""
        schooling = ""
        if age < 6:
            schooling = Schooling.PRESCHOOL if age >= 3 else ""
        elif age < 12:
            schooling = Schooling.PRIMARY
        elif age < 15:
            schooling = Schooling.JUNIOR if r.random() > 0.01 else Schooling.DROPOUT
        elif age < 18:
            schooling = r.choice([Schooling.SENIOR, Schooling.SENIOR, Schooling.VOCATIONAL])
        elif age < 22 and r.random() < 0.4:
            schooling = r.choice([Schooling.HIGHER_VOCATIONAL, Schooling.UNIVERSITY])
        if age < 16 or schooling:
            labor = Labor.NONE
        elif age <= 60:
            labor = Labor.SKILLED if r.random() < 0.12 else Labor.NORMAL
            if health in (Health.SERIOUS, Health.DISABLED):
                labor = r.choice([Labor.WEAK, Labor.LOST])
        elif age <= 70:
            labor = Labor.WEAK if health == Health.HEALTHY else r.choice([Labor.WEAK, Labor.LOST])
        else:
            labor = r.choice([Labor.LOST, Labor.NONE])
        employment = ""
        if labor in (Labor.NORMAL, Labor.SKILLED, Labor.WEAK) and not schooling:
            employment = r.choices(
                [
                    Employment.IN_COUNTY,
                    Employment.IN_PROVINCE,
                    Employment.OUT_OF_PROVINCE,
                    Employment.PUBLIC_POST,
                    Employment.NOT_WORKING,
                ],
                weights=[30, 20, 25, 5, 20],
            )[0]
        return {
            "health": health,
            "disability_grade": disability,
            "labor": labor,
            "schooling": schooling,
            "employment": employment,
            "has_medical_insurance": r.random() < 0.98,
        }

    def family(self, county: str) -> list[dict[str, object]]:
        """Members of one household with ages consistent with their relation."""
        r = self.rng
        size = r.choices([1, 2, 3, 4, 5, 6], weights=[8, 18, 24, 26, 16, 8])[0]
        surname = r.choice(SURNAMES)
        head_age = r.randint(28, 78) if size > 1 else r.randint(45, 85)
        head_male = r.random() < 0.85
        people: list[tuple[str, int, bool, str | None]] = [(Relation.HEAD, head_age, head_male, surname)]
        if size >= 2:
            people.append((Relation.SPOUSE, max(22, head_age + r.randint(-5, 3)), not head_male, None))
        child_count = 0
        while len(people) < size:
            slot = len(people)
            if slot >= 4 and head_age < 60 and r.random() < 0.5:
                parent_age = head_age + r.randint(22, 30)
                if parent_age <= 95:
                    rel = Relation.FATHER if r.random() < 0.5 else Relation.MOTHER
                    people.append(
                        (rel, parent_age, rel == Relation.FATHER, surname if rel == Relation.FATHER else None)
                    )
                    continue
            child_age = head_age - r.randint(22, 34) - child_count * r.randint(1, 4)
            if child_age >= 0:
                male = r.random() < 0.52
                people.append((Relation.SON if male else Relation.DAUGHTER, child_age, male, surname))
                child_count += 1
                continue
            grandchild_age = max(0, head_age - r.randint(48, 60))
            male = r.random() < 0.52
            people.append((Relation.GRANDSON if male else Relation.GRANDDAUGHTER, grandchild_age, male, surname))
        members = []
        for relation, age, male, member_surname in people:
            members.append(
                {
                    "name": self.name(member_surname),
                    "id_number": self.id_number(county, self.birth(age), male),
                    "relation": relation,
                    **self.member_attrs(age),
                }
            )
        return members

    # -- money ----------------------------------------------------------------------------------
    def money(self, value: float) -> Decimal:
        return Decimal(str(round(value, 2)))

    def incomes(self, size: int, kind: str) -> list[dict[str, object]]:
        """Two years of incomes: most comfortably above the line, some near it, some below it,
        and some with a sharp drop in the latest year."""
        r = self.rng
        roll = r.random()
        if roll < 0.07:
            per_capita_prev = r.uniform(6500, 9500)
        elif roll < 0.20:
            per_capita_prev = r.uniform(8700, 13000)
        else:
            per_capita_prev = r.lognormvariate(math.log(16000), 0.35)
        if kind == HouseholdType.EXITED:
            per_capita_prev *= 0.9
        change = r.uniform(0.95, 1.12)
        if r.random() < 0.05:
            change = r.uniform(0.45, 0.72)  # income collapsed
        rows = []
        for year, per_capita in ((DEMO_YEARS[0], per_capita_prev), (DEMO_YEARS[1], per_capita_prev * change)):
            total = per_capita * size
            business = total * r.uniform(0.1, 0.3)
            if r.random() < 0.03:
                business = -r.uniform(500, 3000)  # a failed harvest
            property_ = total * r.uniform(0, 0.03)
            transfer = total * r.uniform(0.08, 0.25)
            wage = max(total - business - property_ - transfer, 0)
            rows.append(
                {
                    "year": year,
                    "family_size": size,
                    "wage_income": self.money(wage),
                    "business_income": self.money(business),
                    "property_income": self.money(property_),
                    "transfer_income": self.money(transfer),
                }
            )
        return rows

    def expenditures(self, members: list[Member]) -> list[RigidExpenditure]:
        r = self.rng
        if r.random() >= 0.10:
            return []
        result = []
        for _ in range(r.choice((1, 1, 2))):
            member = r.choice(members)
            category = r.choices(
                [
                    ExpenditureCategory.MEDICAL,
                    ExpenditureCategory.DISASTER,
                    ExpenditureCategory.ACCIDENT,
                    ExpenditureCategory.EDUCATION,
                    ExpenditureCategory.DISABILITY,
                ],
                weights=[60, 12, 10, 10, 8],
            )[0]
            amount = self.money(r.lognormvariate(math.log(15000), 0.8))
            reimbursed = (
                self.money(float(amount) * r.uniform(0, 0.7))
                if category == ExpenditureCategory.MEDICAL
                else Decimal("0")
            )
            year = r.choice(DEMO_YEARS)
            result.append(
                RigidExpenditure(
                    household_id=member.household_id,
                    member=member,
                    category=category,
                    occurred_on=dt.date(year, 1, 1) + dt.timedelta(days=r.randrange(0, 365)),
                    amount=amount,
                    reimbursed=reimbursed,
                    note="演示数据",
                )
            )
        return result


def _batches(villages: list[str], households: int) -> Iterator[list[tuple[str, int]]]:
    """(village code, sequence in village) for every household, in batches."""
    batch: list[tuple[str, int]] = []
    for i in range(households):
        village = villages[i % len(villages)]
        batch.append((village, i // len(villages) + 1))
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


@transaction.atomic
def demo_generate(*, households: int = 2000, seed: int = 2020, with_users: bool = True) -> DemoSummary:
    """Create the demo regions, ``households`` households with members, two years of incomes and
    some rigid expenditures, the demo monitoring lines and one user per role."""
    summary = DemoSummary()
    if demo_exists():
        summary.skipped = True
        summary.users = ROLE_USERS if with_users and User.objects.filter(username="county").exists() else []
        return summary
    gen = _Generator(seed)

    plan = _region_plan(households)
    for code, name, deep in plan:
        region_upsert(code=code, name=name, is_deep_poverty=deep)
    summary.regions = len(plan)
    villages = [code for code, _, _ in plan if region_level_of(code) == Region.Level.VILLAGE]

    for year in DEMO_YEARS:
        if not MonitoringLine.objects.filter(year=year, province_id=PROVINCE_CODE).exists():
            monitoring_line_set(
                year=year,
                line=DEMO_LINE,
                province_code=PROVINCE_CODE,
                source=f"云南省 {year} 年{term('monitoring')}标准（演示）",
            )

    for batch in _batches(villages, households):
        hh_objs: list[Household] = []
        families: list[list[dict[str, object]]] = []
        for village, seq in batch:
            roll = gen.rng.random()
            kind = HouseholdType.EXITED if roll < 0.32 else HouseholdType.EDGE if roll < 0.40 else HouseholdType.GENERAL
            hh_objs.append(
                Household(
                    household_no=f"{village}{seq:05d}",
                    village_id=village,
                    household_type=kind,
                    exit_year=gen.rng.randint(2014, 2020) if kind == HouseholdType.EXITED else None,
                    phone=f"1{gen.rng.choice('3578')}{gen.rng.randrange(10**8, 10**9)}",
                    address=f"{seq}号",
                )
            )
            families.append(gen.family(village))
        Household.objects.bulk_create(hh_objs, batch_size=BATCH)
        member_objs: list[Member] = []
        income_objs: list[AnnualIncome] = []
        for hh, family in zip(hh_objs, families, strict=True):
            for person in family:
                member_objs.append(Member(household_id=hh.pk, **person))  # type: ignore[arg-type]
            for row in gen.incomes(len(family), hh.household_type):
                income_objs.append(AnnualIncome(household_id=hh.pk, **row))  # type: ignore[arg-type]
        Member.objects.bulk_create(member_objs, batch_size=BATCH)
        AnnualIncome.objects.bulk_create(income_objs, batch_size=BATCH)
        by_household: dict[int, list[Member]] = {}
        for m in member_objs:
            by_household.setdefault(m.household_id, []).append(m)
        exp_objs = [e for members in by_household.values() for e in gen.expenditures(members)]
        RigidExpenditure.objects.bulk_create(exp_objs, batch_size=BATCH, ignore_conflicts=True)
        summary.households += len(hh_objs)
        summary.members += len(member_objs)
        summary.incomes += len(income_objs)
        summary.expenditures += len(exp_objs)
    # Statistics before anyone reads the new rows (screening next, in ``make demo``): without them
    # the planner takes the freshly filled tables for empty.
    _demo_household_changes(gen, villages)
    _demo_roster()
    calendar_sample_load()  # 办理时限: the sample 2026/2027 holidays, marked as sample data
    tables_analyze(models=[Region, Household, Member, AnnualIncome, RigidExpenditure])

    if with_users:
        summary.users = _demo_users(villages)
    return summary


def _demo_roster() -> None:
    """A small 民政 roster of the first county (both populations on the pages)."""
    from monitoring.services.demo_rosters import demo_roster_write

    demo_roster_write(county=COUNTIES[0][0], line=DEMO_LINE)


def _demo_household_changes(gen: _Generator, villages: list[str]) -> None:
    """For the 农户变更审核 page: in the first village a member's move to another household
    and a household's 户类型 change wait for the county, as a member import proposes them, and two
    deaths (an adult, and a 户主, each in a household of several people) which ``demo_workflow`` has the
    county accept (departed members on the household pages); and one person of the county appears
    twice (same name and birth date, another 身份证号)."""
    from monitoring.services.household_changes import ChangeProposal, household_changes_propose

    homes = list(Household.objects.filter(village_id=villages[0]).order_by("household_no")[:3])
    if len(homes) < 3:
        return
    first, second, third = homes
    # the deaths: in households of several members (the household goes on without them)
    several = [
        h
        for h in Household.objects.filter(village_id=villages[0])
        .exclude(pk__in=[h.pk for h in homes])
        .order_by("household_no")[:20]
        .prefetch_related("members")
        if len(h.members.all()) >= 2
    ][:2]
    adults = [
        m
        for m in Member.objects.current().filter(household__village_id=villages[0]).exclude(relation=Relation.HEAD)
        if m.schooling not in (Schooling.PRIMARY, Schooling.JUNIOR, Schooling.PRESCHOOL)
    ]
    mover = next((m for m in adults if m.household_id == second.pk), None)
    proposals = []
    if mover is not None:
        proposals.append(
            ChangeProposal(
                kind=ChangeKind.MOVE,
                household_id=second.pk,
                region_code=second.village_id,
                member_id=mover.pk,
                target_household_id=first.pk,
                before={
                    "household_id": second.pk,
                    "household_no": second.household_no,
                    "relation": mover.relation,
                    "name": mover.name,
                },
                after={"household_id": first.pk, "household_no": first.household_no, "relation": Relation.OTHER},
            )
        )
    new_type = HouseholdType.EDGE if third.household_type != HouseholdType.EDGE else HouseholdType.GENERAL
    proposals.append(
        ChangeProposal(
            kind=ChangeKind.TYPE,
            household_id=third.pk,
            region_code=third.village_id,
            before={"household_type": third.household_type, "exit_year": third.exit_year},
            after={"household_type": new_type, "exit_year": None},
        )
    )
    fourth, fifth = several if len(several) == 2 else (None, None)
    dying = [m for m in adults if fourth and m.household_id == fourth.pk][:1]
    dying += list(Member.objects.current().filter(household=fifth, relation=Relation.HEAD)) if fifth else []
    for member in dying:
        household = next(h for h in several if h.pk == member.household_id)
        proposals.append(
            ChangeProposal(
                kind=ChangeKind.REMOVAL,
                household_id=household.pk,
                region_code=household.village_id,
                member_id=member.pk,
                before={
                    "household_id": household.pk,
                    "household_no": household.household_no,
                    "relation": member.relation,
                    "name": member.name,
                    "id_number": member.id_number,
                },
                after={"status": MemberStatus.DECEASED},
            )
        )
    household_changes_propose(proposals=proposals, actor=None)
    # a likely duplicate: another adult of the county takes the name and birth date of the first one
    original = next((m for m in adults if m.household_id == first.pk), None)
    twin = next((m for m in adults if m.household_id not in (first.pk, second.pk)), None)
    if original is not None and twin is not None:
        birth = dt.date(int(original.id_number[6:10]), int(original.id_number[10:12]), int(original.id_number[12:14]))
        twin.name = original.name
        twin.id_number = gen.id_number(villages[0], birth, int(original.id_number[16]) % 2 == 1)
        twin.save(update_fields=["name", "id_number"])


def _demo_users(villages: list[str]) -> list[str]:
    first_village = villages[0]
    regions = {
        "province": PROVINCE_CODE,
        "city": CITY_CODE,
        "county": COUNTIES[0][0],
        "township": first_village[:9] + "000",
        "village": first_village,
        "dept": COUNTIES[0][0],
    }
    roles = {
        "province": Role.PROVINCE,
        "city": Role.CITY,
        "county": Role.COUNTY,
        "township": Role.TOWNSHIP,
        "village": Role.VILLAGE,
        "dept": Role.DEPT,
    }
    names = {
        "admin": "系统管理员",
        "province": "省级用户",
        "city": "市级用户",
        "county": "县级用户",
        "township": "乡镇用户",
        "village": "村干部",
        "dept": "医保局用户",
    }
    created = []
    for username in ROLE_USERS:
        if User.objects.filter(username=username).exists():
            created.append(username)
            continue
        if username == "admin":
            user = User.objects.create_superuser(username, "", DEMO_PASSWORD)
            user.full_name = names[username]
            user.save(update_fields=["full_name"])
        else:
            user_create(
                username=username,
                password=DEMO_PASSWORD,
                role=roles[username],
                region=Region.objects.get(code=regions[username]),
                full_name=names[username],
                department=Department.MEDICAL_INSURANCE if username == "dept" else "",
            )
        created.append(username)
    return created
