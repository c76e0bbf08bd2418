"""The consolidated district export (on demand and scheduled) and the API's downloads/matrix."""
from __future__ import annotations

import io
from datetime import date

from django.core.files.storage import default_storage
from django.urls import reverse
from openpyxl import load_workbook

from submissions import exports, services
from submissions.models import DistrictExport, Period
from tenancy.scoping import district_scope, tenant_scope
from tests.support.api import client_for
from tests.support.submissions import get_sub, one_day_after_end

from .test_compile import make_records, run_compile


def _send(tree, report, school, seq, actor, days=1):
    sub = get_sub(tree, report, school, seq)
    with tenant_scope([school.id]):
        run_compile(sub, actor)
        sub.refresh_from_db()
        return services.submission_submit(actor=actor, submission=sub, now=one_day_after_end(sub, days=days),
                                          enqueue_similarity=False)


def test_district_export_has_a_row_per_school_with_figures(tree, opened):
    make_records(tree)
    _send(tree, opened, tree.gupei, 1, tree.gupei_clerk)
    _send(tree, opened, tree.menzhuang, 1, tree.menzhuang_admin, days=6)  # late
    with district_scope(tree.district):
        period = Period.objects.get(report_type=opened, seq=1)
    export = services.district_export_request(actor=tree.bureau_admin, period=period, enqueue=False)
    export = exports.run_export(export.pk, today=date(2026, 6, 30))
    assert export.status == "done" and export.rows == 3
    again = exports.run_export(export.pk)  # redelivery: no-op
    assert again.file == export.file and again.finished_at == export.finished_at
    with default_storage.open(exports.export_file_name(export), "rb") as fh:
        wb = load_workbook(io.BytesIO(fh.read()), read_only=True)
    rows = [r for r in wb.worksheets[0].iter_rows(min_row=4, values_only=True) if r and r[2]]
    by_code = {r[1]: r for r in rows}
    assert set(by_code) == {tree.gupei.code, tree.menzhuang.code, tree.village_a.code}
    assert by_code[tree.gupei.code][2] == "on time" and by_code[tree.menzhuang.code][2] == "late"
    assert by_code[tree.village_a.code][2] == "missing" and by_code[tree.village_a.code][3] == "Open"
    assert by_code[tree.gupei.code][7] == 4  # children, from the compiled package's figures
    assert by_code[tree.gupei.code][5] and not by_code[tree.village_a.code][5]  # submitted at


def test_only_the_bureau_exports(tree, opened):
    import pytest
    from django.core.exceptions import PermissionDenied

    with district_scope(tree.district):
        period = Period.objects.get(report_type=opened, seq=1)
    # The inspector reads the exports but, read-only, runs none.
    for user in (tree.gupei_admin, tree.gupei_township, tree.bureau_inspector):
        with pytest.raises(PermissionDenied):
            services.district_export_request(actor=user, period=period, enqueue=False)


def test_scheduled_exports_once_per_period(tree, opened, django_capture_on_commit_callbacks):
    # Periods 1–4 are due Apr 17, May 1, May 15, May 29; on May 16 periods 1–3 are past due.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = services.district_exports_schedule(today=date(2026, 5, 16))
    assert sorted(e.period.seq for e in first) == [1, 2, 3] and len(callbacks) == 3
    assert services.district_exports_schedule(today=date(2026, 5, 16)) == []
    assert [e.period.seq for e in services.district_exports_schedule(today=date(2026, 6, 1), enqueue=False)] == [4]
    with district_scope(tree.district):
        assert DistrictExport.objects.filter(trigger="scheduled").count() == 4
        # On-demand runs keep history beside the scheduled one.
        period = Period.objects.get(report_type=opened, seq=1)
        services.district_export_request(actor=tree.bureau_admin, period=period, enqueue=False)
        services.district_export_request(actor=tree.bureau_admin, period=period, enqueue=False)
        assert DistrictExport.objects.filter(period=period).count() == 3


def test_api_download_matrix_and_lifecycle(tree, opened):
    make_records(tree)
    sub = get_sub(tree, opened, tree.gupei, 1)
    with tenant_scope([tree.gupei.id]):
        version = run_compile(sub, tree.gupei_clerk)
    url = reverse("api:v1:package-versions-download", args=[version.pk, "xlsx"])
    ok = client_for(tree.gupei_admin).get(url)
    assert ok.status_code == 200 and ok["Content-Disposition"].startswith("attachment")
    assert b"".join(ok.streaming_content)[:2] == b"PK"
    assert client_for(tree.menzhuang_admin).get(url).status_code == 404  # another school: 404
    assert client_for(tree.bureau_admin).get(url).status_code == 200
    assert client_for(None).get(url).status_code == 401
    assert client_for(tree.gupei_admin).get(
        reverse("api:v1:package-versions-download", args=[version.pk, "docx"])).status_code == 404

    detail = client_for(tree.gupei_admin).get(reverse("api:v1:package-versions-detail", args=[version.pk])).json()
    assert detail["downloads"] == {"xlsx": url} and detail["figures"]["children"] == 4

    matrix_url = reverse("api:v1:report-types-matrix", args=[opened.pk])
    body = client_for(tree.bureau_admin).get(matrix_url).json()
    assert len(body["periods"]) == 4 and {r["school"]["id"] for r in body["rows"]} == {
        tree.gupei.id, tree.menzhuang.id, tree.village_a.id}
    assert client_for(tree.gupei_admin).get(matrix_url).status_code == 404
    assert client_for(tree.gupei_township).get(matrix_url).status_code == 200

    # Submit through the API, then return with a comment as the bureau.
    events = reverse("api:v1:submission-events-list")
    # The April period is locked by now: the bureau unlocks it through the API first.
    r = client_for(tree.gupei_clerk).post(events, {"submission": sub.pk, "action": "unlock"}, format="json")
    assert r.status_code == 403
    r = client_for(tree.bureau_admin).post(events, {"submission": sub.pk, "action": "unlock"}, format="json")
    assert r.status_code == 201 and r.json()["action"] == "unlock", r.content
    r = client_for(tree.gupei_clerk).post(events, {"submission": sub.pk, "action": "submit"}, format="json")
    assert r.status_code == 201 and r.json()["to_status"] == "submitted", r.content
    r = client_for(tree.bureau_admin).post(events, {"submission": sub.pk, "action": "return", "comment": ""},
                                           format="json")
    assert r.status_code == 400 and "comment" in r.json()
    r = client_for(tree.bureau_admin).post(events, {"submission": sub.pk, "action": "return",
                                                    "comment": "请补充照片"}, format="json")
    assert r.status_code == 201 and r.json()["to_status"] == "returned"


def test_api_district_export_download(tree, opened):
    with district_scope(tree.district):
        period = Period.objects.get(report_type=opened, seq=1)
    export = services.district_export_request(actor=tree.bureau_admin, period=period, enqueue=False)
    url = reverse("api:v1:district-exports-download", args=[export.pk])
    assert client_for(tree.bureau_admin).get(url).status_code == 404  # not ready yet
    exports.run_export(export.pk)
    assert client_for(tree.bureau_admin).get(url).status_code == 200
    assert client_for(tree.gupei_township).get(url).status_code == 404
    assert client_for(tree.gupei_admin).get(url).status_code == 404
