"""Who is told of what: every event reaches the people concerned (in-app, e-mail deliveries, the
robots of the school and district), once per event, naming schools and reports, never a child."""
from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from notices import services as notices
from notices.models import Kind, Robot
from submissions import services
from submissions.models import PackageVersion
from submissions.services.notices import export_ready_notify, flag_notify, unlock_request_notify
from tenancy import services as tenancy_services
from tenancy.roles import Role
from tenancy.scoping import tenant_scope
from tests.support.schools import add_child
from tests.support.scopes import every_tenant
from tests.support.submissions import get_sub

from .helpers import deliveries, returned, submitted
from .helpers import notices as notices_of

ROBOT_URL = "https://oapi.dingtalk.com/robot/send?access_token=abc"


def _emails(*users):
    for u in users:
        u.email = f"{u.username}@example.cn"
        u.save(update_fields=["email"])


def _robot(tree, school=None, kinds=None, channel="dingtalk", actor=None):
    actor = actor or (tree.gupei_admin if school else tree.bureau_admin)
    url = ROBOT_URL if channel == "dingtalk" else "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"
    with tenant_scope([tree.gupei.id]):
        return notices.robot_create(actor=actor, district_id=tree.district.id, school_id=school.id if school else None,
                                    channel=channel, name="群", webhook_url=url, secret="SECabc" if channel == "dingtalk"
                                    else "", kinds=kinds or [k.value for k in Kind if k in notices.ROBOT_KINDS])


def test_a_return_tells_the_school_admin_and_clerk_with_the_reason(tree, report):
    _emails(tree.gupei_admin, tree.gupei_clerk, tree.gupei_teacher)
    school_robot, district_robot = _robot(tree, tree.gupei), _robot(tree)
    _robot(tree, tree.gupei, kinds=[Kind.OVERDUE])  # carries reminders only
    sub = returned(tree, report, reason="请补充三月份活动照片")
    told = notices_of(kind=Kind.SUBMISSION_RETURNED)
    assert sorted(n.user_id for n in told) == sorted([tree.gupei_admin.id, tree.gupei_clerk.id])  # not the teacher
    assert all("请补充三月份活动照片" in n.text and "古沛中心小学" in n.text for n in told)
    assert all(n.link == f"/submissions/{sub.pk}/" and n.district_id == tree.district.id for n in told)
    sent = deliveries(kind=Kind.SUBMISSION_RETURNED)
    assert sorted(d.target for d in sent) == sorted([
        f"user:{tree.gupei_admin.id}", f"user:{tree.gupei_clerk.id}",
        f"robot:{school_robot.id}", f"robot:{district_robot.id}"])
    assert all(d.status == "pending" for d in sent)


def test_accept_and_unlock_are_told(tree, report):
    sub = submitted(tree, report)
    with tenant_scope([tree.gupei.id]):
        services.submission_accept(actor=tree.bureau_admin, submission=sub)
        other = get_sub(tree, report, tree.gupei, 2)
        services.submission_unlock(actor=tree.bureau_admin, submission=other, until=date(2099, 12, 1))
    assert {n.user_id for n in notices_of(kind=Kind.SUBMISSION_ACCEPTED)} == {tree.gupei_admin.id, tree.gupei_clerk.id}
    unlocked = notices_of(kind=Kind.SUBMISSION_UNLOCKED)
    assert {n.user_id for n in unlocked} == {tree.gupei_admin.id, tree.gupei_clerk.id}
    assert all("2099-12-01" in n.text for n in unlocked)


def test_the_same_event_is_notified_once(tree, report):
    _emails(tree.gupei_admin, tree.gupei_clerk)
    robot = _robot(tree, tree.gupei)
    sub = returned(tree, report)
    event_key = notices_of(kind=Kind.SUBMISSION_RETURNED)[0].event_key
    with tenant_scope([tree.gupei.id]):
        for _ in range(2):  # a redelivered task, a double click: the same event again
            notices.notify(event_key=event_key, kind=Kind.SUBMISSION_RETURNED, district_id=tree.district.id,
                           school_id=tree.gupei.id, users=[tree.gupei_admin, tree.gupei_clerk], text="again",
                           link=f"/submissions/{sub.pk}/")
    assert len(notices_of(event_key=event_key)) == 2
    assert len(deliveries(event_key=event_key)) == 3  # two e-mails, one robot post
    assert len(deliveries(event_key=event_key, target=f"robot:{robot.pk}")) == 1


