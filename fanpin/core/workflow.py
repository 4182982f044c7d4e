"""Review workflows as declarative state machines (leads, risk elimination, ...).

A ``Workflow`` is the single place that knows who may do which transition in which state.
``workflow.apply(...)`` locks the row, checks the state, the actor's role and region, requires an
opinion where the transition says so, changes the state (plus whatever the caller's ``on_apply``
sets), saves with ``update_fields`` and writes the audit row — all in one transaction.

Usage::

    LEAD_WORKFLOW = Workflow(
        object_type="lead",
        model=Lead,
        region_code=lambda lead: lead.household.village_id,
        transitions=[
            Transition("verify", "村级核实", sources=("NEW",), target="VERIFIED", roles={Role.VILLAGE}),
            Transition("reject", "不予纳入", sources=("NEW", "VERIFIED", "REVIEWED"), target="REJECTED",
                       roles={Role.VILLAGE, Role.TOWNSHIP, Role.COUNTY}, reason_required=True),
        ],
    )
    lead = LEAD_WORKFLOW.apply(pk=lead_id, name="verify", actor=user, opinion="已入户核实")
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction

from fanpin.core.audit import audit_record
from fanpin.core.roles import effective_role
from fanpin.core.scoping import ObjectOutOfScope, ScopedQuerySet

M = TypeVar("M", bound=models.Model)


__all__ = ["ObjectOutOfScope", "Transition", "TransitionNotAllowed", "Workflow"]


class TransitionNotAllowed(ValidationError):
    """The object is not in a state the transition starts from, or not one the actor's role may
    act in (pages and the API answer 409 with the message, ``fanpin.web.errors``)."""


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    sources: tuple[str, ...]
    target: str
    roles: frozenset[str] | set[str]
    reason_required: bool = False
    # Optional narrowing per source state: ``{"NEW": {Role.VILLAGE, Role.COUNTY}}`` — in that state
    # only these roles may apply the transition (the others keep ``roles``).
    roles_in_state: dict[str, frozenset[str] | set[str]] = field(default_factory=dict, hash=False, compare=False)

    def roles_for(self, state: str | None) -> set[str]:
        if state is not None and state in self.roles_in_state:
            return {str(r) for r in self.roles_in_state[state]}
        return {str(r) for r in self.roles}


@dataclass
class Workflow(Generic[M]):
    object_type: str
    model: type[M]
    region_code: Callable[[M], str]
    transitions: Iterable[Transition]
    state_field: str = "state"
    state_labels: dict[str, str] = field(default_factory=dict)
    noun: str = "对象"  # what users call the object, in messages (线索, 帮扶措施, ...)

    def __post_init__(self) -> None:
        self.transitions = tuple(self.transitions)
        self._by_name = {t.name: t for t in self.transitions}
        if len(self._by_name) != len(self.transitions):
            raise ValueError(f"{self.object_type}: duplicate transition names")

    # -- reading ---------------------------------------------------------------------------------
    def transition(self, name: str) -> Transition:
        try:
            return self._by_name[name]
        except KeyError:
            raise ValidationError(f"未知操作：{name}") from None

    def role_may(self, user: Any, transition: Transition, state: str | None = None) -> bool:
        """Whether ``user``'s role may apply ``transition`` (in ``state``, when it narrows roles)."""
        return bool(getattr(user, "is_authenticated", False)) and effective_role(user) in transition.roles_for(
            state
        ) | ({"ADMIN"} if getattr(user, "is_superuser", False) else set())

    def available(self, obj: M, user: Any) -> list[Transition]:
        """The transitions ``user`` may apply to ``obj`` in its current state (for buttons)."""
        state = getattr(obj, self.state_field)
        return [t for t in self.transitions if state in t.sources and self.role_may(user, t, state)]

    def may_ever(self, user: Any, name: str) -> bool:
        """Whether ``user``'s role may apply transition ``name`` in some state (for menus, bulk forms)."""
        t = self.transition(name)
        return any(self.role_may(user, t, state) for state in t.sources)

    def _label(self, state: str) -> str:
        return self.state_labels.get(state, state)

    # -- writing ---------------------------------------------------------------------------------
    def apply(
        self,
        *,
        pk: Any,
        name: str,
        actor: Any,
        opinion: str = "",
        on_apply: Callable[[M], Iterable[str]] | None = None,
        data: dict[str, Any] | None = None,
    ) -> M:
        """Apply transition ``name`` to the object ``pk`` as ``actor``.

        ``on_apply(obj)`` may set further fields (it runs after the checks, before the save) and
        returns their names.  Raises ``ObjectOutOfScope`` (→ 404), ``PermissionDenied`` (→ 403),
        ``TransitionNotAllowed`` (→ 409) or ``ValidationError`` (→ 400, the messages next to the form);
        ``fanpin.web.errors`` maps them for pages and the API.
        """
        transition = self.transition(name)
        opinion = (opinion or "").strip()
        with transaction.atomic():
            obj = self.lock(pk=pk, actor=actor)
            if not any(self.role_may(actor, transition, state) for state in transition.sources):
                raise PermissionDenied(f"您的角色不能执行“{transition.label}”。")
            before = getattr(obj, self.state_field)
            if before not in transition.sources:
                raise TransitionNotAllowed(f"当前状态为“{self._label(before)}”，不能执行“{transition.label}”。")
            if not self.role_may(actor, transition, before):
                raise TransitionNotAllowed(f"当前状态为“{self._label(before)}”，您的角色不能执行“{transition.label}”。")
            if transition.reason_required and not opinion:
                raise ValidationError({"opinion": f"“{transition.label}”必须填写理由。"})
            setattr(obj, self.state_field, transition.target)
            fields = [self.state_field]
            if on_apply is not None:
                fields.extend(on_apply(obj))
            obj.save(update_fields=sorted(set(fields)))
            audit_record(
                actor=actor,
                object_type=self.object_type,
                object_id=obj.pk,
                region_code=self.region_code(obj),
                action=transition.name,
                from_state=before,
                to_state=transition.target,
                reason=opinion,
                data=data,
            )
        return obj

    def lock(self, *, pk: Any, actor: Any) -> M:
        """The row, locked for update, if it is inside the actor's region (else ``ObjectOutOfScope``)."""
        qs = self.model._default_manager.all()
        if not isinstance(qs, ScopedQuerySet):
            raise TypeError(f"{self.model.__name__} is not region-scoped")
        obj = qs.for_user(actor).select_for_update(of=("self",)).filter(pk=pk).first()
        if obj is None:
            raise ObjectOutOfScope(self.noun)
        return obj

    def lock_for_system(self, *, pk: Any) -> M:
        """The row, locked for update, for system services without a user (e.g. merging a new
        source into an open lead).  Never used for a user's transition: ``apply`` scopes."""
        return self.model._default_manager.select_for_update(of=("self",)).get(pk=pk)
