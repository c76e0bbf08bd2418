"""Edit pages of proxy-parent and study records: training meetings, work record entries, tutoring
sessions, proxy assignments and study pairs (list, detail and edit pages for every record)."""
from __future__ import annotations

import datetime as dt

from django.urls import reverse

from schools import services
from schools.models import (
    ProxyAssignment,
    StudyPair,
    TrainingAttendance,
    TrainingMeeting,
    TutoringSession,
    WorkRecordEntry,
)
from tenancy.models import AccessLog
from tenancy.scoping import tenant_scope
from tests.support.schools import home, semester, today  # noqa: F401  (fixtures)


def _in(home, fn):
    with tenant_scope([home.gupei.id]):
        return fn()


# ---------------------------------------------------------------- training meetings
def test_clerk_edits_a_meeting_and_its_attendees_then_deletes_it(client, home, today):
    meeting = _in(home, lambda: services.training_meeting_create(
        actor=None, school=home.gupei, date=today, topic="培训", attendees=[home.gupei_teacher]))
    client.force_login(home.gupei_clerk)
    detail = reverse("meeting_detail", args=[home.gupei.pk, meeting.pk])
    url = reverse("meeting_edit", args=[home.gupei.pk, meeting.pk])
    assert url in client.get(detail).content.decode()
    html = client.get(url).content.decode()
    assert 'value="培训"' in html
    day = today - dt.timedelta(days=2)
    response = client.post(url, {"date": day.isoformat(), "topic": "代理家长培训会", "minutes": "学习文件",
                                 "attendees": [home.gupei_admin.pk]})
    assert response.status_code == 302 and response["Location"] == detail
    with tenant_scope([home.gupei.id]):
        meeting.refresh_from_db()
        assert (meeting.date, meeting.topic, meeting.minutes) == (day, "代理家长培训会", "学习文件")
        assert list(TrainingAttendance.objects.filter(meeting=meeting).values_list("user_id", flat=True)) == [
            home.gupei_admin.pk]
    # A date in the future is refused with the field's error, nothing changes.
    response = client.post(url, {"date": (today + dt.timedelta(days=1)).isoformat(), "topic": "x"})
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert _in(home, lambda: TrainingMeeting.objects.get().topic) == "代理家长培训会"
    response = client.post(url, {"action": "delete"})
    assert response["Location"] == reverse("meetings", args=[home.gupei.pk])
    assert not _in(home, lambda: TrainingMeeting.objects.exists())


def test_teacher_is_sent_to_the_meeting_and_cannot_post(client, home, today):
    meeting = _in(home, lambda: services.training_meeting_create(actor=None, school=home.gupei, date=today, topic="培训"))
    client.force_login(home.gupei_teacher)
    url = reverse("meeting_edit", args=[home.gupei.pk, meeting.pk])
    assert client.get(url)["Location"] == reverse("meeting_detail", args=[home.gupei.pk, meeting.pk])
    assert client.post(url, {"action": "delete"}).status_code == 403
    assert client.post(url, {"date": today.isoformat(), "topic": "改"}).status_code == 403
    assert _in(home, lambda: TrainingMeeting.objects.get().topic) == "培训"
    assert url not in client.get(reverse("meeting_detail", args=[home.gupei.pk, meeting.pk])).content.decode()


# ---------------------------------------------------------------- work record book
def _entry(home, today, author=None):
    return _in(home, lambda: services.work_record_add(actor=author or home.gupei_teacher, school=home.gupei,
                                                      date=today, text="本周家访两次", child=home.g[0]))


