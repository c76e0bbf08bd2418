"""Decisions that must be deliberate: narrative versions, resending unchanged, unlock requests and
the bureau's reminders (催报), each audited."""
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from notices.models import Notification
from submissions import selectors, services
from submissions.models import (
    ReminderKind,
    Status,
    SubmissionEvent,
    SubmissionReminder,
    UnlockRequest,
)
from tenancy.models import AccessLog
from tenancy.scoping import tenant_scope
from tests.support.submissions import at, compile_, compiled, district_ids, get_sub, one_day_after_end


def test_a_stale_narrative_save_is_refused(tree, opened):
    with tenant_scope([tree.gupei.id]):
        sub = get_sub(tree, opened, tree.gupei, 1)
        first = services.narrative_update(actor=tree.gupei_admin, submission=sub, sections={"s1": "甲"}, version=0)
        assert first.version == 1
        # The clerk opened the page at version 1 too; the admin saves first.
        services.narrative_update(actor=tree.gupei_admin, submission=sub, sections={"s1": "甲乙"}, version=1)
        with pytest.raises(services.NarrativeConflict, match="saved this narrative while you were editing"):
            services.narrative_update(actor=tree.gupei_clerk, submission=sub, sections={"s1": "丙"}, version=1)
        narrative = sub.narrative
        narrative.refresh_from_db()
        assert (narrative.sections, narrative.version) == ({"s1": "甲乙"}, 2)
        # Based on the current version, the clerk's save goes through.
        assert services.narrative_update(actor=tree.gupei_clerk, submission=sub, sections={"s1": "丙"},
                                         version=2).version == 3


def _returned(tree, opened):
    sub = compiled(tree, opened, tree.gupei, 1, tree.gupei_clerk)
    with tenant_scope([tree.gupei.id]):
        services.narrative_update(actor=tree.gupei_clerk, submission=sub, sections={"s1": "原文"})
        compile_(sub, tree.gupei_clerk)
        sub = services.submission_submit(actor=tree.gupei_clerk, submission=sub, now=one_day_after_end(sub),
                                         enqueue_similarity=False)
        return services.submission_return(actor=tree.bureau_admin, submission=sub, comment="请补充照片",
                                          now=one_day_after_end(sub, 2))


def test_a_returned_submission_sent_back_unchanged_needs_a_reason(tree, opened):
    sub = _returned(tree, opened)
    assert sub.returned_fingerprint
    with tenant_scope([tree.gupei.id]):
        compile_(sub, tree.gupei_clerk)  # a recompile of the same text and records changes nothing
        assert services.resend_is_unchanged(sub)
        with pytest.raises(ValidationError) as refused:
            services.submission_submit(actor=tree.gupei_clerk, submission=sub, now=one_day_after_end(sub, 3))
        assert "note" in refused.value.error_dict
        assert sub.status == Status.RETURNED
        sub = services.submission_submit(actor=tree.gupei_clerk, submission=sub, now=one_day_after_end(sub, 3),
                                         note="  照片已在第二页  ", enqueue_similarity=False)
        assert sub.status == Status.RESUBMITTED
        event = SubmissionEvent.objects.filter(submission=sub).latest("id")
        assert (event.action, event.comment) == ("resubmit", "照片已在第二页")


def test_a_changed_submission_goes_back_without_a_reason(tree, opened):
    sub = _returned(tree, opened)
    with tenant_scope([tree.gupei.id]):
        services.narrative_update(actor=tree.gupei_clerk, submission=sub, sections={"s1": "原文，补充了照片说明"})
        compile_(sub, tree.gupei_clerk)
        assert not services.resend_is_unchanged(sub)
        sub = services.submission_submit(actor=tree.gupei_clerk, submission=sub, now=one_day_after_end(sub, 3),
                                         enqueue_similarity=False)
        assert sub.status == Status.RESUBMITTED


NOW = at(date(2026, 6, 30))  # period 1 (Apr 1–14) has been locked since Apr 29


