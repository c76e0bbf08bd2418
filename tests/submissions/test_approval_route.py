"""The approval route along the org tree: village school → township centre school → bureau,
driven through the services. Each step checks what each level sees (approval_states), the
school's locks, the audit trail (SubmissionEvent with actor, level and reason) and the notices."""
import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from notices.models import Kind, Notification
from submissions import selectors, services
from submissions.models import ApprovalRoute, Level, Status, Submission, SubmissionEvent
from tenancy.models import AccessLog
from tenancy.scoping import tenant_scope
from tests.support.submissions import compile_, district_ids, get_sub, one_day_after_end

S = selectors.ApprovalState


@pytest.fixture
def via_centre(tree, opened):
    return services.report_type_update(actor=tree.bureau_admin, report_type=opened, route=ApprovalRoute.VIA_CENTRE)


def _states(tree, report, sub):
    with tenant_scope(district_ids(tree)):
        school = type(tree.village_a).objects.get(pk=tree.village_a.pk)
        centre = selectors.approval_states(report, sub.period, [school], level=Level.CENTRE)[school.id]
        bureau = selectors.approval_states(report, sub.period, [school], level=Level.BUREAU)[school.id]
        # The ORM filter follows the same rule as the per-row function.
        for level, state in ((Level.CENTRE, centre), (Level.BUREAU, bureau)):
            assert Submission.objects.filter(selectors.approval_state_q(state, level), pk=sub.pk).exists()
        return centre, bureau


def _reload(sub):
    with tenant_scope([sub.school_id]):
        return Submission.objects.select_related("school", "report_type", "period").get(pk=sub.pk)


def _notices(user, kind):
    m = user.memberships.select_related("school").first()
    with tenant_scope(district_ids=[m.district_id or m.school.district_id]):
        return list(Notification.objects.filter(user=user, kind=kind).order_by("id").values_list("text", flat=True))


def _village_sends(tree, sub, text, day, note=""):
    with tenant_scope([tree.village_a.id]):
        services.narrative_update(actor=tree.village_a_admin, submission=sub, sections={"s1": text})
        compile_(sub, tree.village_a_admin)
        return services.submission_submit(actor=tree.village_a_admin, submission=sub, note=note,
                                          now=one_day_after_end(sub, day), enqueue_similarity=False)


def _village_is_locked(tree, sub):
    with tenant_scope([tree.village_a.id]):
        sub = _reload(sub)
        assert not services.school_may_edit(sub)
        with pytest.raises(ValidationError):
            services.submission_compile_request(actor=tree.village_a_admin, submission=sub, enqueue=False)
        with pytest.raises(ValidationError):
            services.submission_submit(actor=tree.village_a_admin, submission=sub, note="再交一次",
                                       enqueue_similarity=False)
        with pytest.raises(ValidationError):
            services.narrative_update(actor=tree.village_a_admin, submission=sub, sections={"s1": "改"})


