"""The household registry: households, members, annual incomes, rigid expenditures (SPEC §2)."""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal
from typing import Any

from django.db import models
from django.db.models import Case, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Cast, Round

from fanpin.core.scoping import ScopedQuerySet

MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2}
ZERO = Decimal("0")


CENT = Decimal("0.01")
# what a printed list (公示, 公告) says where a household has no current 户主 (the head died or was
# removed and no import has named another yet)
NO_HEAD = "（无在册户主）"


def yuan(fen: int) -> Decimal:
    """An integer amount of fen (how the rules compute, exactly) as yuan."""
    return (Decimal(fen) / 100).quantize(CENT)


def per_capita_floor(total: Decimal, size: int) -> Decimal:
    """A per-capita figure for display, rounded down to the fen: never shown at the line when it is
    below it (the rules themselves compare exactly: ``total < line × size``)."""
    return (total / size).quantize(CENT, rounding=ROUND_FLOOR)


class HouseholdType(models.TextChoices):
    EXITED = "EXITED", "脱贫户"
    EDGE = "EDGE", "边缘户"
    GENERAL = "GENERAL", "一般农户"


class HouseholdQuerySet(ScopedQuerySet["Household"]):
    region_path = "village__code"


class Household(models.Model):
    Type = HouseholdType

    household_no = models.CharField("户编号", max_length=32, unique=True)
    village = models.ForeignKey(
        "monitoring.Region",
        verbose_name="村",
        on_delete=models.PROTECT,
        related_name="households",
        limit_choices_to={"level": "VILLAGE"},
    )
    household_type = models.CharField("户类型", max_length=8, choices=HouseholdType.choices)
    exit_year = models.PositiveSmallIntegerField("脱贫年度", null=True, blank=True)
    phone = models.CharField("联系电话", max_length=32, blank=True)
    address = models.CharField("住址", max_length=200, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = HouseholdQuerySet.as_manager()

    class Meta:
        verbose_name = "农户"
        verbose_name_plural = "农户"
        # Village first: a region's households are one range of this index (see ScopedQuerySet.within),
        # already in list order, so a scoped page is a range scan whatever the region.
        ordering = ["village_id", "household_no"]
        indexes = [
            models.Index(fields=["village", "household_type"], name="household_village_type"),
            models.Index(fields=["village", "household_no"], name="household_village_no"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(household_type__in=HouseholdType.values), name="household_type_valid"),
            # 脱贫户 carry their 脱贫年度; other households have none.
            models.CheckConstraint(
                condition=Q(
                    household_type=HouseholdType.EXITED,
                    exit_year__isnull=False,
                    exit_year__gte=2013,
                    exit_year__lte=2030,
                )
                | ~Q(household_type=HouseholdType.EXITED) & Q(exit_year__isnull=True),
                name="household_exit_year_iff_exited",
            ),
        ]

    def __str__(self) -> str:
        return self.household_no


class MemberStatus(models.TextChoices):
    """A member's standing in the registry, also the 成员状态 column of a member import: a death or
    removal is proposed there and written only when the county accepts it (``HouseholdChange``)."""

    ACTIVE = "ACTIVE", "正常"
    DECEASED = "DECEASED", "死亡"
    REMOVED = "REMOVED", "注销"


# The household's current members (what household size, 户主, labour and health, searches and
# matching mean); a member whose death or removal the county accepted keeps their row and
# expenditures but is none of these (decision record 2026-12-04-member-departure.md).  For joins
# from another model: ``Q(members__status=MemberStatus.ACTIVE)`` / ``member__status``.
MEMBER_CURRENT = Q(status=MemberStatus.ACTIVE)


class MemberQuerySet(ScopedQuerySet["Member"]):
    region_path = "household__village__code"

    def current(self) -> MemberQuerySet:
        """The members still in the registry (在册, not 死亡/注销)."""
        return self.filter(MEMBER_CURRENT)  # type: ignore[return-value]

    def departed(self) -> MemberQuerySet:
        """The members whose death or removal the county accepted."""
        return self.exclude(MEMBER_CURRENT)  # type: ignore[return-value]

    def head_name_of(self, household: str) -> Subquery:
        """The name of the current 户主 of the household ``OuterRef(household)`` (a path to its id), as
        a subquery for ``annotate``: at most one row (``member_one_current_head_per_household``)."""
        head = self.current().filter(household=OuterRef(household), relation="HEAD")
        return Subquery(head.order_by().values("name")[:1])


class Relation(models.TextChoices):
    HEAD = "HEAD", "户主"
    SPOUSE = "SPOUSE", "配偶"
    SON = "SON", "之子"
    DAUGHTER = "DAUGHTER", "之女"
    DAUGHTER_IN_LAW = "DAUGHTER_IN_LAW", "之儿媳"
    SON_IN_LAW = "SON_IN_LAW", "之女婿"
    GRANDSON = "GRANDSON", "之孙子"
    GRANDDAUGHTER = "GRANDDAUGHTER", "之孙女"
    FATHER = "FATHER", "之父"
    MOTHER = "MOTHER", "之母"
    SIBLING = "SIBLING", "之兄弟姐妹"
    OTHER = "OTHER", "其他"


class Health(models.TextChoices):
    HEALTHY = "HEALTHY", "健康"
    CHRONIC = "CHRONIC", "长期慢性病"
    SERIOUS = "SERIOUS", "患有大病"
    DISABLED = "DISABLED", "残疾"


class DisabilityGrade(models.TextChoices):
    NONE = "", "无"
    G1 = "G1", "一级"
    G2 = "G2", "二级"
    G3 = "G3", "三级"
    G4 = "G4", "四级"


class Labor(models.TextChoices):
    NORMAL = "NORMAL", "普通劳动力"
    SKILLED = "SKILLED", "技能劳动力"
    WEAK = "WEAK", "弱劳动力或半劳动力"
    LOST = "LOST", "丧失劳动力"
    NONE = "NONE", "无劳动力"


class Schooling(models.TextChoices):
    NONE = "", "无"
    PRESCHOOL = "PRESCHOOL", "学龄前"
    PRIMARY = "PRIMARY", "小学"
    JUNIOR = "JUNIOR", "初中"
    SENIOR = "SENIOR", "高中"
    VOCATIONAL = "VOCATIONAL", "中职"
    HIGHER_VOCATIONAL = "HIGHER_VOCATIONAL", "高职高专"
    UNIVERSITY = "UNIVERSITY", "本科及以上"
    DROPOUT = "DROPOUT", "辍学"


class Employment(models.TextChoices):
    NONE = "", "无"
    IN_COUNTY = "IN_COUNTY", "县内务工"
    IN_PROVINCE = "IN_PROVINCE", "省内县外务工"
    OUT_OF_PROVINCE = "OUT_OF_PROVINCE", "省外务工"
    PUBLIC_POST = "PUBLIC_POST", "公益岗位"
    NOT_WORKING = "NOT_WORKING", "未务工"


class Member(models.Model):
    Relation = Relation
    Health = Health
    DisabilityGrade = DisabilityGrade
    Labor = Labor
    Schooling = Schooling
    Employment = Employment

    household = models.ForeignKey(Household, verbose_name="农户", on_delete=models.CASCADE, related_name="members")
    name = models.CharField("姓名", max_length=64)
    id_number = models.CharField("身份证号", max_length=18, unique=True)
    relation = models.CharField("与户主关系", max_length=16, choices=Relation.choices)
    health = models.CharField("健康状况", max_length=8, choices=Health.choices)
    disability_grade = models.CharField(
        "残疾等级", max_length=2, choices=DisabilityGrade.choices, blank=True, default=""
    )
    labor = models.CharField("劳动能力", max_length=8, choices=Labor.choices)
    schooling = models.CharField("在校情况", max_length=20, choices=Schooling.choices, blank=True, default="")
    employment = models.CharField("务工情况", max_length=16, choices=Employment.choices, blank=True, default="")
    has_medical_insurance = models.BooleanField("是否参加医保", default=True)
    # 死亡 / 注销 once the county accepted the change (the row, its expenditures and its 身份证号
    # stay; it is no current member any more); db_default: raw inserts (benchmarks) stay 在册
    status = models.CharField(
        "成员状态", max_length=8, choices=MemberStatus.choices, default=MemberStatus.ACTIVE, db_default="ACTIVE"
    )
    departed_on = models.DateField("死亡或注销登记日期", null=True, blank=True)
    # DO_NOTHING: a departure's change goes only with its household, and so with this member (the
    # database's deferred foreign key refuses deleting the change alone); it also keeps changes
    # fast-deleted with their household before the members' SET NULL of ``HouseholdChange.member``
    # (a pending change without its member is refused by household_change_pending_member_change_has_member)
    departure_change = models.ForeignKey(
        "monitoring.HouseholdChange",
        verbose_name="死亡或注销变更",
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = MemberQuerySet.as_manager()

    class Meta:
        verbose_name = "家庭成员"
        verbose_name_plural = "家庭成员"
        ordering = ["household_id", "id"]
        indexes = [
            models.Index(fields=["name"], name="member_name"),
            # name prefix search (户主姓名 on the household list): LIKE 'x%' needs pattern ops on PostgreSQL
            models.Index(fields=["name"], name="member_name_prefix", opclasses=["varchar_pattern_ops"]),
            # PostgreSQL also has member_id_number_tail on reverse(id_number) text_pattern_ops (migration
            # 0011, raw SQL): the search by the last digits of a 身份证号 is a prefix of the reversed number.
        ]
        constraints = [
            # one current 户主 (a deceased or removed one keeps their 与户主关系 as recorded)
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(relation="HEAD", status="ACTIVE"),
                name="member_one_current_head_per_household",
            ),
            models.CheckConstraint(condition=Q(status__in=MemberStatus.values), name="member_status_valid"),
            # 在册 ⇔ no departure date; a departure names its date
            models.CheckConstraint(
                condition=Q(status="ACTIVE", departed_on__isnull=True, departure_change__isnull=True)
                | ~Q(status="ACTIVE") & Q(departed_on__isnull=False),
                name="member_departed_iff_dated",
            ),
            models.CheckConstraint(condition=Q(id_number__regex=r"^[0-9]{17}[0-9X]$"), name="member_id_number_format"),
            models.CheckConstraint(condition=Q(relation__in=Relation.values), name="member_relation_valid"),
            models.CheckConstraint(condition=Q(health__in=Health.values), name="member_health_valid"),
            models.CheckConstraint(
                condition=Q(disability_grade__in=DisabilityGrade.values), name="member_disability_grade_valid"
            ),
            models.CheckConstraint(condition=Q(labor__in=Labor.values), name="member_labor_valid"),
            models.CheckConstraint(condition=Q(schooling__in=Schooling.values), name="member_schooling_valid"),
            models.CheckConstraint(condition=Q(employment__in=Employment.values), name="member_employment_valid"),
        ]

    def __str__(self) -> str:
        return self.name


class AnnualIncomeQuerySet(ScopedQuerySet["AnnualIncome"]):
    region_path = "household__village__code"


class AnnualIncome(models.Model):
    """年度收入: the four components and the family size; total and per-capita are derived."""

    household = models.ForeignKey(Household, verbose_name="农户", on_delete=models.CASCADE, related_name="incomes")
    year = models.PositiveSmallIntegerField("年度")
    family_size = models.PositiveSmallIntegerField("家庭人口数")
    wage_income = models.DecimalField("工资性收入", **MONEY)
    business_income = models.DecimalField("生产经营净收入", **MONEY)
    property_income = models.DecimalField("财产净收入", **MONEY)
    transfer_income = models.DecimalField("转移净收入", **MONEY)
    # The total in fen, kept by the database: screening compares integers (exact, and several times
    # cheaper than adding four decimals wherever a rule names the total, for every household).
    total_fen = models.GeneratedField(
        expression=Cast(
            Round((F("wage_income") + F("business_income") + F("property_income") + F("transfer_income")) * 100),
            models.BigIntegerField(),
        ),
        output_field=models.BigIntegerField(),
        db_persist=True,
        verbose_name="家庭纯收入（分）",
    )

    objects = AnnualIncomeQuerySet.as_manager()

    class Meta:
        verbose_name = "年度收入"
        verbose_name_plural = "年度收入"
        ordering = ["household_id", "year"]
        constraints = [
            models.UniqueConstraint(fields=["household", "year"], name="income_one_per_household_year"),
            models.CheckConstraint(condition=Q(year__gte=2000, year__lte=2100), name="income_year_range"),
            models.CheckConstraint(condition=Q(family_size__gte=1), name="income_family_size_positive"),
            models.CheckConstraint(condition=Q(wage_income__gte=0), name="income_wage_non_negative"),
            models.CheckConstraint(condition=Q(transfer_income__gte=0), name="income_transfer_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.year}"

    @property
    def total(self) -> Decimal:
        return self.wage_income + self.business_income + self.property_income + self.transfer_income

    @property
    def per_capita(self) -> Decimal:
        return per_capita_floor(self.total, self.family_size)

    def per_capita_below(self, line: Decimal) -> bool:
        """Per-capita income under ``line``, exactly (as the screening compares it)."""
        return self.total < line * self.family_size


class ExpenditureCategory(models.TextChoices):
    MEDICAL = "MEDICAL", "医疗"
    DISABILITY = "DISABILITY", "残疾康复"
    DISASTER = "DISASTER", "灾害"
    EPIDEMIC = "EPIDEMIC", "疫情"
    ACCIDENT = "ACCIDENT", "意外事故"
    EDUCATION = "EDUCATION", "教育"


class RigidExpenditureQuerySet(ScopedQuerySet["RigidExpenditure"]):
    region_path = "household__village__code"


class RigidExpenditure(models.Model):
    """刚性支出, one ledger (SPEC §2): an expense is household + category + date + amount, whatever
    key (户编号 or 身份证号) or source brought it; the member and the sources are recorded on it.
    out-of-pocket = max(amount − reimbursed, 0).  For 医疗 in a year, screening counts per member the
    larger of the 医保 extract rows (``source_extract``) and that member's other rows, never both
    (``monitoring.selectors.screening_sql``)."""

    Category = ExpenditureCategory

    household = models.ForeignKey(Household, verbose_name="农户", on_delete=models.CASCADE, related_name="expenditures")
    member = models.ForeignKey(
        Member,
        verbose_name="家庭成员",
        on_delete=models.PROTECT,
        related_name="expenditures",
        null=True,
        blank=True,
    )
    category = models.CharField("支出类别", max_length=12, choices=ExpenditureCategory.choices)
    occurred_on = models.DateField("发生日期")
    amount = models.DecimalField("支出金额", **MONEY)
    reimbursed = models.DecimalField("报销金额", default=ZERO, **MONEY)
    # Out-of-pocket in fen, max(amount − reimbursed, 0), kept by the database for screening's sums.
    out_of_pocket_fen = models.GeneratedField(
        expression=Case(
            When(
                amount__gt=F("reimbursed"),
                then=Cast(Round(F("amount") * 100), models.BigIntegerField())
                - Cast(Round(F("reimbursed") * 100), models.BigIntegerField()),
            ),
            default=Value(0),
            output_field=models.BigIntegerField(),
        ),
        output_field=models.BigIntegerField(),
        db_persist=True,
        verbose_name="自付金额（分）",
    )
    note = models.CharField("说明", max_length=200, blank=True)
    # Who reported it (any number of them).  A row no longer reported by anyone is deleted.
    source_import = models.BooleanField("来源：登记导入", default=True)
    source_alert = models.BooleanField("来源：部门预警", default=False)
    source_extract = models.BooleanField("来源：医保结算", default=False)
    # The alert that is its only reporter (not imported, linked by no other alert) owns it: a
    # resent alert may correct or remove its own expenditure, never one others report too.  Set
    # from the alerts' links by ``monitoring.services.ledger.ledger_sources_refresh``.
    alert = models.ForeignKey(
        "monitoring.DepartmentAlert",
        verbose_name="所属预警",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_expenditures",
    )
    created_at = models.DateTimeField("录入时间", auto_now_add=True)

    objects = RigidExpenditureQuerySet.as_manager()

    class Meta:
        verbose_name = "刚性支出"
        verbose_name_plural = "刚性支出"
        ordering = ["household_id", "occurred_on"]
        indexes = [models.Index(fields=["household", "occurred_on"], name="expenditure_household_date")]
        constraints = [
            models.CheckConstraint(
                condition=Q(category__in=ExpenditureCategory.values), name="expenditure_category_valid"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="expenditure_amount_non_negative"),
            models.CheckConstraint(condition=Q(reimbursed__gte=0), name="expenditure_reimbursed_non_negative"),
            # The ledger's identity: one row per expense, whichever key or source reported it.
            models.UniqueConstraint(
                fields=["household", "category", "occurred_on", "amount"], name="expenditure_unique_key"
            ),
            models.CheckConstraint(
                condition=Q(source_import=True) | Q(source_alert=True) | Q(source_extract=True),
                name="expenditure_has_source",
            ),
            # An alert owns one expenditure at most (it links one), and never an imported one.
            models.UniqueConstraint(fields=["alert"], name="expenditure_unique_owner_alert"),
            models.CheckConstraint(
                condition=Q(alert__isnull=True) | Q(source_import=False), name="expenditure_owner_not_imported"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.get_category_display()} {self.occurred_on}"

    @property
    def sources_label(self) -> str:
        names = [
            label
            for flag, label in (
                (self.source_import, "登记导入"),
                (self.source_alert, "部门预警"),
                (self.source_extract, "医保结算"),
            )
            if flag
        ]
        return "、".join(names)

    @property
    def out_of_pocket(self) -> Decimal:
        return max(self.amount - self.reimbursed, ZERO)