def test_author_opens_edits_and_deletes_an_entry(client, home, today):
    entry = _entry(home, today)
    client.force_login(home.gupei_teacher)
    detail = reverse("work_record_detail", args=[home.gupei.pk, entry.pk])
    assert detail in client.get(reverse("work_records", args=[home.gupei.pk])).content.decode()
    html = client.get(detail).content.decode()
    assert "本周家访两次" in html and home.g[0].name in html
    url = reverse("work_record_edit", args=[home.gupei.pk, entry.pk])
    assert url in html
    response = client.post(url, {"date": today.isoformat(), "child": home.g[1].pk, "text": "改正：家访一次"})
    assert response["Location"] == detail
    assert _in(home, lambda: WorkRecordEntry.objects.values_list("child_id", "text").get()) == (
        home.g[1].pk, "改正：家访一次")
    # Another teacher's child is not offered, and a forged choice is refused.
    response = client.post(url, {"date": today.isoformat(), "child": home.g[2].pk, "text": "x"})
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert _in(home, lambda: WorkRecordEntry.objects.get().text) == "改正：家访一次"
    assert client.post(url, {"action": "delete"})["Location"] == reverse("work_records", args=[home.gupei.pk])
    assert not _in(home, lambda: WorkRecordEntry.objects.exists())
    with tenant_scope([home.gupei.id]):
        assert AccessLog.objects.filter(object_type="schools.workrecordentry", object_id=str(entry.pk),
                                        action=AccessLog.Action.DELETE, user=home.gupei_teacher).exists()


def test_an_entry_is_404_for_other_staff_and_open_to_the_school_admin(client, home, today):
    entry = _entry(home, today)
    detail = reverse("work_record_detail", args=[home.gupei.pk, entry.pk])
    edit = reverse("work_record_edit", args=[home.gupei.pk, entry.pk])
    client.force_login(home.gupei_clerk)
    assert client.get(detail).status_code == 404
    assert client.post(edit, {"action": "delete"}).status_code == 404
    # A teacher's own book: the admin's entry is not theirs.
    admin_entry = _entry(home, today, author=home.gupei_admin)
    client.force_login(home.gupei_teacher)
    assert client.get(reverse("work_record_detail", args=[home.gupei.pk, admin_entry.pk])).status_code == 404
    client.force_login(home.gupei_admin)
    assert client.post(edit, {"date": today.isoformat(), "child": home.g[0].pk, "text": "校长补充"}).status_code == 302
    assert _in(home, lambda: WorkRecordEntry.objects.get(pk=entry.pk).text) == "校长补充"


# ---------------------------------------------------------------- study pairs and tutoring sessions
def _pair_with_session(home, today):
    def make():
        pair = services.study_pair_create(actor=None, school=home.gupei, teacher=home.gupei_teacher,
                                          child=home.g[2], starts_on=today - dt.timedelta(days=20), subject="数学")
        session = services.tutoring_session_record(actor=None, pair=pair, date=today - dt.timedelta(days=10),
                                                   minutes=40, notes="分数")
        return pair, session
    return _in(home, make)


def test_paired_teacher_corrects_and_deletes_a_session(client, home, today):
    pair, session = _pair_with_session(home, today)
    client.force_login(home.gupei_teacher)
    detail = reverse("study_pair_detail", args=[home.gupei.pk, pair.pk])
    url = reverse("tutoring_session_edit", args=[home.gupei.pk, pair.pk, session.pk])
    html = client.get(detail).content.decode()
    assert url in html
    assert reverse("study_pair_edit", args=[home.gupei.pk, pair.pk]) not in html  # only the admin corrects pairs
    # Outside the pair's dates: refused with the reason, nothing changes.
    response = client.post(url, {"date": (pair.starts_on - dt.timedelta(days=1)).isoformat(), "minutes": "30"})
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    response = client.post(url, {"date": today.isoformat(), "minutes": "50", "notes": "小数"})
    assert response["Location"] == detail
    assert _in(home, lambda: TutoringSession.objects.values_list("date", "minutes", "notes").get()) == (
        today, 50, "小数")
    assert client.post(url, {"action": "delete"})["Location"] == detail
    assert not _in(home, lambda: TutoringSession.objects.exists())