def test_the_whole_chain_for_one_period(tree, via_centre):
    scope = district_ids(tree)
    sub = get_sub(tree, via_centre, tree.village_a, 1)
    assert selectors.approval_state(sub) == S.NOT_SENT
    assert _states(tree, via_centre, sub) == (S.WAITING_BELOW, S.NOT_SENT)

    # 1. The village school submits: its centre must review it first.
    sub = _village_sends(tree, sub, "第一稿", 1)
    assert sub.status == Status.SUBMITTED
    assert _states(tree, via_centre, sub) == (S.READY, S.WAITING_BELOW)
    assert len(_notices(tree.gupei_township, Kind.TO_APPROVE)) == 1
    with tenant_scope(scope):
        with pytest.raises(ValidationError, match="centre school has not approved"):
            services.submission_accept(actor=tree.bureau_admin, submission=_reload(sub))
        # Neither the village school's own admin nor the bureau approves at the centre level.
        for outsider in (tree.village_a_admin, tree.bureau_admin, tree.gupei_admin):
            with pytest.raises(PermissionDenied):
                services.submission_approve(actor=outsider, submission=_reload(sub))

        # 2. The centre returns it, with its reason (required).
        with pytest.raises(ValidationError):
            services.submission_centre_return(actor=tree.gupei_township, submission=_reload(sub), comment="  ")
        sub = services.submission_centre_return(actor=tree.gupei_township, submission=_reload(sub),
                                                comment="缺少活动照片", now=one_day_after_end(sub, 2))
    assert (sub.status, sub.returned_level) == (Status.RETURNED, Level.CENTRE)
    assert _states(tree, via_centre, sub) == (S.RETURNED, S.WAITING_BELOW)
    assert any("缺少活动照片" in t for t in _notices(tree.village_a_admin, Kind.SUBMISSION_RETURNED))

    # 3. The village school fixes it and sends it again.
    sub = _village_sends(tree, _reload(sub), "第二稿，补充了照片", 3)
    assert sub.status == Status.RESUBMITTED
    assert _states(tree, via_centre, sub) == (S.READY, S.WAITING_BELOW)
    assert len(_notices(tree.gupei_township, Kind.TO_APPROVE)) == 2

    # 4. The centre approves: waiting for the bureau, locked for the school.
    with tenant_scope(scope):
        sub = services.submission_approve(actor=tree.gupei_township, submission=_reload(sub),
                                          now=one_day_after_end(sub, 4))
    assert (sub.status, sub.approved_by) == (Status.APPROVED, tree.gupei_township)
    assert _states(tree, via_centre, sub) == (S.PASSED, S.READY)
    _village_is_locked(tree, sub)
    assert len(_notices(tree.bureau_admin, Kind.CENTRE_APPROVED)) == 1

    # 5. The bureau returns it: to the centre, not to the school.
    with tenant_scope(scope):
        sub = services.submission_return(actor=tree.bureau_admin, submission=_reload(sub), comment="人数与台账不一致",
                                         now=one_day_after_end(sub, 5))
    assert (sub.status, sub.returned_level, sub.approved_at) == (Status.RETURNED, Level.BUREAU, None)
    assert _states(tree, via_centre, sub) == (S.READY, S.RETURNED)
    _village_is_locked(tree, sub)
    assert any("人数与台账不一致" in t for t in _notices(tree.gupei_township, Kind.SUBMISSION_RETURNED))
    assert not any("人数与台账不一致" in t for t in _notices(tree.village_a_admin, Kind.SUBMISSION_RETURNED))

    # 6. The centre returns it to the village school: both reasons travel down.
    with tenant_scope(scope):
        sub = services.submission_centre_return(actor=tree.gupei_township, submission=_reload(sub),
                                                comment="请核对在册人数", now=one_day_after_end(sub, 6))
    assert (sub.status, sub.returned_level) == (Status.RETURNED, Level.CENTRE)
    assert _states(tree, via_centre, sub) == (S.RETURNED, S.WAITING_BELOW)
    last = _notices(tree.village_a_admin, Kind.SUBMISSION_RETURNED)[-1]
    assert "请核对在册人数" in last and "人数与台账不一致" in last

    # 7. The village school resubmits; 8. the centre approves; 9. the bureau accepts.
    sub = _village_sends(tree, _reload(sub), "第三稿，人数已核对", 7)
    assert _states(tree, via_centre, sub) == (S.READY, S.WAITING_BELOW)
    with tenant_scope(scope):
        sub = services.submission_approve(actor=tree.gupei_township, submission=_reload(sub), comment="已核对",
                                          now=one_day_after_end(sub, 8))
        assert _states(tree, via_centre, sub) == (S.PASSED, S.READY)
        sub = services.submission_accept(actor=tree.bureau_admin, submission=_reload(sub),
                                         now=one_day_after_end(sub, 9))
    assert sub.status == Status.ACCEPTED
    assert _states(tree, via_centre, sub) == (S.PASSED, S.PASSED)
    assert len(_notices(tree.bureau_admin, Kind.CENTRE_APPROVED)) == 2
    assert len(_notices(tree.village_a_admin, Kind.SUBMISSION_ACCEPTED)) == 1

    with tenant_scope([tree.village_a.id]):
        trail = [(e.action, e.level, e.actor_id, e.comment) for e in SubmissionEvent.objects.filter(
            submission=sub, action__in=["submit", "resubmit", "approve", "return", "accept"])]
        # Every transition is in the access log as well.
        logged = AccessLog.objects.filter(object_id=str(sub.pk), detail__transition__isnull=False).count()
    va, twp, bur = tree.village_a_admin.pk, tree.gupei_township.pk, tree.bureau_admin.pk
    assert trail == [
        ("submit", Level.SCHOOL, va, ""),
        ("return", Level.CENTRE, twp, "缺少活动照片"),
        ("resubmit", Level.SCHOOL, va, ""),
        ("approve", Level.CENTRE, twp, ""),
        ("return", Level.BUREAU, bur, "人数与台账不一致"),
        ("return", Level.CENTRE, twp, "请核对在册人数"),
        ("resubmit", Level.SCHOOL, va, ""),
        ("approve", Level.CENTRE, twp, "已核对"),
        ("accept", Level.BUREAU, bur, ""),
    ]
    assert logged >= len(trail)


