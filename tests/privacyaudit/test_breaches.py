"""Breaches: the bureau records a district's (naming the affected schools), a school admin the
school's own; each notice batch to guardians is recorded; the affected schools' staff are told;
a neighbouring school never reads another's breach (row-level security); bad input writes nothing."""
from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from notices.models import Kind, Notification
from privacyaudit import services
from privacyaudit.models import Breach, BreachNotice
from tenancy.models import AccessLog
from tenancy.scoping import district_scope, system_scope, tenant_scope

TODAY = timezone.localdate()


def _district_breach(tree, **over):
    fields = dict(actor=tree.bureau_admin, district=tree.district, occurred_on=TODAY - dt.timedelta(days=3),
                  discovered_on=TODAY - dt.timedelta(days=1), data_involved="监护人电话", children_affected=12,
                  description="名单误发", measures="撤回并提醒", affected_schools=[tree.gupei, tree.menzhuang])
    return services.breach_record(**(fields | over))


def test_a_district_breach_tells_the_affected_schools_staff_and_is_logged(tree):
    breach = _district_breach(tree)
    with system_scope("test: what the breach wrote"):
        told = set(Notification.objects.filter(kind=Kind.BREACH_RECORDED).values_list("user__username", flat=True))
        rows = set(AccessLog.objects.filter(object_type="privacyaudit.breach", object_id=str(breach.pk))
                   .values_list("school_id", "action", "user_id"))
        texts = list(Notification.objects.filter(kind=Kind.BREACH_RECORDED).values_list("text", flat=True))
    assert told == {"gupei_admin", "gupei_teacher", "gupei_clerk", "gupei_township", "menzhuang_admin",
                    "menzhuang_teacher"}
    assert rows == {(tree.gupei.pk, "create", tree.bureau_admin.pk), (tree.menzhuang.pk, "create", tree.bureau_admin.pk)}
    assert all("监护人电话" in t and "撤回并提醒" in t for t in texts)
    # Notifying the same breach again adds nothing (one event).
    with district_scope(tree.district):
        services.breaches._tell_staff(breach, breach.affected_schools)
    with system_scope("test: notices"):
        assert Notification.objects.filter(kind=Kind.BREACH_RECORDED).count() == len(texts)


def test_notices_to_guardians_are_recorded_in_batches(tree):
    breach = _district_breach(tree)
    services.breach_notice_record(actor=tree.bureau_admin, breach=breach, method="sms", sent_on=TODAY,
                                  guardians_notified=10, text="您孩子的监护人电话被误发，已撤回。")
    services.breach_notice_record(actor=tree.bureau_admin, breach=breach, method="phone", sent_on=TODAY,
                                  guardians_notified=2, text="电话告知")
    with district_scope(tree.district):
        notices = list(BreachNotice.objects.filter(breach=breach).values_list("method", "guardians_notified"))
    assert sorted(notices) == [("phone", 2), ("sms", 10)]
    # Refused: not the bureau admin; no guardians; before the breach was discovered; no text.
    with pytest.raises(PermissionDenied):
        services.breach_notice_record(actor=tree.bureau_inspector, breach=breach, method="sms", sent_on=TODAY,
                                      guardians_notified=1, text="x")
    bad = [dict(guardians_notified=0), dict(sent_on=breach.discovered_on - dt.timedelta(days=1)), dict(text=" "),
           dict(method="fax")]
    for over in bad:
        with pytest.raises(ValidationError):
            services.breach_notice_record(**(dict(actor=tree.bureau_admin, breach=breach, method="sms", sent_on=TODAY,
                                                  guardians_notified=1, text="x") | over))
    with district_scope(tree.district):
        assert BreachNotice.objects.filter(breach=breach).count() == 2