def test_the_school_admin_asks_for_an_unlock_and_the_bureau_grants_it(tree, opened):
    sub = get_sub(tree, opened, tree.gupei, 1)
    with tenant_scope([tree.gupei.id]):
        for user in (tree.gupei_clerk, tree.gupei_teacher, tree.bureau_admin, tree.menzhuang_admin):
            with pytest.raises(PermissionDenied):
                services.unlock_request_create(actor=user, submission=sub, reason="生病", now=NOW)
        with pytest.raises(ValidationError, match="Say why"):
            services.unlock_request_create(actor=tree.gupei_admin, submission=sub, reason="  ", now=NOW)
        request = services.unlock_request_create(actor=tree.gupei_admin, submission=sub, reason="管理员生病住院",
                                                 now=NOW)
        with pytest.raises(ValidationError, match="already asked"):
            services.unlock_request_create(actor=tree.gupei_admin, submission=sub, reason="再问一次", now=NOW)
        # A report that is not locked has nothing to unlock.
        with pytest.raises(ValidationError, match="not locked"):
            services.unlock_request_create(actor=tree.gupei_admin, submission=get_sub(tree, opened, tree.gupei, 4),
                                           reason="x", now=at(date(2026, 5, 20)))
        with pytest.raises(PermissionDenied):
            services.unlock_request_grant(actor=tree.bureau_inspector, request=request, now=NOW)
        services.unlock_request_grant(actor=tree.bureau_admin, request=request, now=NOW)
        request.refresh_from_db()
        sub.refresh_from_db()
        assert (request.status, request.decided_by) == (UnlockRequest.State.GRANTED, tree.bureau_admin)
        assert sub.unlocked_until == date(2026, 7, 7)
        assert not services.submission_is_locked(sub, date(2026, 6, 30))
        with pytest.raises(services.TransitionConflict):  # a second tap decides nothing
            services.unlock_request_refuse(actor=tree.bureau_admin, request=request, now=NOW)
        actions = list(SubmissionEvent.objects.filter(submission=sub).values_list("action", flat=True))
        assert actions[-2:] == ["unlock_request", "unlock"]
        logged = set(AccessLog.objects.filter(object_type="submissions.unlockrequest", object_id=str(request.pk))
                     .values_list("action", "user_id"))
        assert logged == {("create", tree.gupei_admin.id), ("update", tree.bureau_admin.id)}


def test_the_bureau_refuses_an_unlock(tree, opened):
    sub = get_sub(tree, opened, tree.gupei, 1)
    with tenant_scope([tree.gupei.id]):
        request = services.unlock_request_create(actor=tree.gupei_admin, submission=sub, reason="忘记了", now=NOW)
        services.unlock_request_refuse(actor=tree.bureau_admin, request=request, now=NOW)
        request.refresh_from_db()
        sub.refresh_from_db()
        assert request.status == UnlockRequest.State.REFUSED and sub.unlocked_until is None
        assert SubmissionEvent.objects.filter(submission=sub).latest("id").action == "unlock_refuse"
        # Refused, the school may ask again.
        services.unlock_request_create(actor=tree.gupei_admin, submission=sub, reason="补充说明", now=NOW)


def test_a_reminder_from_the_bureau_reaches_the_school_once_a_day(tree, opened):
    sub = get_sub(tree, opened, tree.gupei, 1)
    with tenant_scope(district_ids(tree)):  # the bureau's scope
        with pytest.raises(PermissionDenied):
            services.submission_remind(actor=tree.gupei_township, submission=sub, now=NOW)
        reminder = services.submission_remind(actor=tree.bureau_admin, submission=sub, now=NOW)
        assert reminder.kind == ReminderKind.MANUAL and reminder.sent_by == tree.bureau_admin
        inbox = list(Notification.objects.filter(user=tree.gupei_clerk).values_list("text", flat=True))
        # In the platform's language, whatever the bureau's (English in these tests).
        assert len(inbox) == 1 and "the bureau asks you to submit" in inbox[0] and sub.school.name in inbox[0]
        with pytest.raises(ValidationError, match="already reminded about this report today"):
            services.submission_remind(actor=tree.bureau_admin, submission=sub, now=NOW + timedelta(hours=2))
        # The next day it may be sent again.
        services.submission_remind(actor=tree.bureau_admin, submission=sub, now=NOW + timedelta(days=1))
        assert SubmissionReminder.objects.filter(submission=sub, kind=ReminderKind.MANUAL).count() == 2
        assert SubmissionEvent.objects.filter(submission=sub, action="remind").count() == 2


def test_remind_all_late_skips_sent_and_already_reminded(tree, opened):
    a1 = get_sub(tree, opened, tree.gupei, 1)
    with tenant_scope(district_ids(tree)):
        services.submission_remind(actor=tree.bureau_admin, submission=a1, now=NOW)
    sent = compiled(tree, opened, tree.menzhuang, 1, tree.menzhuang_admin)
    with tenant_scope([tree.menzhuang.id]):
        services.submission_submit(actor=tree.menzhuang_admin, submission=sent, now=one_day_after_end(sent),
                                   enqueue_similarity=False)
    with tenant_scope(district_ids(tree)):
        late = selectors.late_submissions(user=tree.bureau_admin, report_type=opened, today=date(2026, 6, 30))
        assert sent.pk not in {s.pk for s in late}
        # 3 schools × 4 periods, all due; menzhuang's first was sent.
        assert len(late) == 11
        done, skipped = services.submissions_remind_late(actor=tree.bureau_admin, submissions=late, now=NOW)
    assert (done, skipped) == (10, 1)
