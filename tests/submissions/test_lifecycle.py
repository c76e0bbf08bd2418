"""open → compiled → submitted → accepted | returned → resubmitted; permissions, audit, lock, timeliness."""
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from submissions import selectors, services
from submissions.models import PackageVersion, Status, Submission, SubmissionEvent
from submissions.services import SubmissionLocked, TransitionConflict
from tenancy.models import AccessLog
from tenancy.scoping import tenant_scope
from tests.support.submissions import at, compile_, compiled, get_sub, one_day_after_end


def test_clerk_submits_teacher_cannot(tree, opened):
    sub = compiled(tree, opened, tree.gupei, 1, tree.gupei_clerk)
    assert sub.status == Status.COMPILED
    with tenant_scope([tree.gupei.id]):
        with pytest.raises(PermissionDenied):
            services.submission_submit(actor=tree.gupei_teacher, submission=sub, now=one_day_after_end(sub))
        with pytest.raises(PermissionDenied):  # another school's admin, even if handed the object
            services.submission_submit(actor=tree.menzhuang_admin, submission=sub, now=one_day_after_end(sub))
        sub = services.submission_submit(actor=tree.gupei_clerk, submission=sub, now=one_day_after_end(sub))
        assert sub.status == Status.SUBMITTED
        assert sub.submitted_by == tree.gupei_clerk
        assert sub.timeliness == "on_time"


def test_school_admin_submits_too_and_teacher_cannot_compile(tree, opened):
    with tenant_scope([tree.gupei.id]):
        sub = get_sub(tree, opened, tree.gupei, 1)
        with pytest.raises(PermissionDenied):
            services.package_version_start(submission=sub, actor=tree.gupei_teacher)
        compile_(sub, tree.gupei_admin)
        sub = services.submission_submit(actor=tree.gupei_admin, submission=sub, now=one_day_after_end(sub))
        assert sub.status == Status.SUBMITTED


def test_submit_needs_a_compiled_package(tree, opened):
    with tenant_scope([tree.gupei.id]):
        sub = get_sub(tree, opened, tree.gupei, 1)
        with pytest.raises(ValidationError, match="Compile the package"):
            services.submission_submit(actor=tree.gupei_clerk, submission=sub, now=one_day_after_end(sub))


def test_full_lifecycle_is_audited(tree, opened):
    sub = compiled(tree, opened, tree.gupei, 1, tree.gupei_clerk)
    with tenant_scope([tree.gupei.id]):
        sub = services.submission_submit(actor=tree.gupei_clerk, submission=sub, now=one_day_after_end(sub))
        with pytest.raises(PermissionDenied):
            services.submission_accept(actor=tree.bureau_inspector, submission=sub)
        with pytest.raises(PermissionDenied):
            services.submission_accept(actor=tree.gupei_township, submission=sub)
        with pytest.raises(ValidationError, match="change"):
            services.submission_return(actor=tree.bureau_admin, submission=sub, comment="  ")
        sub = services.submission_return(actor=tree.bureau_admin, submission=sub, comment="请补充照片")
        assert (sub.status, sub.review_comment, sub.reviewed_by) == (Status.RETURNED, "请补充照片", tree.bureau_admin)
        # Returned after the lock date: resubmission is still allowed (the bureau asked for it).
        late = at(sub.period.lock_on + timedelta(days=3))
        compile_(sub, tree.gupei_clerk)
        # Nothing changed since the return: sending it again needs the school's reason.
        sub = services.submission_submit(actor=tree.gupei_clerk, submission=sub, now=late, note="照片已在附件中")
        assert sub.status == Status.RESUBMITTED
        assert sub.timeliness == "on_time"  # decided at the first submission, kept
        sub = services.submission_accept(actor=tree.bureau_admin, submission=sub, comment="好")
        assert sub.status == Status.ACCEPTED
        events = list(selectors.submission_events(submission=sub).values_list("action", "from_status", "to_status"))
        assert events == [
            ("open", "", "open"), ("compile", "open", "compiled"), ("submit", "compiled", "submitted"),
            ("return", "submitted", "returned"), ("compile", "returned", "returned"),
            ("resubmit", "returned", "resubmitted"), ("accept", "resubmitted", "accepted"),
        ]
        actors = list(SubmissionEvent.objects.filter(submission=sub).exclude(action="open").values_list("actor__username", flat=True))
        assert actors == ["gupei_clerk", "gupei_clerk", "bureau_admin", "gupei_clerk", "gupei_clerk", "bureau_admin"]
        logged = list(AccessLog.objects.filter(object_type="submissions.submission", object_id=str(sub.pk))
                      .order_by("id").values_list("action", "detail__transition"))
        assert logged == [("update", "compile"), ("update", "submit"), ("update", "return"),
                          ("update", "resubmit"), ("update", "accept")]


