"""The bureau's consolidated district exports page: run one, see it listed, download it; nobody
outside the district's oversight reaches it."""
from __future__ import annotations

import io

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from openpyxl import load_workbook

from submissions import exports, services
from submissions.models import DistrictExport
from tenancy.scoping import district_scope
from tests.support.submissions import opened, report  # noqa: F401  (fixtures)


def _first_period(tree, report):
    with district_scope(tree.district):
        return report.periods.order_by("start_on").first()


def test_bureau_runs_and_downloads_a_district_export(client, tree, opened, django_capture_on_commit_callbacks):
    client.force_login(tree.bureau_admin)
    page = client.get(reverse("district_exports"))
    assert page.status_code == 200
    period = page.context["periods"][0]
    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        response = client.post(reverse("district_exports"), {"period": period.pk})
    assert response.status_code == 302 and len(enqueued) == 1
    with district_scope(tree.district):
        export = DistrictExport.objects.get(period=period)
    assert "<progress" in client.get(reverse("district_exports")).content.decode()  # pending: progress shown
    exports.run_export(export.pk)  # what the Celery task runs (the worker path is tested in tests/submissions)
    with district_scope(tree.district):
        export.refresh_from_db()
    assert export.status == "done", export.error
    listing = client.get(reverse("district_exports")).content.decode()
    assert reverse("district_export_download", args=[export.pk]) in listing
    download = client.get(reverse("district_export_download", args=[export.pk]))
    assert download.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(download.streaming_content)), read_only=True)
    names = " ".join(str(c) for row in workbook.worksheets[0].iter_rows(values_only=True) for c in row if c)
    assert tree.gupei.name in names and tree.menzhuang.name in names


@pytest.mark.parametrize("username", ["gupei_admin", "menzhuang_admin", "gupei_teacher", "gupei_clerk"])
def test_school_users_get_404(client, tree, opened, username):
    period = _first_period(tree, opened)
    export = services.district_export_request(actor=tree.bureau_admin, period=period, enqueue=False)
    client.force_login(getattr(tree, username))
    assert client.get(reverse("district_exports")).status_code == 404
    assert client.get(reverse("district_export_download", args=[export.pk])).status_code == 404
    assert client.post(reverse("district_exports"), {"period": period.pk}).status_code == 404


def test_inspector_reads_exports_but_runs_none(client, tree, opened):
    """The bureau inspector is read-only. It sees and downloads the bureau's exports, has
    no "Export now" form, and a POST (web or API) starts nothing."""
    period = _first_period(tree, opened)
    export = services.district_export_request(actor=tree.bureau_admin, period=period, enqueue=False)
    exports.run_export(export.pk)
    client.force_login(tree.bureau_inspector)
    page = client.get(reverse("district_exports"))
    assert page.status_code == 200 and page.context["can_run"] is False
    html = page.content.decode()
    assert reverse("district_export_download", args=[export.pk]) in html and 'name="period"' not in html
    download = client.get(reverse("district_export_download", args=[export.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content)
    client.post(reverse("district_exports"), {"period": period.pk})
    from tests.support.api import client_for

    assert client_for(tree.bureau_inspector).post(
        reverse("api:v1:district-exports-list"), {"period": period.pk}, format="json").status_code == 403
    with district_scope(tree.district):
        assert list(DistrictExport.objects.values_list("pk", flat=True)) == [export.pk]
    with pytest.raises(PermissionDenied):
        services.district_export_request(actor=tree.bureau_inspector, period=period, enqueue=False)
