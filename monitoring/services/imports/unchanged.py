"""Member rows recognised as unchanged before they are parsed (issue 21).

A county re-imports its whole roster of members every so often, and most rows are what the
registry already holds.  Parsing and checking every cell of such a row, reading its member twice
(in the batch checks and again in the write) and comparing, only to find nothing to write, cost a
300 000-member file ≈ 25 s.  Here a batch of raw rows is compared with the stored members it names
(one query per 500 身份证号): a row whose every cell is exactly what a sheet of that member shows
(the 户编号, the 姓名 and the 身份证号 as stored, each enumeration's label, 是/否, and 成员状态 blank
or 正常) is the member as stored, and the import counts it unchanged without parsing it.

Why this gives the same verdict as the full path, row for row: each such cell parses to the stored
value (text that is not empty, already trimmed and within its length; a valid 身份证号 — checked
again here, as the database checks only its format; a label to its code; a blank allowed
enumeration to 空), so the row would pass its cell rules; its member is current (not 死亡/注销) and
in a household the user may import into; so the batch checks find nothing, no change is proposed
(same household, 正常) and the upsert compares equal.  The checks across rows still see the row:
the pipeline gives it to the kind's ``check_row`` (one 户主 per household) and to the duplicate-key
check like any other, and counts it towards the batch, so the batch checks run at the same rows.

**A rule added to the member cells' parsers or to ``MembersHandler.check_batch`` or ``write_batch``
must be added to ``MembersUnchanged._expected`` too, and a column added to the sheet to
``member_store.SHEET_FIELDS``** (tests/monitoring/test_import_unchanged*.py compare the two
paths).  The one difference, by design: a member edited by someone else between this check and the
import's write keeps that edit (the full path would write the file's value back).

Anything else — a cell typed as a number, an extra space, another household, a member stored with
values a sheet cannot show — is simply not recognised and takes the full path.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from fanpin.core.idcard import id_number_is_valid
from monitoring.models import MemberStatus, Relation
from monitoring.services.imports.member_store import SHEET_FIELDS, members_as_sheet
from monitoring.services.imports.rows import ImportContext, Row
from monitoring.services.imports.spec import Column, KindSpec

_COMPARED = tuple(SHEET_FIELDS)  # the columns every row must show as stored (成员状态 apart)
_ID_AT = _COMPARED.index("id_number")
_ENUMS = ("relation", "health", "disability_grade", "labor", "schooling", "employment")
# ``ctx.cache`` key: 户编号 → the stored head of a household whose head row was recognised
HEADS_STORED = "heads_stored"
# ``ctx.cache`` key: the 身份证号 of no stored member (of any status), as the last two batches of
# raw rows found them: the batch checks need not ask again (a first import's every number)
_ABSENT = "member_ids_absent"
_NEVER = object()  # a stored value no sheet cell shows (the row then takes the full path)
ACTIVE_LABEL = str(MemberStatus.ACTIVE.label)


def _maybe_stored(text: str) -> bool:
    """Whether a raw 身份证号 cell can be a stored number as it is (18 ASCII letters and digits)."""
    return len(text) == 18 and text.isascii() and text.isalnum()


def _shown(column: Column) -> dict[Any, Any]:
    """Stored code → the raw cell that parses to it, for an enumeration column."""
    assert column.choices is not None
    shown: dict[Any, Any] = {code: str(label) for code, label in column.choices.choices if code != ""}
    shown[""] = None if column.allow_empty else _NEVER
    return shown


class MembersUnchanged:
    """Recognises raw member rows that are their stored member, a batch at a time."""

    def __init__(self, ctx: ImportContext, positions: dict[str, int]) -> None:
        spec: KindSpec = ctx.spec
        self.ctx = ctx
        self.columns = [spec.column(f) for f in _COMPARED]
        at = [positions[c.header] for c in self.columns]
        self.id_at = positions[spec.column("id_number").header]
        self.status_at = positions.get(spec.column("status").header)
        self.width = max([*at, self.status_at or 0]) + 1
        self.cells = itemgetter(*at)
        self.shown = [_shown(spec.column(f)) for f in _ENUMS]
        self.no_max, self.name_max = (c.max_length or 10**9 for c in self.columns[:2])

    def _expected(self, stored: tuple[Any, ...]) -> tuple[Any, ...] | None:
        """The cells (in ``_COMPARED`` order) of a sheet row showing this member; None when no
        sheet row can show it exactly."""
        no, name, id_number, relation, health, grade, labor, schooling, employment, insured = stored
        # text a cell showing it exactly parses back to: not empty (openpyxl reads an empty text
        # cell as ""), trimmed, within its column's length; a 身份证号 its parser accepts
        if not no or no != no.strip() or len(no) > self.no_max:
            return None
        if not name or name != name.strip() or len(name) > self.name_max or not id_number_is_valid(id_number):
            return None
        shown = self.shown
        return (
            no,
            name,
            id_number,
            shown[0].get(relation, _NEVER),
            shown[1].get(health, _NEVER),
            shown[2].get(grade, _NEVER),
            shown[3].get(labor, _NEVER),
            shown[4].get(schooling, _NEVER),
            shown[5].get(employment, _NEVER),
            "是" if insured else "否",
        )

    def rows(self, numbered: Sequence[tuple[int, tuple[Any, ...]]]) -> dict[int, Row]:
        """Row number → the row as the full path would have parsed it, for each recognised row;
        the households of those rows join the file's household cache."""
        # only what can be a stored number is asked for (18 ASCII letters and digits): a NUL from an
        # upload's ``_x0000_`` made PostgreSQL refuse the statement (the full path words the cell)
        ids = {
            raw[self.id_at]
            for _n, raw in numbered
            if len(raw) > self.id_at and type(raw[self.id_at]) is str and _maybe_stored(raw[self.id_at])
        }
        if not ids:
            return {}
        stored: dict[str, tuple[tuple[Any, ...], int, str, dict[str, Any]]] = {}
        present: set[str] = set()
        for household_id, village, status, *values in members_as_sheet(ids):
            present.add(values[_ID_AT])
            if status != MemberStatus.ACTIVE:  # 死亡/注销: the full path says what the row may do
                continue
            expected = self._expected(tuple(values)) if self.ctx.in_scope(village) else None
            if expected is not None:
                member = dict(zip(_COMPARED, values, strict=True))
                member["has_medical_insurance"] = bool(member["has_medical_insurance"])  # SQLite: 0 or 1
                stored[member["id_number"]] = (expected, household_id, village, member)
        # this batch's answer and the one before it (a batch of the checks may begin in the one
        # before): what the batch checks are spared asking
        absent = self.ctx.cache.setdefault(_ABSENT, {})
        absent["earlier"], absent["last"] = absent.get("last", set()), ids - present
        found: dict[int, Row] = {}
        households = self.ctx.cache.setdefault("households", {})
        heads_stored = self.ctx.cache.setdefault(HEADS_STORED, {})
        for number, raw in numbered:
            if len(raw) < self.width:
                raw = raw + (None,) * (self.width - len(raw))
            entry = stored.get(raw[self.id_at])
            if entry is None or self.cells(raw) != entry[0]:
                continue
            status = None if self.status_at is None else raw[self.status_at]
            if status is not None and status != ACTIVE_LABEL:
                continue
            _expected, household_id, village, member = entry
            # what parsing the row gives: the stored values, 成员状态 blank → 空
            parsed = {**member, "status": "" if status is None else MemberStatus.ACTIVE.value}
            households[member["household_no"]] = (household_id, village)
            if member["relation"] == Relation.HEAD:
                # its household's head in the database is this very member (one current head per
                # household): when the file names them its head, ``MembersHandler.finish`` has
                # nothing to compare for that household
                heads_stored[member["household_no"]] = member["id_number"]
            found[number] = Row(number, parsed, refs={"household_id": household_id, "village_code": village})
        return found


def member_ids_absent(ctx: ImportContext) -> set[str]:
    """The 身份证号 the recognition of the last two batches of raw rows found no stored member of
    (of any status): the batch checks need not look them up again."""
    absent = ctx.cache.get(_ABSENT, {})
    return absent.get("earlier", set()) | absent.get("last", set())