def test_accepted_is_locked(tree, opened):
    sub = compiled(tree, opened, tree.gupei, 1, tree.gupei_clerk)
    with tenant_scope([tree.gupei.id]):
        sub = services.submission_submit(actor=tree.gupei_clerk, submission=sub, now=one_day_after_end(sub))
        sub = services.submission_accept(actor=tree.bureau_admin, submission=sub)
        with pytest.raises(ValidationError, match="accepted and is locked"):
            services.submission_submit(actor=tree.gupei_clerk, submission=sub)
        with pytest.raises(ValidationError):
            services.submission_return(actor=tree.bureau_admin, submission=sub, comment="again")
        with pytest.raises(ValidationError):
            services.narrative_update(actor=tree.gupei_clerk, submission=sub, sections={"s1": "x"})
        with pytest.raises(ValidationError):
            services.package_version_start(submission=sub, actor=tree.gupei_clerk)
        with pytest.raises(ValidationError):
            services.submission_unlock(actor=tree.bureau_admin, submission=sub)
        assert Submission.objects.get(pk=sub.pk).status == Status.ACCEPTED


def test_compare_and_set_refuses_a_stale_second_click(tree, opened):
    sub = compiled(tree, opened, tree.gupei, 1, tree.gupei_clerk)
    with tenant_scope([tree.gupei.id]):
        sub = services.submission_submit(actor=tree.gupei_clerk, submission=sub, now=one_day_after_end(sub))
        first_click = Submission.objects.get(pk=sub.pk)
        second_click = Submission.objects.get(pk=sub.pk)
        services.submission_accept(actor=tree.bureau_admin, submission=first_click)
        with pytest.raises(TransitionConflict, match="changed by someone else"):
            services.submission_return(actor=tree.bureau_admin, submission=second_click, comment="no")
        assert Submission.objects.get(pk=sub.pk).status == Status.ACCEPTED
        assert SubmissionEvent.objects.filter(submission=sub, action__in=["accept", "return"]).count() == 1


def test_timeliness_is_decided_at_submit_time(tree, opened):
    on_time = compiled(tree, opened, tree.gupei, 1, tree.gupei_clerk)
    late = compiled(tree, opened, tree.gupei, 2, tree.gupei_clerk)
    with tenant_scope([tree.gupei.id]):
        # Period 1 ends 2026-04-14: on time up to 04-17 inclusive (local time), late after.
        a = services.submission_submit(actor=tree.gupei_clerk, submission=on_time, now=at(date(2026, 4, 17), 23))
        b = services.submission_submit(actor=tree.gupei_clerk, submission=late, now=at(late.period.end_on + timedelta(days=4), 0))
        assert (a.timeliness, b.timeliness) == ("on_time", "late")


def test_lock_refuses_with_a_clear_message_until_the_bureau_unlocks(tree, opened):
    sub = compiled(tree, opened, tree.gupei, 1, tree.gupei_clerk)
    locked_day = at(sub.period.lock_on)  # 2026-04-29: period end + 14 days + 1
    with tenant_scope([tree.gupei.id]):
        # The day before the lock it is still accepted (late).
        with pytest.raises(SubmissionLocked) as exc:
            services.submission_submit(actor=tree.gupei_clerk, submission=sub, now=locked_day)
        message = " ".join(exc.value.messages)
        assert "locked since 2026-04-29" in message and "Ask the bureau to unlock" in message
        assert Submission.objects.get(pk=sub.pk).status == Status.COMPILED
        with pytest.raises(PermissionDenied):
            services.submission_unlock(actor=tree.gupei_admin, submission=sub, now=locked_day)
        sub = services.submission_unlock(actor=tree.bureau_admin, submission=sub, now=locked_day,
                                         until=date(2026, 5, 3))
        assert sub.unlocked_until == date(2026, 5, 3)
        sub = services.submission_submit(actor=tree.gupei_clerk, submission=sub, now=at(date(2026, 5, 2)))
        assert (sub.status, sub.timeliness) == (Status.SUBMITTED, "late")
        unlock = SubmissionEvent.objects.get(submission=sub, action="unlock")
        assert (unlock.actor, unlock.from_status, unlock.to_status) == (tree.bureau_admin, "compiled", "compiled")


def test_unlock_expires(tree, opened):
    sub = compiled(tree, opened, tree.gupei, 1, tree.gupei_clerk)
    with tenant_scope([tree.gupei.id]):
        sub = services.submission_unlock(actor=tree.bureau_admin, submission=sub, now=at(date(2026, 5, 1)),
                                         until=date(2026, 5, 3))
        with pytest.raises(SubmissionLocked):
            services.submission_submit(actor=tree.gupei_clerk, submission=sub, now=at(date(2026, 5, 4)))


