"""The registry kinds: 行政区划 and 农户 (SPEC §6)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.utils import timezone

from fanpin.core.idcard import household_no_registrable
from fanpin.core.regions import RegionLevel, region_level_of, region_parent_code
from monitoring.models import (
    Household,
    HouseholdType,
    Region,
)
from monitoring.services.bulk import CHUNK, chunks, upsert_actions
from monitoring.services.household_changes import household_changes_follow
from monitoring.services.imports.changes import (
    changes_propose,
    household_type_proposal,
)
from monitoring.services.imports.kinds.base import LEVEL_ORDER, KindHandler
from monitoring.services.imports.rows import Row
from monitoring.services.lead_village import counties_lock, counties_lock_read, leads_village_follow

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
        if not household_no_registrable(values["household_no"], village_code=values.get("village_code") or ""):
            self.err(
                row,
                "household_no",
                "户编号像是身份证号或手机号，不能登记：户编号会显示给各级用户，身份证号和手机号不能。"
                "请填写户编号（身份证号填在成员表的“身份证号”列，电话填在“联系电话”列）。",
            )
            return False
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
                moved = [existing[o.household_no]["id"] for o in moving]
                leads_village_follow(household_ids=moved, actor=self.ctx.user, import_job_id=self.ctx.job_id)
                household_changes_follow(household_ids=moved, actor=self.ctx.user, import_job_id=self.ctx.job_id)
        changes_propose(self.ctx, proposals, dry_run=dry_run)
        return actions
