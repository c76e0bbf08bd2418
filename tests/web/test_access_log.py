"""The school's access-log page: its own school only, newest first, paginated, filtered."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from tenancy.models import AccessLog
from tenancy.scoping import tenant_scope

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _entry(school, user, action, at, object_id):
    # The log is append-only (no UPDATE, even of `at`), and access_log_record stamps the current
    # time: insert a row with the time the test needs directly.
    from django.db import connection

    with tenant_scope([school.id]), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO tenancy_accesslog (school_id, user_id, at, action, object_type, object_id, detail)"
            " VALUES (%s, %s, %s, %s, 'schools.child', %s, '{}')",
            [school.id, user.id, at, action, object_id],
        )


@pytest.fixture
def logged(tree):
    """60 gupei entries over 3 days (ids 0..59, newest = 59), plus menzhuang entries."""
    start = dt.datetime(2027, 3, 1, 9, 0, tzinfo=SHANGHAI)  # after the setup entries, so ours come first
    for i in range(60):
        user = tree.gupei_admin if i % 2 == 0 else tree.gupei_teacher
        action = "view" if i % 3 else "update"
        _entry(tree.gupei, user, action, start + dt.timedelta(hours=i), f"g{i}")
    for i in range(3):
        _entry(tree.menzhuang, tree.menzhuang_admin, "view", start + dt.timedelta(hours=i), f"m{i}")
    return tree


def _ids(response):
    # Setting up the tree logs its own entries (school and role creation); look at ours only.
    return [e.object_id for e in response.context["page"] if e.object_type == "schools.child"]


def _url(school, **params):
    from urllib.parse import urlencode

    return reverse("school_access_log", kwargs={"pk": school.pk}) + ("?" + urlencode(params) if params else "")


def test_newest_first_and_paginated(client, logged, django_assert_max_num_queries):
    client.force_login(logged.gupei_admin)
    with django_assert_max_num_queries(20):
        first = client.get(_url(logged.gupei))
    assert first.status_code == 200
    assert _ids(first) == [f"g{i}" for i in range(59, 9, -1)]
    second = client.get(_url(logged.gupei, page=2))
    assert _ids(second) == [f"g{i}" for i in range(9, -1, -1)]
    body = first.content.decode()
    # Look at the log rows only: a random CSRF token may contain "m0".
    assert not any(e.school_id != logged.gupei.id for e in first.context["page"])
    assert "menzhuang" not in body and "门庄" not in body
    with tenant_scope([logged.gupei.id]):
        total = AccessLog.objects.filter(school=logged.gupei).count()
    assert total >= 60
    assert "第 1 页，共 2 页" in body and f"共 {total} 条记录" in body


def test_other_school_entries_never_shown(client, logged):
    client.force_login(logged.menzhuang_admin)
    response = client.get(_url(logged.menzhuang))
    assert _ids(response) == ["m2", "m1", "m0"]


def test_filter_by_action_user_and_date(client, logged):
    client.force_login(logged.gupei_admin)
    by_action = _ids(client.get(_url(logged.gupei, action="update")))
    assert by_action == [f"g{i}" for i in range(57, -1, -3)]
    by_user = _ids(client.get(_url(logged.gupei, user=logged.gupei_teacher.pk)))
    assert by_user == [f"g{i}" for i in range(59, 0, -2)]
    # Dates are Asia/Shanghai days: 09:00 + 15 h is the last entry of 1 March.
    day = _ids(client.get(_url(logged.gupei, date_from="2027-03-01", date_to="2027-03-01")))
    assert day == [f"g{i}" for i in range(14, -1, -1)]
    combined = _ids(client.get(_url(logged.gupei, action="update", user=logged.gupei_admin.pk,
                                    date_from="2027-03-02")))
    assert combined == [f"g{i}" for i in range(54, 14, -6)]


def test_pagination_links_keep_the_filters(client, logged):
    client.force_login(logged.gupei_admin)
    body = client.get(_url(logged.gupei, date_from="2027-03-01")).content.decode()
    assert "?date_from=2027-03-01&amp;page=2" in body


def test_another_schools_user_cannot_be_used_as_filter(client, logged):
    client.force_login(logged.gupei_admin)
    response = client.get(_url(logged.gupei, user=logged.menzhuang_admin.pk))
    assert "user" in response.context["form"].errors
    # An invalid filter shows no filtering rather than leaking anything: still only gupei's rows.
    assert all(e.school_id == logged.gupei.id for e in response.context["page"])


def test_bureau_admin_reads_it_inspector_does_not(client, logged):
    client.force_login(logged.bureau_admin)
    assert client.get(_url(logged.gupei)).status_code == 200
    client.force_login(logged.bureau_inspector)
    assert client.get(_url(logged.gupei)).status_code == 403


@pytest.mark.platform_language
def test_entries_say_which_record_in_peoples_words(client, tree):
    """A child's record is named by its masked name (the describer the schools app registers), a
    record of another kind by its kind; never by the stored model label and number."""
    from tests.support.schools import add_child

    with tenant_scope([tree.gupei.id]):
        child = add_child(tree.gupei, 1, name="张小明")
    now = dt.datetime(2027, 3, 1, 9, 0, tzinfo=SHANGHAI)
    _entry(tree.gupei, tree.gupei_admin, "view", now, str(child.pk))
    client.force_login(tree.gupei_admin)
    body = client.get(_url(tree.gupei)).content.decode()
    assert "儿童：张**" in body
    assert "张小明" not in body and "schools.child" not in body and f"#{child.pk}" not in body
    assert "tenancy.membership" not in body  # the tree's own entries: by their kind
