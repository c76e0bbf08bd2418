"""Proxy parents pages: assignments with history, the work record book, meetings, study pairs."""
from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from schools.models import Evidence, ProxyAssignment, StudyPair, TrainingMeeting, TutoringSession, WorkRecordEntry
from tenancy.scoping import tenant_scope
from tests.support.images import jpeg_bytes
from tests.support.schools import home, semester, today  # noqa: F401  (fixtures)


def test_teacher_cannot_write_a_work_record_about_an_unassigned_child(client, home, today):
    client.force_login(home.gupei_teacher)
    url = reverse("work_records", args=[home.gupei.pk])
    unassigned = home.g[2]
    response = client.post(url, {"date": today.isoformat(), "child": unassigned.pk, "text": "家访"})
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    with tenant_scope([home.gupei.id]):
        assert not WorkRecordEntry.objects.exists()
    # The picker offers only the assigned children.
    html = client.get(url).content.decode()
    assert home.g[0].name in html and unassigned.name not in html
    response = client.post(url, {"date": today.isoformat(), "child": home.g[0].pk, "text": "谈心一次"})
    assert response.status_code == 302
    with tenant_scope([home.gupei.id]):
        entry = WorkRecordEntry.objects.get()
    assert (entry.proxy_parent_id, entry.child_id) == (home.gupei_teacher.id, home.g[0].pk)


def test_work_record_book_is_private_to_its_writer(client, home, today):
    client.force_login(home.gupei_teacher)
    client.post(reverse("work_records", args=[home.gupei.pk]), {"date": today.isoformat(), "text": "本周记录"})
    client.force_login(home.gupei_clerk)  # the clerk neither writes nor reads the book
    assert "本周记录" not in client.get(reverse("work_records", args=[home.gupei.pk])).content.decode()
    assert client.post(reverse("work_records", args=[home.gupei.pk]),
                       {"date": today.isoformat(), "text": "x"}).status_code == 403
    client.force_login(home.gupei_admin)
    assert "本周记录" in client.get(reverse("work_records", args=[home.gupei.pk])).content.decode()


def test_admin_reassigns_a_child_and_the_history_shows_both(client, home, today):
    client.force_login(home.gupei_admin)
    url = reverse("proxy_parents", args=[home.gupei.pk])
    child = home.g[0]
    response = client.post(url, {"action": "assign", "child": child.pk, "proxy_parent": home.gupei_admin.pk,
                                 "starts_on": today.isoformat()})
    assert response.status_code == 302
    with tenant_scope([home.gupei.id]):
        rows = list(ProxyAssignment.objects.filter(child=child).order_by("starts_on").values_list(
            "proxy_parent_id", "ends_on"))
    assert rows == [(home.gupei_teacher.id, today - dt.timedelta(days=1)), (home.gupei_admin.id, None)]
    html = client.get(url).content.decode()
    assert (today - dt.timedelta(days=1)).isoformat() in html
    # The teacher sees only their (still) assigned child, not the reassigned one.
    client.force_login(home.gupei_teacher)
    html = client.get(url).content.decode()
    assert home.g[1].name in html and home.g[2].name not in html
    assert client.post(url, {"action": "assign", "child": home.g[2].pk, "proxy_parent": home.gupei_teacher.pk,
                             "starts_on": today.isoformat()}).status_code == 403


def test_meeting_with_attendees_and_evidence(client, home, today):
    client.force_login(home.gupei_clerk)
    response = client.post(reverse("meetings", args=[home.gupei.pk]), {
        "date": today.isoformat(), "topic": "代理家长培训会", "minutes": "学习文件",
        "attendees": [home.gupei_teacher.pk, home.gupei_admin.pk]})
    assert response.status_code == 302
    with tenant_scope([home.gupei.id]):
        meeting = TrainingMeeting.objects.get()
    assert meeting.semester_id == home.semester.id
    detail = reverse("meeting_detail", args=[home.gupei.pk, meeting.pk])
    assert response["Location"] == detail
    client.post(detail, {"files": [SimpleUploadedFile("m.jpg", jpeg_bytes(5))]})
    with tenant_scope([home.gupei.id]):
        assert Evidence.objects.filter(training_meeting=meeting).count() == 1
    html = client.get(detail).content.decode()
    assert "gupei_teacher" in html and "/thumb/" in html


def test_study_pair_and_tutoring_session(client, home, today):
    client.force_login(home.gupei_admin)
    response = client.post(reverse("study_pairs", args=[home.gupei.pk]), {
        "action": "create", "teacher": home.gupei_teacher.pk, "child": home.g[2].pk,
        "starts_on": (today - dt.timedelta(days=5)).isoformat(), "subject": "数学"})
    assert response.status_code == 302
    with tenant_scope([home.gupei.id]):
        pair = StudyPair.objects.get()
    client.force_login(home.gupei_teacher)  # the paired teacher records a session
    url = reverse("study_pair_detail", args=[home.gupei.pk, pair.pk])
    assert client.post(url, {"date": today.isoformat(), "minutes": "40", "notes": "分数"}).status_code == 302
    with tenant_scope([home.gupei.id]):
        assert TutoringSession.objects.get().minutes == 40
    client.force_login(home.menzhuang_admin)
    assert client.get(url).status_code == 404
