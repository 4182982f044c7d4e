"""The generic transition machinery (fanpin.core.workflow), exercised on a stand-in state field.

Lead and elimination workflows have their own role × transition matrix tests.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from fanpin.core.models import AuditEntry
from fanpin.core.roles import Role
from fanpin.core.workflow import ObjectOutOfScope, Transition, TransitionNotAllowed, Workflow
from monitoring.models import Household
from tests.conftest import World

pytestmark = pytest.mark.django_db

# household_type stands in for a state: GENERAL → EDGE (village) → GENERAL (county, reason needed)
FLOW: Workflow[Household] = Workflow(
    object_type="household_test",
    model=Household,
    region_code=lambda h: h.village_id,
    state_field="household_type",
    state_labels={"GENERAL": "一般农户", "EDGE": "边缘户"},
    transitions=[
        Transition("mark", "标记", sources=("GENERAL",), target="EDGE", roles={Role.VILLAGE}),
        Transition(
            "unmark", "取消标记", sources=("EDGE",), target="GENERAL", roles={Role.COUNTY}, reason_required=True
        ),
    ],
)


def test_allowed_transition_changes_state_and_writes_audit(world: World) -> None:
    household = world.households["520101001001"]
    FLOW.apply(pk=household.pk, name="mark", actor=world.users["village"], opinion="入户核实")
    household.refresh_from_db()
    assert household.household_type == "EDGE"
    entry = AuditEntry.objects.get(object_type="household_test")
    assert (entry.actor, entry.action, entry.from_state, entry.to_state, entry.reason, entry.region_code) == (
        world.users["village"],
        "mark",
        "GENERAL",
        "EDGE",
        "入户核实",
        "520101001001",
    )


def test_wrong_role_is_refused(world: World) -> None:
    household = world.households["520101001001"]
    with pytest.raises(PermissionDenied, match="不能执行“标记”"):
        FLOW.apply(pk=household.pk, name="mark", actor=world.users["township"])
    assert not AuditEntry.objects.exists()


def test_wrong_state_is_refused_with_the_state_named(world: World) -> None:
    household = world.households["520101001001"]
    with pytest.raises(TransitionNotAllowed, match="当前状态为“一般农户”，不能执行“取消标记”"):
        FLOW.apply(pk=household.pk, name="unmark", actor=world.users["county"], opinion="x")


def test_reason_required(world: World) -> None:
    household = world.households["520101001001"]
    FLOW.apply(pk=household.pk, name="mark", actor=world.users["village"])
    with pytest.raises(ValidationError, match="必须填写理由"):
        FLOW.apply(pk=household.pk, name="unmark", actor=world.users["county"], opinion="  ")
    household.refresh_from_db()
    assert household.household_type == "EDGE"


def test_outside_region_is_out_of_scope(world: World) -> None:
    other = world.households["520101001002"]  # same township, another village
    with pytest.raises(ObjectOutOfScope):
        FLOW.apply(pk=other.pk, name="mark", actor=world.users["village"])


def test_available_lists_what_the_user_may_do(world: World) -> None:
    household = world.households["520101001001"]
    assert [t.name for t in FLOW.available(household, world.users["village"])] == ["mark"]
    assert FLOW.available(household, world.users["county"]) == []
    assert [t.name for t in FLOW.available(household, world.users["admin"])] == ["mark"]


# roles narrowed per source state: township may close only at its own step, county at any step
NARROW: Workflow[Household] = Workflow(
    object_type="household_test",
    model=Household,
    region_code=lambda h: h.village_id,
    state_field="household_type",
    state_labels={"GENERAL": "一般农户", "EDGE": "边缘户"},
    transitions=[
        Transition(
            "close",
            "关闭",
            sources=("GENERAL", "EDGE"),
            target="EDGE",
            roles={Role.TOWNSHIP, Role.COUNTY},
            roles_in_state={"GENERAL": {Role.COUNTY}},
        ),
    ],
)


def test_roles_in_state_narrow_who_may_act_in_that_state(world: World) -> None:
    household = world.households["520101001001"]
    assert NARROW.available(household, world.users["township"]) == []
    assert [t.name for t in NARROW.available(household, world.users["county"])] == ["close"]
    assert NARROW.may_ever(world.users["township"], "close")
    assert not NARROW.may_ever(world.users["village"], "close")
    with pytest.raises(TransitionNotAllowed, match="您的角色不能执行“关闭”"):
        NARROW.apply(pk=household.pk, name="close", actor=world.users["township"])
    with pytest.raises(PermissionDenied):
        NARROW.apply(pk=household.pk, name="close", actor=world.users["village"])
    household.household_type = "EDGE"
    household.save(update_fields=["household_type"])
    NARROW.apply(pk=household.pk, name="close", actor=world.users["township"])
    assert AuditEntry.objects.get(action="close").from_state == "EDGE"