def test_the_centre_may_withdraw_only_before_the_bureau_decides(tree, via_centre):
    sub = _village_sends(tree, get_sub(tree, via_centre, tree.village_a, 1), "稿", 1)
    with tenant_scope(district_ids(tree)):
        sub = services.submission_approve(actor=tree.gupei_township, submission=_reload(sub))
        sub = services.submission_approval_withdraw(actor=tree.gupei_township, submission=_reload(sub),
                                                    comment="还需核对")
        assert (sub.status, sub.approved_by) == (Status.SUBMITTED, None)
        assert len(_notices(tree.bureau_admin, Kind.APPROVAL_WITHDRAWN)) == 1
        sub = services.submission_approve(actor=tree.gupei_township, submission=_reload(sub))
        sub = services.submission_accept(actor=tree.bureau_admin, submission=_reload(sub))
        with pytest.raises(ValidationError):
            services.submission_approval_withdraw(actor=tree.gupei_township, submission=_reload(sub))
        event = SubmissionEvent.objects.filter(submission=sub, action="withdraw").get()
    assert (event.level, event.actor_id, event.comment) == (Level.CENTRE, tree.gupei_township.pk, "还需核对")


def test_centre_schools_own_reports_and_direct_types_go_straight_to_the_bureau(tree, opened, via_centre):
    with tenant_scope([tree.gupei.id]):
        sub = get_sub(tree, via_centre, tree.gupei, 1)
        services.narrative_update(actor=tree.gupei_clerk, submission=sub, sections={"s1": "中心校"})
        compile_(sub, tree.gupei_clerk)
        sub = services.submission_submit(actor=tree.gupei_clerk, submission=sub, now=one_day_after_end(sub),
                                         enqueue_similarity=False)
        assert selectors.approval_state(sub) == S.READY
        assert not services.may_approve(tree.gupei_township, sub)
    with tenant_scope(district_ids(tree)):
        assert services.submission_accept(actor=tree.bureau_admin, submission=_reload(sub)).status == Status.ACCEPTED
    # Back on the direct route a village submission is the bureau's at once.
    services.report_type_update(actor=tree.bureau_admin, report_type=via_centre, route=ApprovalRoute.DIRECT)
    sub = _village_sends(tree, get_sub(tree, via_centre, tree.village_a, 2), "直报", 1)
    with tenant_scope(district_ids(tree)):
        assert selectors.approval_state(_reload(sub)) == S.READY
        with pytest.raises(PermissionDenied):
            services.submission_approve(actor=tree.gupei_township, submission=_reload(sub))


def test_bulk_is_all_or_nothing(tree, via_centre):
    subs = [_village_sends(tree, get_sub(tree, via_centre, tree.village_a, seq), f"稿{seq}", 1) for seq in (1, 2)]
    with tenant_scope(district_ids(tree)):
        services.submission_approve(actor=tree.gupei_township, submission=_reload(subs[1]))
        with pytest.raises(ValidationError):  # two periods
            services.submissions_approve_many(actor=tree.gupei_township, submissions=[_reload(s) for s in subs])
        with pytest.raises(ValidationError, match="Nothing was changed"):
            services.submissions_centre_return_many(actor=tree.gupei_township, submissions=[_reload(subs[1])],
                                                    comment="再看看")
        assert _reload(subs[0]).status == Status.SUBMITTED
        assert _reload(subs[1]).status == Status.APPROVED
