"""Every URL, every role, an object inside and outside the user's region (issue 10).

The list of URLs comes from the URL configuration itself: a new URL without a rule in ``RULES``
fails ``test_every_url_has_an_access_rule``.  Django's admin has its own test (tests/fanpin).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from fanpin.roles import Permission, role_can
from tests.conftest import World

pytestmark = pytest.mark.django_db

ROLES = ["admin", "province", "city", "county", "township", "village", "dept"]
INSIDE_VILLAGE = "520101001001"  # inside every regional test user's scope
OUTSIDE_VILLAGE = "530101001001"  # another province: outside everyone's but the administrator's


@dataclass(frozen=True)
class Rule:
    """How a URL must answer.

    ``kind`` "page": anonymous → redirect to login, role without ``permission`` → 403.
    ``kind`` "api": anonymous → 401/403; a role whose data scope is empty sees empty lists / 404.
    ``obj`` builds the URL kwargs for an object inside or outside the user's region; outside → 404.
    """

    kind: str = "page"
    public: bool = False
    permission: str | None = None
    obj: Callable[[World, bool], dict[str, Any]] | None = None
    personal_data: bool = True
    ok: tuple[int, ...] = (200,)
    methods: tuple[str, ...] = ("get",)
    skip_reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def household(world: World, inside: bool) -> dict[str, Any]:
    return {"pk": world.households[INSIDE_VILLAGE if inside else OUTSIDE_VILLAGE].pk}


def region_pk(world: World, inside: bool) -> dict[str, Any]:
    return {"pk": INSIDE_VILLAGE if inside else OUTSIDE_VILLAGE}


def target(world: World, inside: bool) -> dict[str, Any]:
    from tests.assistance.factories import target_for

    return {"pk": target_for(world.households[INSIDE_VILLAGE if inside else OUTSIDE_VILLAGE]).pk}


def target_measure(world: World, inside: bool) -> dict[str, Any]:
    from tests.assistance.factories import TargetMeasureFactory, target_for

    return {
        "pk": TargetMeasureFactory(
            target=target_for(world.households[INSIDE_VILLAGE if inside else OUTSIDE_VILLAGE])
        ).pk
    }


def proposal(world: World, inside: bool) -> dict[str, Any]:
    from tests.assistance.factories import ProposalFactory, target_for

    household = world.households[INSIDE_VILLAGE if inside else OUTSIDE_VILLAGE]
    return {"pk": ProposalFactory(target=target_for(household), proposed_by=world.users["admin"]).pk}


P = Permission
RULES: dict[str, Rule] = {
    "home": Rule(),
    "login": Rule(public=True, ok=(200, 302)),  # logged-in users are sent home
    "logout": Rule(public=True, methods=("post",), ok=(302,)),
    "monitoring:household_list": Rule(permission=Permission.VIEW_HOUSEHOLDS),
    "monitoring:household_detail": Rule(permission=Permission.VIEW_HOUSEHOLDS, obj=household),
    "api-root": Rule(kind="api", personal_data=False),
    "api-schema": Rule(kind="api", personal_data=False),
    "api-docs": Rule(kind="api", personal_data=False),
    "region-list": Rule(kind="api", personal_data=False),
    "region-detail": Rule(kind="api", obj=region_pk, personal_data=False),
    "household-list": Rule(kind="api"),
    "household-detail": Rule(kind="api", obj=household),
    "assistance:plan_list": Rule(permission=P.VIEW_HOUSEHOLDS),
    "assistance:target_plan": Rule(permission=P.VIEW_HOUSEHOLDS, obj=target),
    "assistance:measure_add": Rule(permission=P.PLAN_ASSISTANCE, obj=target, methods=("post",), ok=(200,)),
    "assistance:elimination_propose": Rule(permission=P.PROPOSE_ELIMINATION, obj=target, methods=("post",), ok=(302,)),
    "assistance:measure_list": Rule(permission=P.VIEW_HOUSEHOLDS),
    "assistance:measure_progress": Rule(permission=P.RECORD_PROGRESS, obj=target_measure, methods=("post",), ok=(302,)),
    "assistance:measure_edit": Rule(permission=P.PLAN_ASSISTANCE, obj=target_measure, methods=("get", "post")),
    "assistance:unassisted": Rule(permission=P.VIEW_HOUSEHOLDS),
    "assistance:elimination_list": Rule(permission=P.VIEW_HOUSEHOLDS),
    "assistance:proposal_detail": Rule(permission=P.VIEW_HOUSEHOLDS, obj=proposal),
    "assistance:proposal_act": Rule(permission=P.DECIDE_ELIMINATION, obj=proposal, methods=("post",), ok=(302,)),
    "assistance-list": Rule(kind="api"),
    "assistance-detail": Rule(kind="api", obj=target_measure),
}


def _walk(patterns: list[Any], namespace: str = "") -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern.url_patterns, ns)
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}{pattern.name or pattern.pattern}"


def url_names() -> list[str]:
    names = {name for name in _walk(get_resolver().url_patterns) if not name.startswith("admin:")}
    return sorted(names)


def test_every_url_has_an_access_rule() -> None:
    missing = [name for name in url_names() if name not in RULES]
    assert not missing, f"URLs without an access rule in tests/security/test_url_access.py: {missing}"
    stale = [name for name in RULES if name not in url_names()]
    assert not stale, f"rules for URLs that no longer exist: {stale}"


def _role(user: Any) -> str:
    return "ADMIN" if user.is_superuser else user.role


def expected_status(rule: Rule, world: World, role: str | None, inside: bool) -> tuple[int, ...]:
    if rule.public:
        return rule.ok
    if role is None:
        return (302,) if rule.kind == "page" else (401, 403)
    user = world.users[role]
    if rule.permission and not role_can(_role(user), rule.permission):
        return (403,)
    if rule.obj is not None:
        sees_data = rule.personal_data is False or _role(user) != "DEPT"
        if role == "admin":
            return rule.ok
        if not inside or not sees_data:
            return (404,)
    return rule.ok


CASES = [
    (name, role, inside)
    for name, rule in RULES.items()
    for role in [None, *ROLES]
    for inside in ((True, False) if rule.obj else (True,))
]


@pytest.mark.parametrize(
    ("name", "role", "inside"), CASES, ids=[f"{n}-{r}-{'in' if i else 'out'}" for n, r, i in CASES]
)
def test_url_answers_as_its_rule_says(world: World, name: str, role: str | None, inside: bool) -> None:
    rule = RULES[name]
    if rule.skip_reason:
        pytest.skip(rule.skip_reason)
    client = Client()
    if role is not None:
        client.force_login(world.users[role])
    url = reverse(name, kwargs=rule.obj(world, inside) if rule.obj else None)
    for method in rule.methods:
        response = getattr(client, method)(url)
        expected = expected_status(rule, world, role, inside)
        assert response.status_code in expected, (name, role, inside, method, response.status_code)
        if response.status_code == 302 and role is None and not rule.public:
            assert response["Location"].startswith(reverse("login"))