def test_session_of_another_pair_is_404_and_overseers_are_sent_back(client, home, today):
    pair, session = _pair_with_session(home, today)
    other = _in(home, lambda: services.study_pair_create(actor=None, school=home.gupei, teacher=home.gupei_admin,
                                                         child=home.g[3], starts_on=today))
    client.force_login(home.gupei_admin)
    assert client.get(reverse("tutoring_session_edit", args=[home.gupei.pk, other.pk, session.pk])).status_code == 404
    client.force_login(home.gupei_township)
    url = reverse("tutoring_session_edit", args=[home.gupei.pk, pair.pk, session.pk])
    assert client.get(url).status_code == 302
    assert client.post(url, {"action": "delete"}).status_code == 403
    assert _in(home, lambda: TutoringSession.objects.exists())


def test_admin_corrects_a_pair_but_not_past_its_sessions(client, home, today):
    pair, _session = _pair_with_session(home, today)
    client.force_login(home.gupei_admin)
    detail = reverse("study_pair_detail", args=[home.gupei.pk, pair.pk])
    url = reverse("study_pair_edit", args=[home.gupei.pk, pair.pk])
    assert url in client.get(detail).content.decode()
    response = client.post(url, {"starts_on": (today - dt.timedelta(days=5)).isoformat(), "ends_on": "",
                                 "subject": "数学"})
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert _in(home, lambda: StudyPair.objects.get().starts_on) == today - dt.timedelta(days=20)
    response = client.post(url, {"starts_on": (today - dt.timedelta(days=15)).isoformat(),
                                 "ends_on": today.isoformat(), "subject": "语文"})
    assert response["Location"] == detail
    assert _in(home, lambda: StudyPair.objects.values_list("starts_on", "ends_on", "subject").get()) == (
        today - dt.timedelta(days=15), today, "语文")
    client.force_login(home.gupei_teacher)  # the paired teacher reads the pair, does not correct it
    assert client.get(url)["Location"] == detail
    assert client.post(url, {"starts_on": today.isoformat(), "subject": "x"}).status_code == 403


# ---------------------------------------------------------------- proxy assignments
def test_admin_corrects_an_assignment_and_overlaps_are_refused(client, home, today):
    child = home.g[0]
    with tenant_scope([home.gupei.id]):
        first = child.proxy_assignments.get()
        second = services.proxy_assignment_create(actor=None, child=child, proxy_parent=home.gupei_admin,
                                                  starts_on=today - dt.timedelta(days=5))
    client.force_login(home.gupei_admin)
    url = reverse("assignment_edit", args=[home.gupei.pk, first.pk])
    assert url in client.get(reverse("proxy_parents", args=[home.gupei.pk])).content.decode()
    response = client.post(url, {"starts_on": (today - dt.timedelta(days=30)).isoformat(),
                                 "ends_on": (today - dt.timedelta(days=2)).isoformat()})
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    response = client.post(url, {"starts_on": (today - dt.timedelta(days=40)).isoformat(),
                                 "ends_on": (today - dt.timedelta(days=6)).isoformat()})
    assert response["Location"] == reverse("proxy_parents", args=[home.gupei.pk])
    with tenant_scope([home.gupei.id]):
        rows = list(ProxyAssignment.objects.filter(child=child).order_by("starts_on")
                    .values_list("pk", "starts_on", "ends_on"))
    assert rows == [(first.pk, today - dt.timedelta(days=40), today - dt.timedelta(days=6)),
                    (second.pk, today - dt.timedelta(days=5), None)]


def test_assignment_edit_is_for_the_archive_manager(client, home, today):
    assignment = _in(home, lambda: home.g[0].proxy_assignments.get())
    url = reverse("assignment_edit", args=[home.gupei.pk, assignment.pk])
    client.force_login(home.gupei_teacher)  # the proxy parent sees the assignment, does not correct it
    assert client.get(url)["Location"] == reverse("proxy_parents", args=[home.gupei.pk])
    assert client.post(url, {"starts_on": today.isoformat()}).status_code == 403
    other = _in(home, lambda: services.proxy_assignment_create(actor=None, child=home.g[2],
                                                               proxy_parent=home.gupei_admin, starts_on=today))
    assert client.get(reverse("assignment_edit", args=[home.gupei.pk, other.pk])).status_code == 404
    assert _in(home, lambda: ProxyAssignment.objects.get(pk=assignment.pk).starts_on) == today - dt.timedelta(days=30)