def test_reminders_go_through_notices(tree, report):
    robot = _robot(tree, tree.gupei, kinds=[Kind.OVERDUE])
    services.periods_open(today=date(2026, 4, 15))
    assert services.reminders_send(today=date(2026, 4, 18)) >= 2  # period 1 overdue for Gupei and Village A
    overdue = notices_of(kind=Kind.OVERDUE)
    assert {n.user_id for n in overdue} >= {tree.gupei_admin.id, tree.gupei_clerk.id}
    assert [d.target for d in deliveries(kind=Kind.OVERDUE, channel="dingtalk")] == [f"robot:{robot.pk}"]
    assert services.reminders_send(today=date(2026, 4, 18)) == 0
    assert len(notices_of(kind=Kind.OVERDUE)) == len(overdue)  # each reminder once


def test_a_failed_compile_tells_the_clerk_and_admin_a_finished_one_the_clerk(tree, report):
    services.periods_open(today=date(2026, 4, 15))
    with tenant_scope([tree.gupei.id]):
        sub = get_sub(tree, report, tree.gupei, 1)
        version = services.package_version_start(submission=sub, actor=tree.gupei_clerk)
        assert services.package_version_fail(version=version, error="磁盘已满")
        assert not services.package_version_fail(version=version, error="again")  # already failed: once
        retry = services.package_version_start(submission=sub, actor=tree.gupei_clerk)
        services.package_version_complete(version=retry)
    failed = notices_of(kind=Kind.COMPILE_FAILED)
    assert sorted(n.user_id for n in failed) == sorted([tree.gupei_admin.id, tree.gupei_clerk.id])
    done = notices_of(kind=Kind.COMPILE_DONE)
    assert [n.user_id for n in done] == [tree.gupei_clerk.id]
    with tenant_scope([tree.gupei.id]):
        assert PackageVersion.objects.get(pk=retry.pk).status == "done"


def test_an_export_that_is_ready_tells_the_requester(tree, report):
    from submissions.models import DistrictExport

    services.periods_open(today=date(2026, 4, 15))
    with tenant_scope([tree.gupei.id]):
        period = get_sub(tree, report, tree.gupei, 1).period
        export = services.district_export_request(actor=tree.bureau_admin, period=period, enqueue=False)
    from submissions.exports import run_export

    run_export(export.pk)
    told = notices_of(kind=Kind.EXPORT_READY)
    assert [n.user_id for n in told] == [tree.bureau_admin.id] and told[0].link == "/reporting/exports/"
    with every_tenant():
        export_ready_notify(DistrictExport.objects.get(pk=export.pk))  # a redelivered job: still once
    assert len(notices_of(kind=Kind.EXPORT_READY)) == 1


def test_a_flag_tells_each_school_admin_without_the_other_school(tree, report):
    from submissions.models import SimilarityFlag

    a = submitted(tree, report)
    b = submitted(tree, report, school=tree.menzhuang, actor=tree.menzhuang_admin)
    with every_tenant():
        first, second = sorted([a, b], key=lambda s: s.pk)
        flag = SimilarityFlag.objects.create(submission_a=first, submission_b=second, school=first.school,
                                             school_b=second.school, report_type=report, score=0.9)
        flag_notify(flag)
        flag_notify(flag)
    told = notices_of(kind=Kind.FLAG_RAISED)
    assert sorted(n.user_id for n in told) == sorted([tree.gupei_admin.id, tree.menzhuang_admin.id])
    for n in told:
        mine, theirs = ("古沛", "门庄") if n.user_id == tree.gupei_admin.id else ("门庄", "古沛")
        assert mine in n.text and theirs not in n.text


def test_an_unlock_request_tells_the_bureau(tree, report):
    services.periods_open(today=date(2026, 4, 15))
    with tenant_scope([tree.gupei.id]):
        sub = get_sub(tree, report, tree.gupei, 1)
        unlock_request_notify(sub, requested_by=tree.gupei_clerk, reason="老师生病", event_key="unlock-request:1")
    told = notices_of(kind=Kind.UNLOCK_REQUESTED)
    assert [n.user_id for n in told] == [tree.bureau_admin.id]
    assert "老师生病" in told[0].text and told[0].link.endswith("/review/")


