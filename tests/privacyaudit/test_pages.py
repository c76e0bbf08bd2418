"""The bureau's audit pages: the confirm step before a build, one tap one pack, the progress bar
while it builds, the report page logged as a view on every school of the district."""
from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from privacyaudit import build
from privacyaudit.models import AuditPack
from tenancy.models import AccessLog
from tenancy.scoping import district_scope, system_scope
from tests.support.access_log import district_school_ids


def test_build_confirm_progress_and_report(client, tree):
    client.force_login(tree.bureau_admin)
    packs = reverse("audit_packs", kwargs={"pk": tree.district.pk})
    confirm = reverse("audit_pack_build", kwargs={"pk": tree.district.pk})
    assert confirm in client.get(packs).content.decode()
    page = client.get(confirm)
    assert page.status_code == 200 and b"data-confirm" in page.content
    year = timezone.localdate().year
    data = {"year": str(year), "client_id": page.context["form"]["client_id"].value()}
    assert client.post(confirm, data).status_code == 302
    assert client.post(confirm, data).status_code == 302  # the same tap again: one pack
    with district_scope(tree.district):
        pack = AuditPack.objects.get(district=tree.district)
    assert (pack.year, pack.version, pack.status) == (year, 1, "queued")
    listing = client.get(packs).content.decode()
    assert 'class="audit-progress"' in listing and 'http-equiv="refresh"' in listing
    status = client.get(reverse("audit_pack_status", kwargs={"pk": tree.district.pk, "pack_pk": pack.pk})).json()
    assert status["status"] == "queued" and status["progress"] == 0
    # The report is not there before the pack is built.
    report = reverse("audit_pack_report", kwargs={"pk": tree.district.pk, "pack_pk": pack.pk})
    assert client.get(report).status_code == 404
    build.build_pack(pack.pk)
    response = client.get(report)
    assert response.status_code == 200
    assert "SELECT" not in response.content.decode()  # the page shows figures; the SQL is in the files
    with system_scope("test: the view rows"):
        rows = sorted(AccessLog.objects.filter(action="view", object_type="privacyaudit.auditpack",
                                               object_id=str(pack.pk)).values_list("school_id", flat=True))
    assert rows == sorted(district_school_ids(tree.district.pk))


def test_a_year_outside_the_range_is_refused_with_a_message(client, tree):
    client.force_login(tree.bureau_admin)
    confirm = reverse("audit_pack_build", kwargs={"pk": tree.district.pk})
    response = client.post(confirm, {"year": "1999"})
    assert response.status_code == 400
    with district_scope(tree.district):
        assert not AuditPack.objects.exists()