def test_a_school_records_its_own_breach_and_no_neighbour_reads_it(tree):
    breach = services.breach_record(actor=tree.menzhuang_admin, district=tree.district, school=tree.menzhuang,
                                    occurred_on=TODAY, discovered_on=TODAY, data_involved="照片", children_affected=1,
                                    description="外传", measures="删除")
    assert breach.affected_schools == [tree.menzhuang.pk]
    for user in (tree.gupei_admin, tree.menzhuang_teacher, tree.bureau_admin):
        with pytest.raises(PermissionDenied):
            services.breach_record(actor=user, district=tree.district, school=tree.menzhuang, occurred_on=TODAY,
                                   discovered_on=TODAY, data_involved="照片", children_affected=1,
                                   description="外传", measures="删除")
    # Row-level security: gupei's scope (with the district) does not hold menzhuang's breach, the
    # bureau's does.
    with tenant_scope([tree.gupei.pk], district_ids=[tree.district.pk]):
        assert not Breach.objects.filter(pk=breach.pk).exists()
    with tenant_scope([tree.menzhuang.pk], district_ids=[tree.district.pk]):
        assert Breach.objects.filter(pk=breach.pk).exists()


def test_bad_input_writes_nothing(tree):
    bad = [dict(discovered_on=TODAY - dt.timedelta(days=5)), dict(occurred_on=TODAY + dt.timedelta(days=1)),
           dict(affected_schools=[]), dict(affected_schools=[tree.far_school]), dict(children_affected=-1)]
    for over in bad:
        with pytest.raises(ValidationError):
            _district_breach(tree, **over)
    with pytest.raises(PermissionDenied):
        _district_breach(tree, actor=tree.bureau_inspector)
    with system_scope("test: nothing written"):
        assert not Breach.objects.exists()
        assert not Notification.objects.filter(kind=Kind.BREACH_RECORDED).exists()


def test_the_school_form_makes_one_record_per_tap(client, tree):
    client.force_login(tree.gupei_admin)
    url = reverse("school_breaches", kwargs={"school_pk": tree.gupei.pk})
    page = client.get(url)
    assert page.status_code == 200
    client_id = page.context["form"]["client_id"].value()
    data = {"occurred_on": TODAY.isoformat(), "discovered_on": TODAY.isoformat(), "data_involved": "名单",
            "children_affected": "4", "description": "丢失", "measures": "找回", "client_id": client_id}
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302  # the same tap again
    with district_scope(tree.district):
        assert Breach.objects.filter(school=tree.gupei).count() == 1
    # A wrong date comes back with a Chinese message on the form, nothing written.
    client.cookies["django_language"] = "zh-hans"
    bad = data | {"client_id": "", "discovered_on": (TODAY - dt.timedelta(days=1)).isoformat(),
                  "occurred_on": TODAY.isoformat()}
    response = client.post(url, bad, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 400
    with district_scope(tree.district):
        assert Breach.objects.filter(school=tree.gupei).count() == 1


def test_reading_a_breach_is_logged_on_each_affected_school(client, tree):
    breach = _district_breach(tree)
    client.force_login(tree.bureau_inspector)
    url = reverse("district_breach", kwargs={"pk": tree.district.pk, "breach_pk": breach.pk})
    assert client.get(url).status_code == 200
    with system_scope("test: the view rows"):
        rows = set(AccessLog.objects.filter(action="view", object_type="privacyaudit.breach",
                                            object_id=str(breach.pk)).values_list("school_id", "user_id"))
    assert rows == {(tree.gupei.pk, tree.bureau_inspector.pk), (tree.menzhuang.pk, tree.bureau_inspector.pk)}
    # The inspector reads but records no notice.
    assert client.post(url, {"method": "sms", "sent_on": TODAY.isoformat(), "guardians_notified": "1",
                             "text": "x"}).status_code == 403
    # A school's staff never reach the district's breach pages.
    client.force_login(tree.gupei_admin)
    assert client.get(url).status_code == 404


def test_a_breach_text_never_becomes_a_formula_in_the_workbook(tree, tmp_path):
    import openpyxl

    from privacyaudit.build import write_xlsx
    from privacyaudit.selectors.figures import audit_report

    poison = '=HYPERLINK("http://evil.example/x","click")'
    _district_breach(tree, data_involved=poison, measures="+1+1")
    path = tmp_path / "pack.xlsx"
    write_xlsx(path, audit_report(tree.district, TODAY.year))
    wb = openpyxl.load_workbook(path)
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert any(c.value == poison for c in cells)
    assert not [c for c in cells if c.data_type == "f"]