def test_the_day_before_the_lock_is_late_but_accepted(tree, opened):
    sub = compiled(tree, opened, tree.gupei, 1, tree.gupei_clerk)
    with tenant_scope([tree.gupei.id]):
        sub = services.submission_submit(actor=tree.gupei_clerk, submission=sub,
                                         now=at(sub.period.lock_on - timedelta(days=1), 23))
        assert sub.timeliness == "late"


def test_editing_the_narrative_makes_the_package_stale(tree, opened):
    with tenant_scope([tree.gupei.id]):
        sub = get_sub(tree, opened, tree.gupei, 1)
        services.narrative_update(actor=tree.gupei_clerk, submission=sub, sections={"s1": "第一版"})
        compile_(sub, tree.gupei_clerk)
        services.narrative_update(actor=tree.gupei_clerk, submission=sub, sections={"s1": "第二版"})
        with pytest.raises(ValidationError, match="Compile again"):
            services.submission_submit(actor=tree.gupei_clerk, submission=sub, now=one_day_after_end(sub))
        compile_(sub, tree.gupei_clerk)
        assert services.submission_submit(actor=tree.gupei_clerk, submission=sub, now=one_day_after_end(sub)).status == "submitted"
        with pytest.raises(ValidationError, match="Unknown sections"):
            services.narrative_update(actor=tree.gupei_clerk, submission=get_sub(tree, opened, tree.gupei, 2),
                                      sections={"nope": "x"})
        with pytest.raises(PermissionDenied):
            services.narrative_update(actor=tree.gupei_teacher, submission=get_sub(tree, opened, tree.gupei, 2),
                                      sections={"s1": "x"})


def test_package_versions_one_current_deterministic_keys_idempotent_completion(tree, opened):
    with tenant_scope([tree.gupei.id]):
        sub = get_sub(tree, opened, tree.gupei, 1)
        v1 = services.package_version_start(submission=sub, actor=tree.gupei_clerk)
        v2 = services.package_version_start(submission=sub, actor=tree.gupei_clerk)
        assert (v1.version, v2.version) == (1, 2)
        assert v1.storage_key == f"submissions/{tree.gupei.id}/{sub.pk}/v1"
        assert services.package_version_progress(version=v2, progress=40, note="contacts")
        services.package_version_complete(version=v2)
        services.package_version_complete(version=v2)  # redelivered: no change
        services.package_version_complete(version=v1)  # an older compile finishing late stays non-current
        current = list(PackageVersion.objects.filter(submission=sub, is_current=True).values_list("version", flat=True))
        assert current == [2]
        assert not services.package_version_progress(version=v2, progress=50)  # finished: no more progress
        assert selectors.current_package(submission=sub).version == 2
        v3 = services.package_version_start(submission=sub, actor=tree.gupei_clerk)
        assert services.package_version_fail(version=v3, error="boom")
        with pytest.raises(ValidationError, match="failed"):
            services.package_version_complete(version=v3)
        assert selectors.current_package(submission=sub).version == 2
        assert Submission.objects.get(pk=sub.pk).status == Status.COMPILED


def test_another_schools_submission_is_not_found(tree, opened):
    with tenant_scope([tree.gupei.id]):
        gupei_sub = get_sub(tree, opened, tree.gupei, 1)
    # Menzhuang's admin, in Menzhuang's scope: the same "does not exist" as a missing id.
    with tenant_scope([tree.menzhuang.id]):
        with pytest.raises(Submission.DoesNotExist):
            selectors.submission_get(user=tree.menzhuang_admin, submission_id=gupei_sub.pk)
        with pytest.raises(Submission.DoesNotExist):
            selectors.submission_get(user=tree.menzhuang_admin, submission_id=10**9)
        mine = get_sub(tree, opened, tree.menzhuang, 1)
        assert selectors.submission_get(user=tree.menzhuang_admin, submission_id=mine.pk) == mine
        assert gupei_sub.pk not in selectors.submissions_for_school(user=tree.menzhuang_admin, school=tree.menzhuang).values_list("pk", flat=True)
    # Even inside a scope that includes Gupei, a Menzhuang user has no permission on it.
    with tenant_scope([tree.gupei.id, tree.menzhuang.id]):
        with pytest.raises(Submission.DoesNotExist):
            selectors.submission_get(user=tree.menzhuang_admin, submission_id=gupei_sub.pk)
        assert selectors.submission_get(user=tree.bureau_admin, submission_id=gupei_sub.pk) == gupei_sub
