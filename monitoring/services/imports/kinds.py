"""What differs between kinds: database lookups, cross-row checks and the upsert.

Each handler gets batches of clean rows from the pipeline.  ``check_batch`` resolves references
(households, villages, members) with one query per batch and reports scope violations;
``write_batch`` loads the existing rows of the batch by key, and creates only new rows and
updates only changed ones (so a re-import changes nothing), returning one action per row.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, ClassVar

from django.utils import timezone

from fanpin.core.idcard import id_number_mask
from fanpin.core.regions import RegionLevel, region_level_of, region_parent_code
from monitoring.models import (
    AlertStatus,
    AnnualIncome,
    ChangeKind,
    DepartmentAlert,
    Household,
    HouseholdType,
    ImportJobAlert,
    Member,
    MemberStatus,
    Region,
    Relation,
    RigidExpenditure,
)
from monitoring.services.alerts.dates import settlement_year_error
from monitoring.services.alerts.matching import (
    AlertLine,
    AlertUnit,
    LineError,
    alert_department_error,
    alert_key,
    alerts_by_key,
    alerts_match,
)
from monitoring.services.alerts.medical import medical_settlements_write, medical_submit_refusal
from monitoring.services.alerts.writing import alerts_store
from monitoring.services.bulk import CHUNK, chunks, upsert_actions
from monitoring.services.imports.changes import (
    RemovalAccepted,
    changes_propose,
    household_type_proposal,
    households_populated,
    member_change_proposal,
    removals_accepted,
)
from monitoring.services.imports.member_store import members_by_id_number, members_upsert
from monitoring.services.imports.rows import ImportContext, Row
from monitoring.services.imports.unchanged import MembersUnchanged
from monitoring.services.lead_village import counties_lock, counties_lock_read, leads_village_follow
from monitoring.services.ledger import expenditure_key
from monitoring.services.rosters import RosterLine, roster_line_error, roster_refusal, rosters_write

LEVEL_ORDER = [RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY, RegionLevel.TOWNSHIP, RegionLevel.VILLAGE]


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

    def unchanged(self, positions: dict[str, int]) -> Any:
        """A recogniser of rows that are their stored record (``rows(numbered)`` → number → Row),
        for kinds that have one (members: ``unchanged.MembersUnchanged``); None: every row is parsed."""
        return None

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
        for part in chunks(missing):
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
        for part in chunks(needed):
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
        actions, new, changed = upsert_actions(objs, existing, codes, fields)
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

    @staticmethod
    def _moving_locked(changed: list[Any], *, locked: set[str]) -> list[Any]:
        """The households of ``changed`` whose village this batch changes, read again under the
        locks of their counties: another import may have moved one since ``existing`` was read (to
        a county whose lock this one does not hold yet, where a lead may be being written).  Locks
        each county found until none is missing; returns the households that move."""
        numbers = [o.household_no for o in changed]

        def read() -> dict[str, str]:
            return dict(Household.objects.filter(household_no__in=numbers).values_list("household_no", "village_id"))

        now_in = counties_lock_read(read=read, village=str, locked=locked)
        return [o for o in changed if now_in.get(o.household_no, o.village_id) != o.village_id]

    def write_batch(self, rows: list[Row], *, dry_run: bool) -> list[str]:
        fields = [f for f in self.FIELDS if f in ("village_id", "household_type", "exit_year") or f in self.ctx.present]
        numbers = [r.values["household_no"] for r in rows]
        existing = {
            v["household_no"]: v
            for v in Household.objects.filter(household_no__in=numbers).values("id", "household_no", *fields)
        }
        objs: list[Any] = []
        proposals, held = [], set()  # 户类型 changes wait for the county
        for r in rows:
            old = existing.get(r.values["household_no"], {})
            obj = Household(
                household_no=r.values["household_no"],
                village_id=r.values["village_code"],
                household_type=r.values["household_type"],
                exit_year=r.values.get("exit_year"),
                phone=r.values["phone"] or "" if "phone" in self.ctx.present else old.get("phone", ""),
                address=r.values["address"] or "" if "address" in self.ctx.present else old.get("address", ""),
            )
            proposal = household_type_proposal(r, old) if old else None
            if proposal is not None:
                proposals.append(proposal)
                held.add(r.number)
                obj.household_type, obj.exit_year = old["household_type"], old["exit_year"]
            objs.append(obj)
        actions, new, changed = upsert_actions(objs, existing, numbers, fields)
        actions = ["pending" if a == "same" and r.number in held else a for a, r in zip(actions, rows, strict=True)]
        if not dry_run and (new or changed):
            moving = [o for o in changed if existing[o.household_no]["village_id"] != o.village_id]
            # a move waits for the counties' lead writers and they wait for it (counties_lock): one
            # call, so the counties are locked in code order
            left = [existing[o.household_no]["village_id"] for o in moving]
            counties_lock(village_codes=left + [o.village_id for o in moving])
            if changed:
                moving = self._moving_locked(changed, locked={v[:6] for v in left + [o.village_id for o in moving]})
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
            if moving:
                leads_village_follow(household_ids=[existing[o.household_no]["id"] for o in moving])
        changes_propose(self.ctx, proposals, dry_run=dry_run)
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
        # each 身份证号's household in the file: a head moving out (pending) keeps their place
        active = row.values.get("status") in ("", None, MemberStatus.ACTIVE)
        self.ctx.cache.setdefault("file_household", {})[row.values["id_number"]] = (
            row.values["household_no"] if active else ""
        )
        # a dead or removed 户主 listed beside the new one is not a second head (a pending death
        # of the stored head is refused in ``finish``; an accepted one is no member any more)
        if row.values["relation"] == Relation.HEAD and active:
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
        elsewhere: dict[str, str] = {}
        # a member whose death or removal the county accepted keeps their row (status, date, change);
        # people deleted by such a change before 2026-12-04 are found by the change alone
        removed: dict[str, RemovalAccepted] = {}
        for m in members_by_id_number(
            ids, "id_number", "household__village_id", "status", "departed_on", "departure_change_id"
        ):
            elsewhere[m["id_number"]] = m["household__village_id"]
            if m["status"] != MemberStatus.ACTIVE:
                removed[m["id_number"]] = RemovalAccepted(m["departure_change_id"], m["status"], m["departed_on"])
        removed |= removals_accepted(id_numbers=[i for i in ids if i not in elsewhere], prefix=self.ctx.prefix or "")
        for row in rows:
            if not self.resolve_household(row):
                continue
            id_number = row.values["id_number"]
            old_village = elsewhere.get(id_number)
            active = row.values.get("status") in ("", None, MemberStatus.ACTIVE)
            if old_village is not None and not self.ctx.in_scope(old_village):
                self.err(row, "id_number", "该身份证号已登记在您管辖范围以外的农户中。", value=id_number)
            elif id_number in removed and not active:
                row.refs["removed"] = True  # already out of the registry: unchanged, nothing written
            elif id_number in removed:
                self.err(row, "status", removed[id_number].refusal)
            elif old_village is None and not active:
                self.err(row, "status", "系统中没有该身份证号的家庭成员，不能登记为死亡或注销。")

    def finish(self) -> None:
        """A household whose head in the database is someone else, not changed by this file."""
        heads: dict[str, tuple[int, str]] = self.ctx.cache.get("heads", {})
        households = self.ctx.cache.get("households", {})
        # 户编号 → the stored head, for households whose head row was recognised as unchanged
        stored: dict[str, str] = self.ctx.cache.get("heads_stored", {})
        by_id = {
            households[no][0]: (no, number, id_number)
            for no, (number, id_number) in heads.items()
            if no in households and stored.get(no) != id_number
        }
        in_file: dict[str, str] = self.ctx.cache.get("file_household", {})
        for part in chunks(list(by_id)):
            for household_id, id_number in (
                Member.objects.current()
                .filter(household_id__in=part, relation=Relation.HEAD)
                .values_list("household_id", "id_number")
            ):
                no, number, file_head = by_id[household_id]
                if id_number != file_head and (id_number,) not in self.ctx.keys:
                    self.ctx.error(
                        number,
                        "与户主关系",
                        "户主",
                        f"户编号 {no} 在系统中已有户主（身份证号 {id_number_mask(id_number)}），一户只能有一个户主。",
                    )
                elif id_number != file_head and in_file.get(id_number) != no:
                    # the head's move, death or removal waits for the county: they stay its head
                    self.ctx.error(
                        number,
                        "与户主关系",
                        "户主",
                        f"户编号 {no} 的现户主（身份证号 {id_number_mask(id_number)}）迁出、死亡或注销须经县级审核，"
                        "审核同意前不能为该户指定新户主。",
                    )

    def unchanged(self, positions: dict[str, int]) -> MembersUnchanged:
        return MembersUnchanged(self.ctx, positions)

    def bucket(self, row: Row) -> int:
        # Write non-heads first so that a head changing within a household never meets two heads.
        return 1 if row.values["relation"] == Relation.HEAD else 0

    def write_batch(self, rows: list[Row], *, dry_run: bool) -> list[str]:
        ids = [r.values["id_number"] for r in rows]
        existing = {
            v["id_number"]: v
            for v in members_by_id_number(
                ids, "id", "id_number", *self.FIELDS, "household__household_no", "household__village_id"
            )
        }
        # A move to another household, a death or a removal waits for the county: the
        # member keeps their household and 与户主关系 (a death or removal: every value) meanwhile.
        # (asked only of the households members move to: an unchanged re-import asks nothing)
        populated = households_populated(
            {
                r.refs["household_id"]
                for r in rows
                if (stored := existing.get(r.values["id_number"])) and stored["household_id"] != r.refs["household_id"]
            }
        )
        proposals, held = [], set()
        objs: list[Any] = []
        # a person whose death or removal the county accepted, listed again as 死亡 / 注销: unchanged
        gone = {r.number for r in rows if r.refs.get("removed")}
        written = [r for r in rows if r.number not in gone]
        for r in written:
            # the values compared first; a model object only for a member created or changed (an
            # unchanged re-import of 300 000 members built 300 000 of them for nothing)
            values = {name: r.values[name] for name in self.FIELDS if name != "household_id"}
            obj = SimpleNamespace(household_id=r.refs["household_id"], id_number=r.values["id_number"], **values)
            old = existing.get(r.values["id_number"])
            proposal = member_change_proposal(r, old, populated=populated) if old else None
            if old and proposal is not None:
                proposals.append(proposal)
                held.add(r.number)
                kept = self.FIELDS if proposal.kind == ChangeKind.REMOVAL else ["household_id", "relation"]
                for name in kept:
                    setattr(obj, name, old[name])
                r.refs["village_code"] = old["household__village_id"]  # the household written to (screening)
            objs.append(obj)
        actions_written, new, changed = upsert_actions(
            objs, existing, [r.values["id_number"] for r in written], self.FIELDS
        )
        by_number = {
            r.number: "pending" if a == "same" and r.number in held else a
            for a, r in zip(actions_written, written, strict=True)
        }
        actions = [by_number.get(r.number, "same") for r in rows]
        if not dry_run:
            members_upsert(new + changed, update_fields=self.FIELDS)
        changes_propose(self.ctx, proposals, dry_run=dry_run)
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


# --- alerts --------------------------------------------------------------------------------


class AlertsHandler(KindHandler):
    """Rows of a department's alert sheet, matched and written by ``monitoring.services.alerts``
    — the same code as ``POST /api/v1/alerts/``."""

    kind = "alerts"

    def __init__(self, ctx: ImportContext) -> None:
        super().__init__(ctx)
        self.unit = AlertUnit.of(ctx.user)

    def touched_villages(self, row: Row) -> list[str]:
        member = row.refs.get("member")
        return [str(member[2])] if member else []

    def check_row(self, row: Row) -> bool:
        wrong = alert_department_error(line=AlertLine(row.number, row.values), unit=self.unit)
        if wrong is not None:
            self.line_error(wrong)
            return False
        return True

    def check_batch(self, rows: list[Row]) -> None:
        lines = [AlertLine(r.number, r.values) for r in rows]
        for error in alerts_match(lines=lines, unit=self.unit):
            self.line_error(error)
        for row, line in zip(rows, lines, strict=True):
            row.refs["member"] = line.member

    def write_batch(self, rows: list[Row], *, dry_run: bool) -> list[str]:
        lines = [AlertLine(r.number, r.values, r.refs["member"]) for r in rows]
        actions = alerts_store(lines=lines, unit=self.unit, counts=self.ctx.extra, dry_run=dry_run)
        if not dry_run and self.ctx.job_id is not None:
            keys = [alert_key(r.values) for r in rows]
            ids = {k: v["id"] for k, v in alerts_by_key(keys=keys, columns=()).items()}
            job_alerts_link(self.ctx.job_id, [(r.number, ids[k]) for r, k in zip(rows, keys, strict=True)])
        return actions

    def line_error(self, error: LineError) -> None:
        header = self.ctx.spec.column(error.field).header
        self.ctx.error(error.number, header, error.value, error.message)


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
    ``monitoring.services.alerts.medical`` — the same code as ``POST /api/v1/medical-settlements/``."""

    kind = "medical"

    def authorize(self) -> str:
        return super().authorize() or medical_submit_refusal(user=self.ctx.user)

    def check_row(self, row: Row) -> bool:
        wrong_year = settlement_year_error(row.values["year"])
        if wrong_year:
            self.err(row, "year", wrong_year)
            return False
        return True

    def write_batch(self, rows: list[Row], *, dry_run: bool) -> list[str]:
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


# --- 民政 rosters ---------------------------------------------------------------------------


class AssistanceRosterHandler(KindHandler):
    """Rows of a 民政 roster, matched and written by ``monitoring.services.rosters`` — the same code
    as ``POST /api/v1/assistance-rosters/``."""

    kind = "assistance_roster"

    def authorize(self) -> str:
        return super().authorize() or roster_refusal(user=self.ctx.user)

    def check_row(self, row: Row) -> bool:
        wrong = roster_line_error(row.values)
        if wrong is not None:
            self.err(row, wrong[0], wrong[1])
            return False
        return True

    def write_batch(self, rows: list[Row], *, dry_run: bool) -> list[str]:
        lines = [RosterLine(r.number, r.values, from_sheet=True) for r in rows]
        batch = rosters_write(user=self.ctx.user, lines=lines, dry_run=dry_run, job_id=self.ctx.job_id)
        extra = self.ctx.extra
        extra["roster_matched"] = extra.get("roster_matched", 0) + batch.matched
        extra["roster_unmatched"] = extra.get("roster_unmatched", 0) + batch.unmatched
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
        AssistanceRosterHandler,
    )
}
