"""Corrections over the API: work record entries and tutoring sessions by their authors, and the
date checks of proxy assignments and study pairs (the generic harness runs every role; these check
the authors and the invariants it cannot declare)."""
from __future__ import annotations

import datetime as dt

from django.urls import reverse

from schools import services as ss
from schools.models import ProxyAssignment, StudyPair, TutoringSession, WorkRecordEntry
from tenancy.scoping import tenant_scope
from tests.support.api import client_for

from .cases_schools import assign, child, in_scope, today


def _url(basename, pk):
    return reverse(f"api:v1:{basename}-detail", args=[pk])


def test_work_record_author_corrects_own_entry(tree):
    kid = child(tree.gupei)
    assign(tree, kid)
    own = in_scope(tree.gupei, ss.work_record_add, actor=tree.gupei_teacher, school=tree.gupei, date=today(),
                   text="我的记录", child=kid)
    admins = in_scope(tree.gupei, ss.work_record_add, actor=tree.gupei_admin, school=tree.gupei, date=today(),
                      text="校长的记录")
    client = client_for(tree.gupei_teacher)
    response = client.patch(_url("work-record-entries", own.pk), {"text": "改正"}, format="json")
    assert response.status_code == 200 and response.json()["text"] == "改正"
    future = (today() + dt.timedelta(days=1)).isoformat()
    assert client.patch(_url("work-record-entries", own.pk), {"date": future}, format="json").status_code == 400
    assert client.patch(_url("work-record-entries", admins.pk), {"text": "x"}, format="json").status_code == 404
    assert client.delete(_url("work-record-entries", admins.pk)).status_code == 404
    with tenant_scope([tree.gupei.id]):
        assert WorkRecordEntry.objects.get(pk=own.pk).date == today()
        assert WorkRecordEntry.objects.get(pk=admins.pk).text == "校长的记录"
    assert client.delete(_url("work-record-entries", own.pk)).status_code == 204
    with tenant_scope([tree.gupei.id]):
        assert list(WorkRecordEntry.objects.values_list("pk", flat=True)) == [admins.pk]


def test_paired_teacher_corrects_a_session_and_a_reader_cannot(tree):
    kid = child(tree.gupei)
    pair = in_scope(tree.gupei, ss.study_pair_create, actor=None, school=tree.gupei, teacher=tree.gupei_admin,
                    child=kid, starts_on=today() - dt.timedelta(days=10))
    session = in_scope(tree.gupei, ss.tutoring_session_record, actor=None, pair=pair, date=today(), minutes=40)
    assign(tree, kid)  # gupei_teacher sees the child's pair, but is not its teacher
    reader = client_for(tree.gupei_teacher)
    assert reader.get(_url("tutoring-sessions", session.pk)).status_code == 200
    assert reader.patch(_url("tutoring-sessions", session.pk), {"minutes": 5}, format="json").status_code == 403
    assert reader.delete(_url("tutoring-sessions", session.pk)).status_code == 403
    tutor = client_for(tree.gupei_admin)
    before = (pair.starts_on - dt.timedelta(days=1)).isoformat()
    assert tutor.patch(_url("tutoring-sessions", session.pk), {"date": before}, format="json").status_code == 400
    assert tutor.patch(_url("tutoring-sessions", session.pk), {"minutes": 0}, format="json").status_code == 400
    response = tutor.patch(_url("tutoring-sessions", session.pk), {"minutes": 45, "pair": 999999}, format="json")
    assert response.status_code == 200 and response.json()["pair"] == pair.pk  # a session stays in its pair
    with tenant_scope([tree.gupei.id]):
        assert TutoringSession.objects.values_list("date", "minutes").get() == (today(), 45)


def test_assignment_and_pair_corrections_keep_their_invariants(tree):
    kid = child(tree.gupei)
    first = assign(tree, kid)  # from 30 days ago
    second = in_scope(tree.gupei, ss.proxy_assignment_create, actor=None, child=kid, proxy_parent=tree.gupei_admin,
                      starts_on=today() - dt.timedelta(days=5))
    admin = client_for(tree.gupei_admin)
    response = admin.patch(_url("proxy-assignments", first.pk), {"ends_on": None}, format="json")
    assert response.status_code == 400  # two open assignments for one child
    response = admin.patch(_url("proxy-assignments", second.pk),
                           {"starts_on": (today() - dt.timedelta(days=10)).isoformat()}, format="json")
    assert response.status_code == 400  # would overlap the first
    with tenant_scope([tree.gupei.id]):
        assert list(ProxyAssignment.objects.filter(child=kid).order_by("starts_on").values_list("ends_on", flat=True)) \
            == [today() - dt.timedelta(days=6), None]

    pair = in_scope(tree.gupei, ss.study_pair_create, actor=None, school=tree.gupei, teacher=tree.gupei_admin,
                    child=kid, starts_on=today() - dt.timedelta(days=10), subject="数学")
    in_scope(tree.gupei, ss.tutoring_session_record, actor=None, pair=pair, date=today() - dt.timedelta(days=8),
             minutes=40)
    response = admin.patch(_url("study-pairs", pair.pk), {"starts_on": today().isoformat()}, format="json")
    assert response.status_code == 400
    response = admin.patch(_url("study-pairs", pair.pk), {"subject": "语文"}, format="json")
    assert response.status_code == 200 and response.json()["subject"] == "语文"
    with tenant_scope([tree.gupei.id]):
        assert StudyPair.objects.values_list("starts_on", "subject").get() == (today() - dt.timedelta(days=10), "语文")
