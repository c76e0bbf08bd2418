"""Reminders: N days before the due date and when overdue; in-app and email; each sent once."""
from datetime import date

from django.core import mail

from notices import selectors
from notices import services as notice_services
from notices.models import Delivery, Notification
from submissions import services
from submissions.models import SubmissionReminder
from tenancy.scoping import system_scope, tenant_scope
from tests.support.scopes import user_scope
from tests.support.submissions import at, compile_, district_ids, get_sub


def _emails(tree):
    for user, email in ((tree.gupei_admin, "gupei_admin@example.cn"), (tree.gupei_clerk, "gupei_clerk@example.cn"),
                        (tree.menzhuang_admin, "menzhuang_admin@example.cn"), (tree.gupei_teacher, "t@example.cn")):
        user.email = email
        user.save(update_fields=["email"])


def _send_mail():
    """What the notices.deliver task does (tests/notices run it in a real worker)."""
    with system_scope("the test sends every pending delivery"):
        keys = sorted(set(Delivery.objects.filter(status="pending", kind__in=["due_soon", "overdue"]).values_list("event_key", flat=True)))
        for key in keys:
            notice_services.deliveries_send(event_key=key)


def test_due_soon_and_overdue_reminders_are_sent_once(tree, report):
    _emails(tree)
    services.periods_open(today=date(2026, 4, 15))  # periods 1 (due 04-17) and 2 (due 05-01) open
    with tenant_scope([tree.menzhuang.id]):
        sub = get_sub(tree, report, tree.menzhuang, 1)
        compile_(sub, tree.menzhuang_admin)
        services.submission_submit(actor=tree.menzhuang_admin, submission=sub, now=at(date(2026, 4, 15)))
    # 04-15: period 1 is due in 2 days (remind_days_before=2) for Gupei and Village A.
    assert services.reminders_send(today=date(2026, 4, 15)) == 2
    _send_mail()
    # One e-mail per person (Village A's admin has no address), not the teacher.
    assert sorted(m.to[0] for m in mail.outbox) == ["gupei_admin@example.cn", "gupei_clerk@example.cn"]
    assert all("古沛中心小学" in m.body and "2026-04-17" in m.body for m in mail.outbox)
    assert services.reminders_send(today=date(2026, 4, 16)) == 0  # once
    assert services.reminders_send(today=date(2026, 4, 15)) == 0
    _send_mail()
    assert len(mail.outbox) == 2
    # 04-18: period 1 is overdue for Gupei and Village A; Menzhuang has sent it.
    assert services.reminders_send(today=date(2026, 4, 18)) == 2
    assert services.reminders_send(today=date(2026, 4, 19)) == 0
    _send_mail()
    assert len(mail.outbox) == 4
    with tenant_scope(district_ids(tree)):
        kinds = sorted(SubmissionReminder.objects.values_list("submission__school__code", "kind"))
    assert kinds == [("gupei", "due_soon"), ("gupei", "overdue"), ("gupei-a", "due_soon"), ("gupei-a", "overdue")]
    with user_scope(tree.gupei_clerk):
        inbox = list(selectors.notifications_for(user=tree.gupei_clerk).values_list("text", "link", "is_read"))
        ids = list(selectors.notifications_for(user=tree.gupei_clerk).values_list("id", flat=True))
    assert len(inbox) == 2 and all(not read for _t, _l, read in inbox)
    assert any("was due on 2026-04-17" in t for t, _l, _r in inbox)
    with tenant_scope(district_ids(tree)):
        assert not Notification.objects.filter(user=tree.gupei_teacher).exists()
        assert not Notification.objects.filter(user=tree.menzhuang_admin, kind__in=["due_soon", "overdue"]).exists()
        # Each reminder belongs to the district whose reporting it is about.
        assert set(Notification.objects.values_list("district_id", flat=True)) == {tree.district.id}
    with user_scope(tree.gupei_admin):
        assert notice_services.notification_mark_read(user=tree.gupei_admin, notification_ids=ids) == 0  # not theirs
    with user_scope(tree.gupei_clerk):
        assert notice_services.notification_mark_read(user=tree.gupei_clerk, notification_ids=ids) == 2
        assert not selectors.notifications_for(user=tree.gupei_clerk, unread_only=True).exists()


def test_sent_submissions_get_no_reminder(tree, report):
    services.periods_open(today=date(2026, 4, 15))
    for school, actor in ((tree.gupei, tree.gupei_clerk), (tree.village_a, tree.village_a_admin),
                          (tree.menzhuang, tree.menzhuang_admin)):
        with tenant_scope([school.id]):
            sub = get_sub(tree, report, school, 1)
            compile_(sub, actor)
            services.submission_submit(actor=actor, submission=sub, now=at(date(2026, 4, 15)))
    assert services.reminders_send(today=date(2026, 4, 18)) == 0
