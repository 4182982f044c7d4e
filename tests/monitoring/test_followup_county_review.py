"""县级复核 of a green-channel follow-up whose 民主评议 did not agree: the county keeps the
identification in writing; the follow-up stops waiting for it (list, 待办, elimination criterion,
公告), audited; only the county of the region may answer, once."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from assistance.selectors.elimination import elimination_criteria
from assistance.selectors.todo import home_todo
from fanpin.core.models import AuditEntry
from fanpin.core.scoping import ObjectOutOfScope
from fanpin.core.workflow import TransitionNotAllowed
from monitoring.models import FollowUp, FollowUpState, MonitoringTarget, TargetStatus
from monitoring.selectors.followups import follow_ups_in_scope
from monitoring.services.followups import follow_up_county_review, follow_up_step_record
from tests.conftest import World
from tests.monitoring.test_followups import appraisal, direct, home_check

pytestmark = pytest.mark.django_db


def disagreed(world: World) -> FollowUp:
    target = direct(world)
    f = FollowUp.objects.get(target=target)
    village = world.users["village"]
    follow_up_step_record(follow_up_id=f.pk, actor=village, record=home_check())
    follow_up_step_record(follow_up_id=f.pk, actor=village, record=appraisal(outcome="DISAGREED"))
    f.refresh_from_db()
    assert f.county_review_waiting
    return f


def _follow_up_criterion(target: MonitoringTarget) -> tuple[str, bool]:
    assessment = elimination_criteria(target=target, today=timezone.localdate())
    c = next(c for c in assessment.criteria if c.code == "FOLLOW_UP")
    return c.value, c.met


def test_the_county_keeps_the_identification_on_the_page_audited(world: World) -> None:
    f = disagreed(world)
    county = world.client_for("county")
    url = reverse("monitoring:followup", args=[f.pk])
    page = county.get(url).content.decode()
    assert 'data-testid="followup-county-review-form"' in page and 'data-testid="followup-review"' in page
    assert _follow_up_criterion(f.target) == ("补办的民主评议不同意，待县级复核", False)

    post = reverse("monitoring:followup_county_review", args=[f.pk])
    empty = county.post(post, {"note": "   "})
    assert empty.status_code == 400 and "请填写县级复核意见" in empty.content.decode()
    too_long = county.post(post, {"note": "长" * 501})
    assert too_long.status_code == 400 and "不能超过 500 个字" in too_long.content.decode()
    f.refresh_from_db()
    assert f.county_reviewed_at is None and not AuditEntry.objects.filter(action="follow_up_county_review").exists()

    ok = county.post(post, {"note": "该户因病支出大，经县级研究维持认定。"})
    assert ok.status_code == 302
    f.refresh_from_db()
    assert (f.county_reviewed_by, f.county_review_note) == (
        world.users["county"],
        "该户因病支出大，经县级研究维持认定。",
    )
    assert not f.county_review_waiting and f.state == FollowUpState.DONE
    entry = AuditEntry.objects.get(action="follow_up_county_review")
    assert entry.actor == world.users["county"] and "维持认定" in entry.reason and entry.object_id == str(f.pk)

    page = county.get(url).content.decode()
    assert 'data-testid="followup-county-review-form"' not in page
    assert 'data-testid="followup-county-reviewed"' in page and "经县级研究维持认定" in page
    assert 'data-testid="followup-review"' not in page  # no longer 需县级复核
    target_page = county.get(reverse("monitoring:target_detail", args=[f.target_id])).content.decode()
    assert 'data-testid="followup-county-reviewed"' in target_page
    assert list(follow_ups_in_scope(user=world.users["county"], state="REVIEW")) == []
    assert _follow_up_criterion(f.target) == ("补办的民主评议不同意，县级复核维持认定", True)
    # the same form sent again: answered already
    assert county.post(post, {"note": "再次"}).status_code == 409
    assert AuditEntry.objects.filter(action="follow_up_county_review").count() == 1


def test_the_county_todo_counts_it_until_answered(world: World) -> None:
    f = disagreed(world)

    def waiting() -> int:
        todo = home_todo(user=world.users["county"])
        return sum(item.count for item in todo if "复核" in item.label)

    assert waiting() == 1
    follow_up_county_review(follow_up_id=f.pk, actor=world.users["county"], note="维持")
    assert waiting() == 0


def test_only_the_county_of_the_region_answers_and_only_what_was_sent_back(world: World) -> None:
    f = disagreed(world)
    for role in ("village", "township"):
        with pytest.raises(PermissionDenied):
            follow_up_county_review(follow_up_id=f.pk, actor=world.users[role], note="维持")
        assert world.client_for(role).post(
            reverse("monitoring:followup_county_review", args=[f.pk]), {"note": "维持"}
        ).status_code == 403  # fmt: skip
    outsider = world.users["county"]
    outsider.region_id = "520102000000"
    with pytest.raises(ObjectOutOfScope):
        follow_up_county_review(follow_up_id=f.pk, actor=outsider, note="维持")
    outsider.refresh_from_db()
    # a follow-up the village completed normally was not sent back
    other = FollowUp.objects.get(target=direct(world, village="520101001002"))
    with pytest.raises(TransitionNotAllowed, match="没有提请县级复核"):
        follow_up_county_review(follow_up_id=other.pk, actor=outsider, note="维持")
    with pytest.raises(ValidationError):
        follow_up_county_review(follow_up_id=f.pk, actor=outsider, note="")
    # an eliminated target is not reviewed any more
    MonitoringTarget.objects.filter(pk=f.target_id).update(
        status=TargetStatus.ELIMINATED, eliminated_on=timezone.localdate(), elimination_method="ASSISTED"
    )
    with pytest.raises(TransitionNotAllowed, match="已风险消除"):
        follow_up_county_review(follow_up_id=f.pk, actor=outsider, note="维持")
    assert not AuditEntry.objects.filter(action="follow_up_county_review").exists()


def test_the_database_refuses_an_answer_nobody_asked_for(world: World) -> None:
    from django.db import IntegrityError, transaction

    f = FollowUp.objects.get(target=direct(world))
    with pytest.raises(IntegrityError), transaction.atomic():
        FollowUp.objects.filter(pk=f.pk).update(county_reviewed_at=timezone.now(), county_review_note="x")


def test_api_shows_the_answer(world: World) -> None:
    f = disagreed(world)
    follow_up_county_review(follow_up_id=f.pk, actor=world.users["county"], note="维持认定")
    rows = world.client_for("county").get("/api/v1/follow-ups/?county_review=true").json()["results"]
    assert [(r["county_review_note"], r["county_reviewed_at"] is not None) for r in rows] == [("维持认定", True)]


def test_the_county_s_opinion_is_masked_for_those_who_see_no_full_numbers(world: World) -> None:
    """The opinion is free text typed by a cadre, like a rejection reason: a 身份证号 or a phone
    written into it is masked on the village's and township's pages and in their API (SPEC §1);
    the county, who sees full numbers, reads it as typed."""
    f = disagreed(world)
    number, phone = "520101198005170077", "13912345678"
    note = f"户主{number}（电话{phone}）因病支出大，维持认定。"
    follow_up_county_review(follow_up_id=f.pk, actor=world.users["county"], note=note)
    pages = [reverse("monitoring:followup", args=[f.pk]), reverse("monitoring:target_detail", args=[f.target_id])]
    for role in ("village", "township"):
        client = world.client_for(role)
        for url in pages:
            page = client.get(url).content.decode()
            assert "因病支出大" in page and number not in page and phone not in page, (role, url)
            assert "520101********0077" in page
        rows = client.get("/api/v1/follow-ups/?county_review=true").json()["results"]
        assert [r["county_review_note"] for r in rows] == [
            "户主520101********0077（电话139****5678）因病支出大，维持认定。"
        ]
    county = world.client_for("county").get(pages[0]).content.decode()
    assert number in county


def test_an_opinion_the_browser_let_through_is_not_refused_for_its_line_breaks(world: World) -> None:
    """The textarea's maxlength counts a line break as one character; the browser sends it as CRLF.
    An opinion of 500 characters over two lines is accepted (stored with a plain line break)."""
    f = disagreed(world)
    note = "长" * 300 + "\r\n" + "短" * 199  # 500 characters as the browser counts them
    response = world.client_for("county").post(
        reverse("monitoring:followup_county_review", args=[f.pk]), {"note": note}
    )
    assert response.status_code == 302, response.content.decode()[-400:]
    f.refresh_from_db()
    assert f.county_review_note == "长" * 300 + "\n" + "短" * 199
