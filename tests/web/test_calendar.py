"""The bureau's academic-calendar pages: list, create, edit, delete, with clear refusals."""
from __future__ import annotations

import datetime as dt

from django.urls import reverse

from schools import services
from schools.models import Activity, Semester
from tenancy.scoping import district_scope, tenant_scope


def _list(tree):
    return reverse("district_semesters", kwargs={"pk": tree.district.pk})


def test_bureau_admin_creates_edits_and_deletes(client, tree):
    client.force_login(tree.bureau_admin)
    response = client.post(_list(tree), {"name": "2026 春季学期", "start": "2026-02-23", "end": "2026-07-05"})
    assert response.status_code == 302
    with district_scope(tree.district):
        semester = Semester.objects.get(district=tree.district)
    assert (semester.start, semester.end) == (dt.date(2026, 2, 23), dt.date(2026, 7, 5))
    page = client.get(_list(tree))
    assert "2026 春季学期" in page.content.decode()
    assert reverse("district_semester_edit", kwargs={"pk": tree.district.pk, "semester_pk": semester.pk}) in (
        page.content.decode())

    # An overlapping semester is refused with the clash named; nothing is written.
    response = client.post(_list(tree), {"name": "重叠", "start": "2026-07-01", "end": "2026-08-01"})
    assert response.status_code == 400 and "2026 春季学期" in response.content.decode()
    with district_scope(tree.district):
        assert Semester.objects.filter(district=tree.district).count() == 1

    edit = reverse("district_semester_edit", kwargs={"pk": tree.district.pk, "semester_pk": semester.pk})
    assert client.post(edit, {"name": "春季", "start": "2026-02-23", "end": "2026-07-10"}).status_code == 302
    with district_scope(tree.district):
        semester.refresh_from_db()
    assert (semester.name, semester.end) == ("春季", dt.date(2026, 7, 10))

    with tenant_scope([tree.gupei.id]):
        act = Activity.objects.create(school=tree.gupei, date=dt.date(2026, 7, 8), kind="training", title="t",
                                      semester=semester)
    # Shrinking past the record: refused, the count is named, the dates stay.
    response = client.post(edit, {"name": "春季", "start": "2026-02-23", "end": "2026-07-05"})
    assert response.status_code == 400
    assert "1" in response.content.decode()
    with district_scope(tree.district):
        semester.refresh_from_db()
    assert semester.end == dt.date(2026, 7, 10)

    delete = reverse("district_semester_delete", kwargs={"pk": tree.district.pk, "semester_pk": semester.pk})
    response = client.post(delete, follow=True)
    with district_scope(tree.district):
        assert Semester.objects.filter(pk=semester.pk).exists()
    assert "cannot be deleted" in response.content.decode() or "不能删除" in response.content.decode()
    with tenant_scope([tree.gupei.id]):
        act.delete()
    assert client.post(delete).status_code == 302
    with district_scope(tree.district):
        assert not Semester.objects.filter(pk=semester.pk).exists()


def test_readers_see_the_list_without_forms(client, tree):
    services.semester_create(actor=None, district=tree.district, name="本学期", start=dt.date(2026, 9, 1),
                             end=dt.date(2027, 1, 24))
    for user in (tree.bureau_inspector, tree.gupei_teacher):
        client.force_login(user)
        body = client.get(_list(tree)).content.decode()
        assert "本学期" in body and 'name="start"' not in body


def test_bureau_nav_links_the_calendar(client, tree):
    client.force_login(tree.bureau_admin)
    body = client.get(reverse("nav_more")).content.decode()
    assert _list(tree) in body
    client.force_login(tree.gupei_teacher)
    assert _list(tree) not in client.get(reverse("nav_more")).content.decode()