def test_a_role_granted_or_revoked_tells_the_person(tree):
    with tenant_scope([tree.gupei.id]):
        membership = tenancy_services.staff_role_grant(actor=tree.gupei_admin, school=tree.gupei,
                                                       user=tree.gupei_teacher, role=Role.CLERK)
        tenancy_services.staff_role_revoke(actor=tree.gupei_admin, membership=membership)
    granted, revoked = notices_of(kind=Kind.ROLE_GRANTED), notices_of(kind=Kind.ROLE_REVOKED)
    assert [n.user_id for n in granted] == [tree.gupei_teacher.id] == [n.user_id for n in revoked]
    assert "古沛中心小学" in granted[0].text and "Materials clerk" in granted[0].text


def test_notices_name_schools_and_reports_never_a_child(tree, report):
    child = add_child(tree.gupei, 1, name="王小明")
    _emails(tree.gupei_admin, tree.gupei_clerk)
    _robot(tree, tree.gupei)
    returned(tree, report, reason="请补充照片")
    services.reminders_send(today=date(2026, 5, 30))
    texts = [n.text for n in notices_of()] + [d.text + d.title for d in deliveries()]
    assert texts and any("古沛中心小学" in t for t in texts)
    for t in texts:
        assert child.name not in t


def test_email_is_opt_out_per_kind(tree, report):
    _emails(tree.gupei_admin, tree.gupei_clerk)
    notices.email_choices_save(user=tree.gupei_clerk, choices={Kind.SUBMISSION_RETURNED: False})
    returned(tree, report)
    assert [d.user_id for d in deliveries(kind=Kind.SUBMISSION_RETURNED, channel="email")] == [tree.gupei_admin.id]
    assert {n.user_id for n in notices_of(kind=Kind.SUBMISSION_RETURNED)} == {tree.gupei_admin.id, tree.gupei_clerk.id}


def test_robots_only_by_their_admin_and_only_to_the_robot_services(tree):
    with pytest.raises(PermissionDenied):  # a clerk is not the school's admin
        _robot(tree, tree.gupei, actor=tree.gupei_clerk)
    with pytest.raises(PermissionDenied):  # another school's admin
        _robot(tree, tree.gupei, actor=tree.menzhuang_admin)
    with pytest.raises(PermissionDenied):  # a school admin cannot set the district's robot
        _robot(tree, None, actor=tree.gupei_admin)
    for url in ("http://oapi.dingtalk.com/robot/send?access_token=x",  # not https
                "https://169.254.169.254/robot/send?access_token=x",  # anywhere else
                "https://oapi.dingtalk.com.evil.cn/robot/send?access_token=x"):
        with pytest.raises(ValidationError), tenant_scope([tree.gupei.id]):
            notices.robot_create(actor=tree.gupei_admin, district_id=tree.district.id, school_id=tree.gupei.id,
                                 channel="dingtalk", name="群", webhook_url=url, kinds=[Kind.OVERDUE])
    robot = _robot(tree, tree.gupei)
    assert robot.masked_secret() == "••••Cabc" and "abc" not in robot.masked_url()
    with pytest.raises(PermissionDenied), tenant_scope([tree.gupei.id]):
        notices.robot_delete(actor=tree.menzhuang_admin, robot=robot)
    with tenant_scope([tree.gupei.id]):
        notices.robot_delete(actor=tree.gupei_admin, robot=robot)
        assert not Robot.objects.filter(pk=robot.pk).exists()


def test_the_beat_job_sends_again_what_a_receiver_did_not_take(tree, report):
    from datetime import timedelta

    from django.utils import timezone

    from notices.models import Delivery
    from notices.tasks import retry_pending
    from tenancy.models import TaskOutbox

    _robot(tree, tree.gupei)
    returned(tree, report)
    (pending,) = deliveries(kind=Kind.SUBMISSION_RETURNED, channel="dingtalk")
    before = TaskOutbox.objects.filter(task="notices.deliver").count()
    assert retry_pending() == 0  # never tried yet: the after-commit task has it
    with every_tenant():
        Delivery.objects.filter(pk=pending.pk).update(attempts=3, last_error="HTTP 500",
                                                      next_attempt_at=timezone.now() - timedelta(seconds=1))
        Delivery.objects.exclude(pk=pending.pk).update(status="sent")
    assert retry_pending() == 1
    queued = TaskOutbox.objects.filter(task="notices.deliver").order_by("-id").first()
    assert TaskOutbox.objects.filter(task="notices.deliver").count() == before + 1
    assert queued.args == [tree.district.id, pending.event_key]
