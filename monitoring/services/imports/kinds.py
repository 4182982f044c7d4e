"""What differs between kinds: database lookups, cross-row checks and the upsert.

Each handler gets batches of clean rows from the pipeline.  ``check_batch`` resolves references
(households, villages, members) with one query per batch and reports scope violations;
``write_batch`` loads the existing rows of the batch by key, and creates only new rows and
updates only changed ones (so a re-import changes nothing), returning one action per row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

from django.db.models import Exists, Min, OuterRef
from django.utils import timezone

from fanpin.core.idcard import id_number_mask
from fanpin.core.locks import named_locks_acquire
from fanpin.core.regions import RegionLevel, region_level_of, region_parent_code
from monitoring.models import (
    AlertOrigin,
    AlertStatus,
    AlertType,
    AnnualIncome,
    DepartmentAlert,
    ExpenditureCategory,
    Household,
    HouseholdType,
    ImportJobAlert,
    LeadSource,
    Member,
    Region,
    Relation,
    RigidExpenditure,
    RiskType,
)
from monitoring.services.alert_dates import alert_date_error, settlement_year_error
from monitoring.services.imports.pipeline import ImportContext, Row
from monitoring.services.review_bulk import group_requests, leads_raise_or_merge_many

CHUNK = 2000
LEVEL_ORDER = [RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY, RegionLevel.TOWNSHIP, RegionLevel.VILLAGE]


def _chunks(items: list[Any], size: int = CHUNK) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class KindHandler:
    kind: ClassVar[str]

    def __init__(self, ctx: ImportContext) -> None:
        self.ctx = ctx

    def authorize(self) -> str:
        """A Chinese refusal when the user may not import this kind at all, else ``""``."""
        if self.ctx.prefix is None:
            return "您的账号没有所属行政区划，不能导入数据。"
        return ""

    def check_row(self, row: Row) -> bool:
        """Checks across the cells of one row; False when the row is bad."""
        return True

    def check_batch(self, rows: list[Row]) -> None:
        pass

    def check_references(self, rows: list[Row]) -> None:
        """Rows with a bad cell: check what references parsed (e.g. 户编号 exists and is in
        scope), so that the answer lists every error of the row at once."""
        if "household_no" not in self.ctx.present or self.kind not in ("members", "incomes"):
            return
        rows = [r for r in rows if r.values.get("household_no")]
        self.households(r.values["household_no"] for r in rows)
        for row in rows:
            self.resolve_household(row)

    def finish(self) -> None:
        pass

    def bucket(self, row: Row) -> int:
        return 0

    def write_batch(self, rows: list[Row], *, dry_run: bool) -> list[str]:
        raise NotImplementedError

    def touched_villages(self, row: Row) -> list[str]:
        """The village codes of the household a written row changed (screening after the import
        looks at those counties only); empty when the row concerns no household."""
        village = row.refs.get("village_code") or row.values.get("village_code")
        return [village] if village else []

    # helpers ----------------------------------------------------------------------------

    def err(self, row: Row, field_name: str, message: str, value: Any = None) -> None:
        column = self.ctx.spec.column(field_name)
        if value is None:
            value = column.label_of(row.values.get(field_name))
        self.ctx.error(row.number, column.header, value, message)

    def households(self, numbers: Iterable[str]) -> dict[str, tuple[int, str]]:
        """户编号 → (id, village code), cached for the whole file."""
        cache = self.ctx.cache.setdefault("households", {})
        missing = [n for n in set(numbers) if n not in cache]
        for part in _chunks(missing):
            for no, pk, village in Household.objects.filter(household_no__in=part).values_list(
                "household_no", "id", "village_id"
            ):
                cache[no] = (pk, village)
        return cache

    def resolve_household(self, row: Row, field_name: str = "household_no") -> bool:
        no = row.values[field_name]
        found = self.ctx.cache["households"].get(no)
        if found is None:
            self.err(row, field_name, f"户编号 {no} 不存在，请先导入农户。")
            return False
        if not self.ctx.in_scope(found[1]):
            self.err(row, field_name, f"户编号 {no} 不在您的管辖范围内。")
            return False
        row.refs["household_id"], row.refs["village_code"] = found
        return True

    @staticmethod
    def diff(
        rows: list[Row], objs: list[Any], existing: Mapping[Any, Any], keys: list[Any], fields: list[str]
    ) -> tuple[list[str], list[Any], list[Any]]:
        """Per row: create / update / same, with the new and the changed objects."""
        actions: list[str] = []
        new: list[Any] = []
        changed: list[Any] = []
        for obj, key in zip(objs, keys, strict=True):
            old = existing.get(key)
            if old is None:
                actions.append("create")
                new.append(obj)
            elif any(old[f] != getattr(obj, f) for f in fields):
                actions.append("update")
                changed.append(obj)
            else:
                actions.append("same")
        return actions, new, changed


# --- regions -------------------------------------------------------------------------------


class RegionsHandler(KindHandler):
    kind = "regions"

    def authorize(self) -> str:
        if not self.ctx.is_admin:
            return "只有系统管理员可以导入行政区划。"
        return ""

    def check_row(self, row: Row) -> bool:
        code = row.values["code"]
        level = region_level_of(code)
        row.refs["level"] = level
        if row.values.get("is_deep_poverty") and level != RegionLevel.COUNTY:
            self.err(
                row, "is_deep_poverty", f"只有县级区划可以标记为深度贫困地区（{code} 是{RegionLevel(level).label}级）。"
            )
            return False
        parent = region_parent_code(code)
        if parent is not None:
            self.ctx.cache.setdefault("parents", {})[row.number] = (code, parent)
        return True

    def finish(self) -> None:
        pending: dict[int, tuple[str, str]] = self.ctx.cache.get("parents", {})
        in_file = {key[0] for key in self.ctx.keys}
        needed = sorted({parent for _code, parent in pending.values() if parent not in in_file})
        in_db: set[str] = set()
        for part in _chunks(needed):
            in_db.update(Region.objects.filter(code__in=part).values_list("code", flat=True))
        for number, (code, parent) in sorted(pending.items()):
            if parent not in in_file and parent not in in_db:
                self.ctx.error(
                    number, "区划代码", code, f"上级区划 {parent} 既不在文件中也不在系统中，请先导入上级区划。"
                )

    def bucket(self, row: Row) -> int:
        return LEVEL_ORDER.index(row.refs["level"])

    def write_batch(self, rows: list[Row], *, dry_run: bool) -> list[str]:
        fields = ["name"] + (["is_deep_poverty"] if "is_deep_poverty" in self.ctx.present else [])
        codes = [r.values["code"] for r in rows]
        existing = {
            v["code"]: v for v in Region.objects.filter(code__in=codes).values("code", "name", "is_deep_poverty")
        }
        objs: list[Any] = [
            Region(
                code=r.values["code"],
                name=r.values["name"],
                level=r.refs["level"],
                parent_id=region_parent_code(r.values["code"]),
                is_deep_poverty=bool(r.values.get("is_deep_poverty")),
            )
            for r in rows
        ]
        if "is_deep_poverty" not in self.ctx.present:
            for obj in objs:
                old = existing.get(obj.pk)
                obj.is_deep_poverty = bool(old and old["is_deep_poverty"])  # type: ignore[attr-defined]
        actions, new, changed = self.diff(rows, objs, existing, codes, fields)
        if not dry_run and (new or changed):
            Region.objects.bulk_create(
                new + changed, update_conflicts=True, unique_fields=["code"], update_fields=fields, batch_size=CHUNK
            )
        return actions


# --- households ----------------------------------------------------------------------------


class HouseholdsHandler(KindHandler):
    kind = "households"

    def check_row(self, row: Row) -> bool:
        values = row.values
        if values["household_type"] == HouseholdType.EXITED and values.get("exit_year") is None:
            self.err(row, "household_type", "脱贫户必须填写脱贫年度。")
            return False
        if values["household_type"] != HouseholdType.EXITED and values.get("exit_year") is not None:
            self.err(row, "exit_year", "只有脱贫户填写脱贫年度，边缘户和一般农户请留空。")
            return False
        return True

    def check_batch(self, rows: list[Row]) -> None:
        self._check_villages(rows)
        existing = dict(
            Household.objects.filter(household_no__in=[r.values["household_no"] for r in rows]).values_list(
                "household_no", "village_id"
            )
        )
        for row in rows:
            old_village = existing.get(row.values["household_no"])
            if old_village is not None and not self.ctx.in_scope(old_village):
                self.err(row, "household_no", "该户编号已登记在您管辖范围以外的区划，不能修改。")
            row.refs["old_village_code"] = old_village

    def touched_villages(self, row: Row) -> list[str]:
        """A household moved to another village changes both counties (its open lead may be left
        in the old county's queue), so both are screened."""
        return [v for v in {row.values.get("village_code"), row.refs.get("old_village_code")} if v]

    def check_references(self, rows: list[Row]) -> None:
        self._check_villages([r for r in rows if r.values.get("village_code")])

    def _check_villages(self, rows: list[Row]) -> None:
        villages = self.ctx.cache.setdefault("villages", {})
        wanted = [c for c in {r.values["village_code"] for r in rows} if c not in villages]
        known = set(Region.objects.filter(code__in=wanted, level=RegionLevel.VILLAGE).values_list("code", flat=True))
        for code in wanted:
            villages[code] = code in known
        for row in rows:
            code = row.values["village_code"]
            if not villages[code]:
                self.err(row, "village_code", f"村级区划代码 {code} 不存在或不是村级区划，请先导入区划。")
            elif not self.ctx.in_scope(code):
                self.err(row, "village_code", f"村级区划代码 {code} 不在您的管辖范围内。")

    FIELDS: ClassVar[list[str]] = ["village_id", "household_type", "exit_year", "phone", "address"]

    def write_batch(self, rows: list[Row], *, dry_run: bool) -> list[str]:
        fields = [f for f in self.FIELDS if f in ("village_id", "household_type", "exit_year") or f in self.ctx.present]
        numbers = [r.values["household_no"] for r in rows]
        existing = {
            v["household_no"]: v
            for v in Household.objects.filter(household_no__in=numbers).values("id", "household_no", *fields)
        }
        objs: list[Any] = []
        for r in rows:
            old = existing.get(r.values["household_no"], {})
            objs.append(
                Household(
                    household_no=r.values["household_no"],
                    village_id=r.values["village_code"],
                    household_type=r.values["household_type"],
                    exit_year=r.values.get("exit_year"),
                    phone=r.values["phone"] or "" if "phone" in self.ctx.present else old.get("phone", ""),
                    address=r.values["address"] or "" if "address" in self.ctx.present else old.get("address", ""),
                )
            )
        actions, new, changed = self.diff(rows, objs, existing, numbers, fields)
        if not dry_run and (new or changed):
            now = timezone.now()
            for obj in new + changed:
                obj.created_at = obj.updated_at = now  # type: ignore[attr-defined]
            Household.objects.bulk_create(
                new + changed,
                update_conflicts=True,
                unique_fields=["household_no"],
                update_fields=[*fields, "updated_at"],
                batch_size=CHUNK,
            )
        return actions


# --- members -------------------------------------------------------------------------------


class MembersHandler(KindHandler):
    kind = "members"
    FIELDS: ClassVar[list[str]] = [
        "household_id",
        "name",
        "relation",
        "health",
        "disability_grade",
        "labor",
        "schooling",
        "employment",
        "has_medical_insurance",
    ]

    def check_row(self, row: Row) -> bool:
        if row.values["relation"] == Relation.HEAD:
            heads = self.ctx.cache.setdefault("heads", {})
            no = row.values["household_no"]
            if no in heads:
                self.err(row, "relation", f"户编号 {no} 在第 {heads[no][0]} 行已有户主，一户只能有一个户主。")
                return False
            heads[no] = (row.number, row.values["id_number"])
        return True

    def check_batch(self, rows: list[Row]) -> None:
        self.households(r.values["household_no"] for r in rows)
        ids = [r.values["id_number"] for r in rows]
        elsewhere = dict(Member.objects.filter(id_number__in=ids).values_list("id_number", "household__village_id"))
        for row in rows:
            if not self.resolve_household(row):
                continue
            old_village = elsewhere.get(row.values["id_number"])
            if old_village is not None and not self.ctx.in_scope(old_village):
                self.err(row, "id_number", "该身份证号已登记在您管辖范围以外的农户中。", value=row.values["id_number"])

    def finish(self) -> None:
        """A household whose head in the database is someone else, not changed by this file."""
        heads: dict[str, tuple[int, str]] = self.ctx.cache.get("heads", {})
        households = self.ctx.cache.get("households", {})
        by_id = {
            households[no][0]: (no, number, id_number) for no, (number, id_number) in heads.items() if no in households
        }
        for part in _chunks(list(by_id)):
            for household_id, id_number in Member.objects.filter(
                household_id__in=part, relation=Relation.HEAD
            ).values_list("household_id", "id_number"):
                no, number, file_head = by_id[household_id]
                if id_number != file_head and (id_number,) not in self.ctx.keys:
                    self.ctx.error(
                        number,
                        "与户主关系",
                        "户主",
                        f"户编号 {no} 在系统中已有户主（身份证号 {id_number_mask(id_number)}），一户只能有一个户主。",
                    )

    def bucket(self, row: Row) -> int:
        # Write non-heads first so that a head changing within a household never meets two heads.
        return 1 if row.values["relation"] == Relation.HEAD else 0

    def write_batch(self, rows: list[Row], *, dry_run: bool) -> list[str]:
        ids = [r.values["id_number"] for r in rows]
        existing = {
            v["id_number"]: v for v in Member.objects.filter(id_number__in=ids).values("id", "id_number", *self.FIELDS)
        }
        objs: list[Any] = [
            Member(
                household_id=r.refs["household_id"],
                id_number=r.values["id_number"],
                name=r.values["name"],
                relation=r.values["relation"],
                health=r.values["health"],
                disability_grade=r.values["disability_grade"],
                labor=r.values["labor"],
                schooling=r.values["schooling"],
                employment=r.values["employment"],
                has_medical_insurance=r.values["has_medical_insurance"],
            )
            for r in rows
        ]
        actions, new, changed = self.diff(rows, objs, existing, ids, self.FIELDS)
        if not dry_run and (new or changed):
            Member.objects.bulk_create(
                new + changed,
                update_conflicts=True,
                unique_fields=["id_number"],
                update_fields=self.FIELDS,
                batch_size=CHUNK,
            )
        return actions


# --- incomes -------------------------------------------------------------------------------


class IncomesHandler(KindHandler):
    kind = "incomes"
    FIELDS: ClassVar[list[str]] = [
        "family_size",
        "wage_income",
        "business_income",
        "property_income",
        "transfer_income",
    ]

    def check_batch(self, rows: list[Row]) -> None:
        self.households(r.values["household_no"] for r in rows)
        for row in rows:
            self.resolve_household(row)

    def write_batch(self, rows: list[Row], *, dry_run: bool) -> list[str]:
        keys = [(r.refs["household_id"], r.values["year"]) for r in rows]
        existing = {
            (v["household_id"], v["year"]): v
            for v in AnnualIncome.objects.filter(
                household_id__in={k[0] for k in keys}, year__in={k[1] for k in keys}
            ).values("id", "household_id", "year", *self.FIELDS)
        }
        objs: list[Any] = [
            AnnualIncome(
                household_id=r.refs["household_id"], year=r.values["year"], **{f: r.values[f] for f in self.FIELDS}
            )
            for r in rows
        ]
        actions, new, changed = self.diff(rows, objs, existing, keys, self.FIELDS)
        if not dry_run and (new or changed):
            AnnualIncome.objects.bulk_create(
                new + changed,
                update_conflicts=True,
                unique_fields=["household", "year"],
                update_fields=self.FIELDS,
                batch_size=CHUNK,
            )
        return actions


# --- expenditures --------------------------------------------------------------------------


class ExpendituresHandler(KindHandler):
    kind = "expenditures"

    def check_row(self, row: Row) -> bool:
        values = row.values
        if not values.get("household_no") and not values.get("id_number"):
            header = "户编号" if "household_no" in self.ctx.present else "身份证号"
            self.ctx.error(row.number, header, "", "户编号和身份证号至少填写一项。")
            return False
        if values.get("reimbursed") is None:
            values["reimbursed"] = Decimal("0.00")
        if values["reimbursed"] > values["amount"]:
            self.err(row, "reimbursed", "报销金额不能大于支出金额。")
            return False
        values["note"] = values.get("note") or ""
        return True

    def check_batch(self, rows: list[Row]) -> None:
        ids = [r.values["id_number"] for r in rows if r.values.get("id_number")]
        members = {
            v[0]: v[1:]
            for v in Member.objects.filter(id_number__in=ids).values_list(
                "id_number", "id", "household_id", "household__household_no", "household__village_id"
            )
        }
        self.households(
            r.values["household_no"] for r in rows if r.values.get("household_no") and not r.values.get("id_number")
        )
        for row in rows:
            id_number = row.values.get("id_number")
            if id_number:
                found = members.get(id_number)
                if found is None:
                    self.err(row, "id_number", "系统中没有该身份证号的家庭成员，请先导入家庭成员。", value=id_number)
                    continue
                member_id, household_id, household_no, village = found
                if not self.ctx.in_scope(village):
                    self.err(row, "id_number", "该身份证号的家庭成员不在您的管辖范围内。", value=id_number)
                    continue
                if row.values.get("household_no") and row.values["household_no"] != household_no:
                    self.err(row, "household_no", f"该身份证号的家庭成员属于户编号 {household_no}，与本行户编号不符。")
                    continue
                row.refs.update(member_id=member_id, household_id=household_id, village_code=village)
            elif self.resolve_household(row):
                row.refs["member_id"] = None

    FIELDS: ClassVar[list[str]] = ["reimbursed", "note"]

    def write_batch(self, rows: list[Row], *, dry_run: bool) -> list[str]:
        """Upsert into the one ledger (SPEC §2): an expense is household + category + date + amount,
        whether the row names the household (户编号) or a member (身份证号).  A row that meets an
        expense already recorded (by another key, or by a department's alert) records this source
        and, if it names one, the member; it never adds a second expense."""
        household_ids = {r.refs["household_id"] for r in rows}
        existing: dict[Any, dict[str, Any]] = {}
        columns = ("id", "member_id", "household_id", "category", "occurred_on", "amount", "reimbursed", "note")
        for part in _chunks(sorted(household_ids)):
            for v in RigidExpenditure.objects.filter(household_id__in=part).values(*columns, "source_import"):
                existing[expenditure_key(v)] = v
        fields = [f for f in self.FIELDS if f in self.ctx.present]
        actions: list[str] = []
        new: dict[Any, RigidExpenditure] = {}
        changed: dict[Any, RigidExpenditure] = {}
        for r in rows:
            v = r.values
            obj = RigidExpenditure(
                household_id=r.refs["household_id"],
                member_id=r.refs["member_id"],
                category=v["category"],
                occurred_on=v["occurred_on"],
                amount=v["amount"],
                reimbursed=v["reimbursed"],
                note=v["note"],
                source_import=True,
            )
            k = expenditure_key(vars(obj))
            old = existing.get(k)
            if k in new or k in changed:  # the same expense twice in the file (户编号 and 身份证号)
                kept = new.get(k) or changed[k]
                if kept.member_id is None and obj.member_id is not None:
                    kept.member_id = obj.member_id
                actions.append("same")
                continue
            if old is None:
                actions.append("create")
                new[k] = obj
                continue
            obj.pk = old["id"]
            if old["member_id"] is not None:  # the member first recorded stays
                obj.member_id = old["member_id"]
            if (
                any(old[f] != getattr(obj, f) for f in fields)
                or not old["source_import"]
                or old["member_id"] != obj.member_id
            ):
                actions.append("update")
                changed[k] = obj
            else:
                actions.append("same")
        if not dry_run:
            if new:
                RigidExpenditure.objects.bulk_create(list(new.values()), batch_size=CHUNK)
            if changed:
                RigidExpenditure.objects.bulk_update(
                    list(changed.values()), [*fields, "member_id", "source_import"], batch_size=500
                )
        return actions


def expenditure_key(values: Mapping[str, Any]) -> tuple[Any, ...]:
    """The ledger's identity of an expense: household + category + date + amount (SPEC §2)."""
    return (values["household_id"], values["category"], values["occurred_on"], values["amount"])


# --- alerts --------------------------------------------------------------------------------

ALERT_EXPENDITURE = {AlertType.MEDICAL: ExpenditureCategory.MEDICAL, AlertType.DISASTER: ExpenditureCategory.DISASTER}
ALERT_EXPENDITURE_NOTE = "部门预警："  # the note of an expenditure an alert created (it owns it)
ALERT_RISK = {
    AlertType.MEDICAL: RiskType.ILLNESS,
    AlertType.DISABILITY: RiskType.DISABILITY,
    AlertType.DISASTER: RiskType.DISASTER,
    AlertType.DROPOUT: RiskType.EDUCATION,
    AlertType.HOUSING: RiskType.HOUSING,
    AlertType.UNEMPLOYMENT: RiskType.UNSTABLE_EMPLOYMENT,
}


AlertKey = tuple[str, str, str, str, date, str]


def alert_key(values: Mapping[str, Any]) -> AlertKey:
    """SPEC §6's key of an alert (来源部门, 身份证号, 预警类型, 预警日期) within its submitting unit
    (来源部门 + ``scope_code``, the submitter's region), and its origin (AlertOrigin): the alerts the
    system makes from settlement lines are keyed apart from submitted ones.  One unit's keys never
    meet another's, so what a submitter is answered never depends on another unit's alerts."""
    return (
        values["department"],
        values.get("scope_code") or "",
        values["id_number"],
        values["alert_type"],
        values["alert_date"],
        values.get("origin") or AlertOrigin.DEPARTMENT,
    )


def alert_unit_lock(values: Mapping[str, Any]) -> str:
    """The named lock of a submitting unit: its batches are written one at a time."""
    return f"alerts:{values['department']}:{values.get('scope_code') or ''}"


def alerts_by_key(*, keys: Iterable[AlertKey], columns: Iterable[str]) -> dict[AlertKey, dict[str, Any]]:
    """The stored alerts of these keys (one query per chunk of 身份证号), with ``columns``."""
    keys = set(keys)
    found: dict[AlertKey, dict[str, Any]] = {}
    fields = {"id", "department", "scope_code", "id_number", "alert_type", "alert_date", "origin", *columns}
    for (department, scope), group in _group_by_unit(keys).items():
        for part in _chunks(sorted(group)):
            for v in DepartmentAlert.objects.filter(department=department, scope_code=scope, id_number__in=part).values(
                *fields
            ):
                k = alert_key(v)
                if k in keys:
                    found[k] = v
    return found


def _group_by_unit(keys: set[AlertKey]) -> dict[tuple[str, str], set[str]]:
    units: dict[tuple[str, str], set[str]] = {}
    for k in keys:
        units.setdefault((k[0], k[1]), set()).add(k[2])
    return units


# The alerts the system makes from settlement lines are numbered apart from submitted alerts,
# downwards from -1: ids are shown to the departments, and with one counter the gap between two of
# a department's own alerts would tell it whether its extract line made an alert in between (i.e.
# that the person belongs to a 脱贫户 or a monitoring target).  Negative, because SQLite's
# AUTOINCREMENT goes on from the highest id ever stored, whatever range it was taken from; taken
# as "one below the lowest" under a lock, not from a sequence, so a copied or reloaded table
# (``loaddata``) cannot leave a counter behind its rows.
EXTRACT_ALERT_IDS_LOCK = "alerts:extract-ids"


def extract_alert_ids(count: int) -> list[int]:
    """``count`` new (negative) ids for alerts of origin MEDICAL_EXTRACT; the caller's transaction
    holds the lock until it commits, so two writers never take the same ids."""
    if count == 0:
        return []
    named_locks_acquire(names=[EXTRACT_ALERT_IDS_LOCK])  # SQLite: one writer at a time anyway
    low = DepartmentAlert.objects.filter(pk__lt=0).aggregate(low=Min("pk"))["low"]
    first = -1 if low is None else int(low) - 1
    return list(range(first, first - count, -1))


class AlertsHandler(KindHandler):
    kind = "alerts"

    def touched_villages(self, row: Row) -> list[str]:
        member = row.refs.get("member")
        return [str(member[2])] if member else []

    FIELDS: ClassVar[list[str]] = [
        "name",
        "amount",
        "note",
        "member_id",
        "status",
        "region_code",
        "expenditure_id",
    ]

    def check_row(self, row: Row) -> bool:
        """来源部门: a department user's own department (empty cell or missing column: filled in;
        another department: refused); required from everyone else."""
        given = row.values.get("department") or ""
        own = self.ctx.department
        if own:
            if given and given != own:
                self.err(
                    row,
                    "department",
                    f"来源部门应为“{own}”（您账号所属的部门）或留空：行业部门只能提交本部门的预警。",
                )
                return False
            row.values["department"] = own
        elif not given:
            self.ctx.error(row.number, "来源部门", "", "来源部门不能为空。")
            return False
        return True

    def check_batch(self, rows: list[Row]) -> None:
        # Every row is the submitting unit's own: nothing another unit stored is refused or shown.
        for row in rows:
            row.values["scope_code"] = self.ctx.importer_region
        # 预警日期 neither in the future nor implausibly old (Excel and API alike: both pass here)
        for row in rows:
            wrong_date = alert_date_error(row.values["alert_date"])
            if wrong_date:
                self.err(row, "alert_date", wrong_date, value=row.values["alert_date"].isoformat())
        # Only members inside the importer's scope are matched; others stay 未匹配.
        ids = [r.values["id_number"] for r in rows]
        qs = Member.objects.filter(id_number__in=ids)
        if self.ctx.prefix:
            qs = qs.filter(household__village__code__startswith=self.ctx.prefix)
        members = {v[0]: v[1:] for v in qs.values_list("id_number", "id", "household_id", "household__village_id")}
        for row in rows:
            found = members.get(row.values["id_number"])
            row.refs["member"] = found
            row.values["note"] = row.values.get("note") or ""

    def write_batch(self, rows: list[Row], *, dry_run: bool) -> list[str]:
        extra = self.ctx.extra
        extra.setdefault("unmatched", 0)
        extra.setdefault("expenditures_created", 0)
        # one department's batches one at a time (re-entrant for the API, which took it already)
        named_locks_acquire(names=[alert_unit_lock(r.values) for r in rows])
        keys = [alert_key(r.values) for r in rows]
        existing = alerts_by_key(keys=keys, columns=self.FIELDS)
        found = self.write_expenditures(rows, keys, existing, dry_run=dry_run)
        objs: list[Any] = []
        for r in rows:
            v, member = r.values, r.refs["member"]
            expenditure_id = found.get(r.number)
            if member is None:
                extra["unmatched"] += 1
            objs.append(
                DepartmentAlert(
                    id_number=v["id_number"],
                    name=v["name"],
                    alert_type=v["alert_type"],
                    alert_date=v["alert_date"],
                    origin=alert_key(v)[5],
                    amount=v.get("amount"),
                    department=v["department"],
                    scope_code=v["scope_code"],
                    note=v["note"],
                    member_id=member[0] if member else None,
                    status=AlertStatus.MATCHED if member else AlertStatus.UNMATCHED,
                    region_code=member[2] if member else self.ctx.importer_region,
                    expenditure_id=expenditure_id,
                    idempotency_key=v.get("idempotency_key") or "",
                    submitted_by_id=getattr(self.ctx.user, "pk", None),
                )
            )
        fields = self.FIELDS
        if dry_run:
            # New expenditures have no id yet: compare without that field.
            fields = [f for f in fields if f != "expenditure_id"]
        actions, new, changed = self.diff(rows, objs, existing, keys, fields)
        if not dry_run and (new or changed):
            now = timezone.now()
            for obj in new + changed:
                obj.created_at = obj.updated_at = now  # type: ignore[attr-defined]
            made = [obj for obj in new if obj.origin == AlertOrigin.MEDICAL_EXTRACT]
            for obj, pk in zip(made, extract_alert_ids(len(made)), strict=True):
                obj.pk = pk
            if new:
                DepartmentAlert.objects.bulk_create(
                    new,
                    update_conflicts=True,  # the same key written meanwhile (the unit's lock makes it rare)
                    unique_fields=["department", "scope_code", "id_number", "alert_type", "alert_date", "origin"],
                    update_fields=[*self.FIELDS, "updated_at"],
                    batch_size=CHUNK,
                )
            if changed:  # by id: an upsert would draw (and spend) an id from the table's sequence
                for obj in changed:
                    obj.pk = existing[alert_key(vars(obj))]["id"]
                DepartmentAlert.objects.bulk_update(changed, [*self.FIELDS, "updated_at"], batch_size=500)
        if not dry_run:
            touched = self.ctx.cache.pop("ledger_touched", {})
            ledger_sources_refresh(ids=[pk for pk in touched if pk is not None])
            self.raise_leads(rows, actions, existing, keys)
            if self.ctx.job_id is not None:
                ids = {k: v["id"] for k, v in alerts_by_key(keys=keys, columns=()).items()}
                job_alerts_link(self.ctx.job_id, [(r.number, ids[k]) for r, k in zip(rows, keys, strict=True)])
        return actions

    def write_expenditures(
        self, rows: list[Row], keys: list[Any], existing: Mapping[Any, Any], *, dry_run: bool
    ) -> dict[int, int | None]:
        """The rigid expenditure of each 大额医疗支出 / 受灾 alert with an amount for a matched member
        (SPEC §6), by row number, in the one ledger (household + category + date + amount): an
        expense already recorded (a registry row, another department's or the system's alert) is
        linked, and records this source, not doubled.  A resent alert keeps its expenditure: when
        the department corrects the amount or date, the expenditure only it reported is corrected;
        when the alert no longer carries one (amount removed, member no longer matched), the
        expenditure only it reported is deleted.  Expenditures others report too are never changed;
        ``ledger_sources_refresh`` then clears the sources no alert reports any more."""
        extra = self.ctx.extra
        wanted: dict[int, RigidExpenditure] = {}
        for r in rows:
            v, member = r.values, r.refs["member"]
            if member and v["alert_type"] in ALERT_EXPENDITURE and v.get("amount") is not None:
                extract = alert_key(v)[5] == AlertOrigin.MEDICAL_EXTRACT
                wanted[r.number] = RigidExpenditure(
                    household_id=member[1],
                    member_id=member[0],
                    category=ALERT_EXPENDITURE[v["alert_type"]],
                    occurred_on=v["alert_date"],
                    amount=v["amount"],
                    note=f"{ALERT_EXPENDITURE_NOTE}{v['department']}"[:200],
                    source_import=False,
                    source_alert=not extract,
                    source_extract=extract,
                )
        prior_ids = {
            r.number: existing[k]["expenditure_id"]
            for r, k in zip(rows, keys, strict=True)
            if k in existing and existing[k]["expenditure_id"]
        }
        self.ctx.cache.setdefault("ledger_touched", {}).update(dict.fromkeys(prior_ids.values()))
        # An expenditure another alert links too (two departments, or a department and the system's
        # alert from a settlement line, with the same figures) belongs to none: never changed here.
        shared = set(
            DepartmentAlert.objects.filter(expenditure_id__in=set(prior_ids.values()))
            .exclude(pk__in={existing[k]["id"] for k in keys if k in existing})
            .values_list("expenditure_id", flat=True)
        )
        owned = {
            pk: expenditure_key({"household_id": h, "category": c, "occurred_on": d, "amount": a})
            for pk, h, c, d, a in RigidExpenditure.objects.filter(
                pk__in=set(prior_ids.values()) - shared, source_import=False
            ).values_list("id", "household_id", "category", "occurred_on", "amount")
        }
        # the ledger rows of these households in these categories (registry rows, other alerts): one query
        by_figures: dict[tuple[Any, ...], int] = {}
        if wanted:
            for e in RigidExpenditure.objects.filter(
                household_id__in={obj.household_id for obj in wanted.values()},
                category__in=set(ALERT_EXPENDITURE.values()),
            ).values("id", "household_id", "category", "occurred_on", "amount"):
                by_figures[expenditure_key(e)] = e["id"]
        found: dict[int, int | None] = {}
        to_fix: list[RigidExpenditure] = []
        to_drop: set[int] = set()
        for number, pk in prior_ids.items():
            if pk not in owned:
                continue
            obj = wanted.pop(number, None)
            if obj is None:  # the alert no longer carries an expenditure
                to_drop.add(pk)
                continue
            figures = expenditure_key(vars(obj))
            other = by_figures.get(figures)
            if owned[pk] == figures:
                found[number] = pk
            elif other is not None and other != pk:
                # the corrected figures are already recorded (e.g. by the registry): use that row
                found[number] = other
                to_drop.add(pk)
            else:
                obj.pk = pk
                to_fix.append(obj)
                found[number] = pk
                by_figures[figures] = pk
        if wanted:
            missing: dict[tuple[Any, ...], RigidExpenditure] = {}
            for obj in wanted.values():
                figures = expenditure_key(vars(obj))
                if figures not in by_figures:
                    missing.setdefault(figures, obj)
            extra["expenditures_created"] += len(missing)
            if not dry_run and missing:
                # Another unit's batch (its own lock) may record the same expense meanwhile: the
                # ledger's key keeps one row, and both alerts link it.
                RigidExpenditure.objects.bulk_create(list(missing.values()), batch_size=CHUNK, ignore_conflicts=True)
                for e in RigidExpenditure.objects.filter(
                    household_id__in={f[0] for f in missing}, category__in={f[1] for f in missing}
                ).values("id", "household_id", "category", "occurred_on", "amount"):
                    if expenditure_key(e) in missing:
                        by_figures[expenditure_key(e)] = e["id"]
            for number, obj in wanted.items():
                found[number] = by_figures.get(expenditure_key(vars(obj)))
        if to_fix:
            extra["expenditures_corrected"] = extra.get("expenditures_corrected", 0) + len(to_fix)
        if to_drop:
            extra["expenditures_removed"] = extra.get("expenditures_removed", 0) + len(to_drop)
        self.ctx.cache["ledger_touched"].update(dict.fromkeys(pk for pk in found.values() if pk is not None))
        if not dry_run:
            if to_drop:  # first, so that a corrected row may take over figures a dropped one had
                # the alert row lets go of it first (the upsert below sets its expenditure)
                DepartmentAlert.objects.filter(expenditure_id__in=to_drop).update(expenditure=None)
                RigidExpenditure.objects.filter(pk__in=to_drop).delete()
            if to_fix:
                fields = ["household_id", "member_id", "occurred_on", "amount", "note"]
                RigidExpenditure.objects.bulk_update(to_fix, fields, batch_size=500)
        return found

    def raise_leads(self, rows: list[Row], actions: list[str], existing: Mapping[Any, Any], keys: list[Any]) -> None:
        """A matched alert that is new (or newly matched) raises or merges a DEPARTMENT_ALERT lead
        for the member's household, set-based for the batch; a resent alert raises nothing."""
        requests: list[tuple[int, dict[str, Any], set[str]]] = []
        for r, action, k in zip(rows, actions, keys, strict=True):
            member = r.refs["member"]
            if member is None or action == "same":
                continue
            if action == "update" and existing[k]["member_id"] == member[0]:
                continue
            v = r.values
            entry = {
                "department": v["department"],
                "origin": alert_key(v)[5],
                "alert_type": v["alert_type"],
                "alert_type_label": AlertType(v["alert_type"]).label,
                "alert_date": v["alert_date"].isoformat(),
                "amount": None if v.get("amount") is None else str(v["amount"]),
                "member_id": member[0],
            }
            risks: set[str] = {ALERT_RISK[v["alert_type"]].value} if v["alert_type"] in ALERT_RISK else set()
            requests.append((member[1], entry, risks))
        if requests:
            outcome = leads_raise_or_merge_many(
                requests=group_requests(requests), source=LeadSource.DEPARTMENT_ALERT, actor=self.ctx.user
            )
            self.ctx.extra["leads_raised"] = self.ctx.extra.get("leads_raised", 0) + outcome.raised
            self.ctx.extra["leads_merged"] = self.ctx.extra.get("leads_merged", 0) + outcome.merged


def ledger_sources_refresh(*, ids: list[int]) -> None:
    """Set the alert sources of these ledger rows from the alerts that link them now (department
    alerts: ``source_alert``; the system's alerts from 医保 extracts: ``source_extract``), and
    delete a row that no source reports any more (not imported, linked by no alert).  Set-based:
    two statements per chunk."""
    for part in _chunks(sorted(set(ids))):
        linking = DepartmentAlert.objects.filter(expenditure_id=OuterRef("pk"))
        RigidExpenditure.objects.filter(pk__in=part).update(
            source_alert=Exists(linking.filter(origin=AlertOrigin.DEPARTMENT)),
            source_extract=Exists(linking.filter(origin=AlertOrigin.MEDICAL_EXTRACT)),
        )
        RigidExpenditure.objects.filter(
            pk__in=part, source_import=False, source_alert=False, source_extract=False
        ).delete()


def job_alerts_link(job_id: int, rows: list[tuple[int, int]]) -> None:
    """Record (row number, alert id) pairs as submitted by the job (a resent row is linked again)."""
    ImportJobAlert.objects.bulk_create(
        [ImportJobAlert(job_id=job_id, alert_id=alert_id, row=number) for number, alert_id in rows],
        ignore_conflicts=True,
        batch_size=CHUNK,
    )


# --- 医保 settlement extracts -----------------------------------------------------------------


class MedicalHandler(KindHandler):
    """Lines of a 医保 extract: stored, and judged against the thresholds by
    ``monitoring.services.medical`` — the same code as ``POST /api/v1/medical-settlements/``."""

    kind = "medical"

    def authorize(self) -> str:
        from monitoring.services.medical import medical_submit_refusal

        return super().authorize() or medical_submit_refusal(user=self.ctx.user)

    def check_row(self, row: Row) -> bool:
        wrong_year = settlement_year_error(row.values["year"])
        if wrong_year:
            self.err(row, "year", wrong_year)
            return False
        return True

    def write_batch(self, rows: list[Row], *, dry_run: bool) -> list[str]:
        from monitoring.services.medical import medical_settlements_write

        items = [
            {"id_number": r.values["id_number"], "year": r.values["year"], "out_of_pocket": r.values["out_of_pocket"]}
            for r in rows
        ]
        batch = medical_settlements_write(user=self.ctx.user, items=items, dry_run=dry_run)
        # the households whose expenditure an alert of this batch recorded (for screening afterwards)
        villages = dict(
            DepartmentAlert.objects.filter(
                pk__in=[pk for pk in batch.alert_ids if pk is not None], status=AlertStatus.MATCHED
            ).values_list("pk", "region_code")
        )
        for r, pk in zip(rows, batch.alert_ids, strict=True):
            r.refs["village_code"] = villages.get(pk) if pk is not None else None
        extra = self.ctx.extra
        for name, value in (
            ("settlements_matched", batch.matched),
            ("settlements_alerted", batch.alerted),
            ("alerts_new", batch.new_alerts),
        ):
            extra[name] = extra.get(name, 0) + value
        if not dry_run and self.ctx.job_id is not None:
            job_alerts_link(
                self.ctx.job_id,
                [(r.number, pk) for r, pk in zip(rows, batch.alert_ids, strict=True) if pk is not None],
            )
        return batch.actions


HANDLERS: dict[str, type[KindHandler]] = {
    h.kind: h
    for h in (
        RegionsHandler,
        HouseholdsHandler,
        MembersHandler,
        IncomesHandler,
        ExpendituresHandler,
        AlertsHandler,
        MedicalHandler,
    )
}
