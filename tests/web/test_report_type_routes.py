"""The bureau's approval-route page: the bureau admin changes a report type's route after a
confirm step (through report_type_update, which writes the access-log rows); the inspector reads
but cannot change it; another district's bureau gets 404; a bad value changes nothing."""
from __future__ import annotations

from django.urls import reverse

from submissions.models import ApprovalRoute, ReportType
from tenancy.models import AccessLog, School
from tenancy.scoping import district_scope, system_scope
from tests.support.submissions import report  # noqa: F401  (fixture)


def _route(rt) -> str:
    with district_scope(rt.district):
        return ReportType.objects.get(pk=rt.pk).route


def _log_rows(rt):
    with system_scope("test: the access-log rows of a route change"):
        return list(AccessLog.objects.filter(object_type="submissions.reporttype", object_id=str(rt.pk),
                                             action="update").values_list("school_id", "user_id"))


def test_bureau_admin_changes_the_route_after_confirming(client, tree, report):
    client.force_login(tree.bureau_admin)
    page = client.get(reverse("report_type_routes"))
    assert page.status_code == 200
    body = page.content.decode()
    assert report.name in body and reverse("report_type_route", args=[report.pk]) in body
    assert "经中心校审核" in body and "直报教育局" in body
    url = reverse("report_type_route", args=[report.pk])
    confirm = client.post(url, {"route": ApprovalRoute.VIA_CENTRE, "step": "confirm"})
    assert confirm.status_code == 200
    assert "确定修改审核流程" in confirm.content.decode()
    assert _route(report) == ApprovalRoute.DIRECT and _log_rows(report) == []  # nothing until confirmed
    response = client.post(url, {"route": ApprovalRoute.VIA_CENTRE})
    assert response.status_code == 302
    assert _route(report) == ApprovalRoute.VIA_CENTRE
    with system_scope("test"):
        school_ids = set(School.objects.filter(district=tree.district).values_list("id", flat=True))
    rows = _log_rows(report)
    assert {s for s, _u in rows} == school_ids and {u for _s, u in rows} == {tree.bureau_admin.pk}
    # The list now shows the new route as the chosen one.
    rows = client.get(reverse("report_type_routes")).context["rows"]
    assert [form.initial["route"] for rt, form in rows if rt.pk == report.pk] == [ApprovalRoute.VIA_CENTRE]


def test_inspector_reads_but_cannot_change(client, tree, report):
    client.force_login(tree.bureau_inspector)
    page = client.get(reverse("report_type_routes"))
    assert page.status_code == 200
    assert report.name in page.content.decode()
    assert reverse("report_type_route", args=[report.pk]) not in page.content.decode()
    response = client.post(reverse("report_type_route", args=[report.pk]), {"route": ApprovalRoute.VIA_CENTRE})
    assert response.status_code == 403
    assert _route(report) == ApprovalRoute.DIRECT and _log_rows(report) == []


def test_other_district_bureau_gets_404(client, tree, report):
    client.force_login(tree.other_bureau_admin)
    response = client.post(reverse("report_type_route", args=[report.pk]), {"route": ApprovalRoute.VIA_CENTRE})
    assert response.status_code == 404
    # Asking for this district on the list shows only their own district's report types.
    page = client.get(reverse("report_type_routes"), {"district": tree.district.pk})
    assert page.status_code == 200 and report.name not in page.content.decode()
    assert _route(report) == ApprovalRoute.DIRECT and _log_rows(report) == []


def test_school_staff_get_404(client, tree, report):
    client.force_login(tree.gupei_admin)
    assert client.get(reverse("report_type_routes")).status_code == 404


def test_bad_value_is_refused_and_nothing_written(client, tree, report):
    client.force_login(tree.bureau_admin)
    url = reverse("report_type_route", args=[report.pk])
    for data in ({"route": "bureau_only"}, {}):
        response = client.post(url, data)
        assert response.status_code == 400
        body = response.content.decode()
        assert "请在“直报教育局”和“经中心校审核”中选择一项" in body or "请选择审核流程" in body
    assert _route(report) == ApprovalRoute.DIRECT and _log_rows(report) == []


def test_unchanged_route_writes_nothing(client, tree, report):
    client.force_login(tree.bureau_admin)
    response = client.post(reverse("report_type_route", args=[report.pk]), {"route": ApprovalRoute.DIRECT})
    assert response.status_code == 302
    assert _log_rows(report) == []
