"""The ledger kinds: 年度收入 and 刚性支出 (SPEC §6)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from monitoring.models import (
    AnnualIncome,
    Member,
    RigidExpenditure,
)
from monitoring.services.bulk import CHUNK, chunks, upsert_actions
from monitoring.services.imports.kinds.base import KindHandler
from monitoring.services.imports.rows import Row
from monitoring.services.ledger import expenditure_key

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
        actions, new, changed = upsert_actions(objs, existing, keys, self.FIELDS)
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
        for part in chunks(sorted(household_ids)):
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
                # recorded by the registry now: no alert owns it any more (``alert`` left empty)
                RigidExpenditure.objects.bulk_update(
                    list(changed.values()), [*fields, "member_id", "source_import", "alert"], batch_size=500
                )
        return actions
