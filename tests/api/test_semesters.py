"""The semesters endpoint: edits follow the same rules as the web page (services.semester_*)."""
from __future__ import annotations

import datetime as dt

from schools import services
from schools.models import Activity, Semester
from tenancy.scoping import district_scope, tenant_scope


def test_patch_redates_and_refuses_to_strand_records(api_as, tree):
    spring = services.semester_create(actor=None, district=tree.district, name="2026 春季学期",
                                      start=dt.date(2026, 2, 23), end=dt.date(2026, 7, 5))
    with tenant_scope([tree.gupei.id]):
        Activity.objects.create(school=tree.gupei, date=dt.date(2026, 7, 1), kind="training", title="t",
                                semester=spring)
    client = api_as("bureau_admin")
    url = f"/api/v1/semesters/{spring.pk}/"
    response = client.patch(url, {"end": "2026-06-20"}, format="json")
    assert response.status_code == 400
    assert "1" in str(response.json())
    with district_scope(tree.district):
        spring.refresh_from_db()
    assert spring.end == dt.date(2026, 7, 5)
    response = client.patch(url, {"end": "2026-07-10", "district": tree.other_district.pk}, format="json")
    assert response.status_code == 200 and response.json()["end"] == "2026-07-10"
    with district_scope(tree.district):
        spring.refresh_from_db()
    assert (spring.end, spring.district_id) == (dt.date(2026, 7, 10), tree.district.pk)  # district is fixed
    response = client.delete(url)
    with district_scope(tree.district):
        assert response.status_code == 400 and Semester.objects.filter(pk=spring.pk).exists()
