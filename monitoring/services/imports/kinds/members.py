"""The 家庭成员 kind (SPEC §6): moves, deaths and removals wait for the county; rows that are
their stored member are recognised before parsing (``unchanged.py``)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, ClassVar

from fanpin.core.idcard import id_number_mask
from monitoring.models import (
    ChangeKind,
    MemberStatus,
    Relation,
)
from monitoring.services.bulk import upsert_actions
from monitoring.services.imports.changes import (
    RemovalAccepted,
    changes_propose,
    households_populated,
    member_change_proposal,
    removals_accepted,
)
from monitoring.services.imports.kinds.base import KindHandler
from monitoring.services.imports.member_store import (
    WRITTEN,
    MemberStoredMeanwhile,
    heads_current,
    members_by_id_number,
    members_create,
    members_upsert,
)
from monitoring.services.imports.rows import Row
from monitoring.services.imports.unchanged import HEADS_STORED, MembersUnchanged, member_ids_absent

# --- members -------------------------------------------------------------------------------


class MembersHandler(KindHandler):
    kind = "members"
    FIELDS: ClassVar[list[str]] = [name for name in WRITTEN if name != "id_number"]  # compared and written

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
        # a rule added here must be added to ``unchanged.MembersUnchanged`` too: rows it recognises
        # as their stored member skip this
        self.households(r.values["household_no"] for r in rows)
        ids = [r.values["id_number"] for r in rows]
        absent = member_ids_absent(self.ctx)  # found absent a moment ago by the recognition
        elsewhere: dict[str, str] = {}
        # a member whose death or removal the county accepted keeps their row (status, date, change);
        # people deleted by such a change before 2026-12-04 are found by the change alone
        removed: dict[str, RemovalAccepted] = {}
        for m in members_by_id_number(
            [i for i in ids if i not in absent],
            "id_number",
            "household__village_id",
            "status",
            "departed_on",
            "departure_change_id",
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
            # the write reads again only the members found here (a person stored meanwhile by
            # someone else then fails its ``COPY``: ``MemberStoredMeanwhile``)
            row.refs["stored"] = old_village is not None
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
        stored: dict[str, str] = self.ctx.cache.get(HEADS_STORED, {})
        # only households the user may import into (another's is refused as such by the batch
        # checks; its head is none of this user's business, not even masked)
        by_id = {
            households[no][0]: (no, number, id_number)
            for no, (number, id_number) in heads.items()
            if no in households and stored.get(no) != id_number and self.ctx.in_scope(households[no][1])
        }
        in_file: dict[str, str] = self.ctx.cache.get("file_household", {})
        for household_id, id_number in heads_current(list(by_id)):
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
        # the members the batch checks found (a first import's 300 000 absent numbers were read
        # again here for nothing: ≈ 8 % of it, docs/benchmarks.md session 16)
        ids = [r.values["id_number"] for r in rows if r.refs.get("stored", True)]
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
            try:
                members_create(new)
            except MemberStoredMeanwhile as exc:
                exc.row = next((r.number for r in written if r.values["id_number"] == exc.id_number), 0)
                raise
            members_upsert(changed, update_fields=self.FIELDS)
        changes_propose(self.ctx, proposals, dry_run=dry_run)
        return actions
