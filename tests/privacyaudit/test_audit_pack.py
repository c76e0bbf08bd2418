"""The audit pack: every figure equals an independent count of the crafted records (and the number
the test made), each carries the SQL that produced it, a real worker builds the DOCX and XLSX
(opened with python-docx and openpyxl) and no child's name appears in either; the January beat
entry builds last year's pack once; requests are versioned and permission-checked."""
from __future__ import annotations

import datetime as dt
import io
import time

import docx
import openpyxl
import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from jobs.beat import sync_periodic_tasks
from privacy.models import ConsentRecord, GuardianRequest
from privacyaudit import build, services
from privacyaudit.models import AuditPack, Breach, BreachNotice
from privacyaudit.selectors.figures import audit_report, figure_values
from schools.models import Child
from tenancy.models import AccessLog, Membership
from tenancy.scoping import district_scope, system_scope
from tests.support.celery_worker import celery_worker

from .helpers import SECRET_NAME, craft


def _independent(tree, w) -> dict:
    """The same figures counted another way: plain ORM filters written out here, not the selector's."""
    d = tree.district.pk
    today = timezone.localdate()
    start = timezone.make_aware(dt.datetime(w.year, 1, 1))
    ids = [s.pk for s in (tree.gupei, tree.village_a, tree.village_b, tree.menzhuang)]
    with system_scope("test: independent counts"):
        held = Child.objects.filter(school_id__in=ids, purged_at__isnull=True)
        log = AccessLog.objects.filter(school_id__in=ids, at__gte=start)
        requests = GuardianRequest.objects.filter(school_id__in=ids)
        breaches = Breach.objects.filter(district_id=d, occurred_on__year=w.year)
        staff = set(Membership.objects.filter(Q(district_id=d) | Q(school_id__in=ids)).values_list("user__username",
                                                                                                    flat=True))
        fourteen = today.replace(year=today.year - 14)
        return {
            "children_held": held.count(),
            "children_under_14": held.filter(birth_date__gt=fourteen).count(),
            "children_14_to_18": held.filter(birth_date__lte=fourteen,
                                             birth_date__gt=today.replace(year=today.year - 18)).count(),
            "children_birth_unknown": held.filter(birth_date=None).count(),
            "sensitive_reads": log.filter(action="view").count(),
            "sensitive_readers": len(set(log.filter(action="view").values_list("user_id", flat=True))),
            "archive_exports": len({(r.user_id, r.school_id, r.at.replace(second=0, microsecond=0))
                                    for r in log.filter(action="export", object_type="schools.child")}),
            "archive_records_exported": log.filter(action="export", object_type="schools.child").count(),
            **{f"child_consent_{c}": held.filter(consent=c).count() for c in ("given", "refused", "pending")},
            **{f"consent_records_{c}": ConsentRecord.objects.filter(school_id__in=ids, decision=c).count()
               for c in ("given", "refused", "withdrawn")},
            "requests_received": requests.count(),
            **{f"requests_{k}": requests.filter(kind=k).count() for k in ("see", "correct", "delete")},
            "requests_done": requests.filter(status="done").count(),
            "requests_refused": requests.filter(status="refused").count(),
            "requests_closed_late": len([r for r in requests if r.closed_on and r.closed_on > r.due_on]),
            "requests_open": requests.filter(status="open").count(),
            "overdue_requests": requests.filter(status="open", due_on__lt=today).count(),
            "children_purged": Child.objects.filter(school_id__in=ids, purged_at__isnull=False).count(),
            "purge_log_rows": log.filter(action="purge").count(),
            "lockouts": AccessAttempt.objects.filter(username__in=staff,
                                                     failures_since_start__gte=settings.AXES_FAILURE_LIMIT).count(),
            "failed_sign_ins": AccessAttempt.objects.filter(username__in=staff).count(),
            "two_factor_failed": len([r for r in log.filter(object_type="otp_totp.totpdevice")
                                      if r.detail.get("ok") is False]),
            "tokens_issued": log.filter(object_type="tenancy.apitoken", action="create").count(),
            "tokens_revoked": log.filter(object_type="tenancy.apitoken", action="delete").count(),
            "breaches": breaches.count(),
            "breach_children": sum(b.children_affected for b in breaches),
            "breach_notices": BreachNotice.objects.filter(breach__in=list(breaches)).count(),
            "breach_guardians_notified": sum(n.guardians_notified for n in BreachNotice.objects.filter(
                breach__in=list(breaches))),
            "breaches_without_notice": len([b for b in breaches if not b.notices.exists()]),
            "under_14_without_consent": held.filter(birth_date__gt=fourteen, status="active")
            .exclude(consent="given").count(),
            "district_exports": 0, "compliance_exports": 0,
        }


def test_every_figure_equals_the_records(tree):
    w = craft(tree)
    services.audit_pack_request(actor=tree.bureau_admin, district=tree.district, year=w.year, enqueue=False)
    w.expected["audit_packs"] = 1
    report = audit_report(tree.district, w.year)
    got = figure_values(report)
    independent = _independent(tree, w)
    with district_scope(tree.district):
        independent["audit_packs"] = AuditPack.objects.filter(created_at__year=w.year).count()
    jobs = next(t for sec in report["sections"] for t in sec["tables"] if t["key"] == "export_jobs_by_user")
    assert [row[1:] for row in jobs["rows"]] == [["bureau_admin", 1]]
    for key, expected in w.expected.items():
        assert got[key] == expected, f"{key}: report {got[key]}, crafted {expected}"
        assert got[key] == independent[key], f"{key}: report {got[key]}, ORM {independent[key]}"
    # Every figure carries the SQL that produced it, and running that SQL again gives the figure.
    figures = [f for sec in report["sections"] for f in sec["figures"]]
    assert all(f["sql"].lstrip().upper().startswith("SELECT") for f in figures)
    with system_scope("test: rerun the figure's SQL"), connection.cursor() as cursor:
        for key in ("children_under_14", "sensitive_reads", "lockouts", "breaches"):
            f = next(f for f in figures if f["key"] == key)
            cursor.execute(f["sql"])
            assert cursor.fetchone()[0] == f["value"], key
    # Who read sensitive records, by person and role.
    reads = next(t for sec in report["sections"] for t in sec["tables"] if t["key"] == "reads_by_user")
    assert [row[2] for row in reads["rows"]] == [4, 2]
    # No child is named or identified anywhere in the report (names, ids in the SQL).
    text = repr(report)
    assert SECRET_NAME not in text
    for marker in ('"schools_child"."id" =', '"schools_child"."id" IN', '"child_id" =', '"child_id" IN',
                   '"object_id" ='):
        assert marker not in text, marker  # no statement picks out a child


def test_requests_are_versioned_and_only_the_bureau_admin_builds(tree):
    year = timezone.localdate().year
    first = services.audit_pack_request(actor=tree.bureau_admin, district=tree.district, year=year, enqueue=False)
    second = services.audit_pack_request(actor=tree.bureau_admin, district=tree.district, year=year, enqueue=False)
    assert (first.version, second.version) == (1, 2)
    for user in (tree.bureau_inspector, tree.gupei_admin, tree.gupei_township, tree.other_bureau_admin):
        with pytest.raises(PermissionDenied):
            services.audit_pack_request(actor=user, district=tree.district, year=year, enqueue=False)
    with pytest.raises(ValidationError):
        services.audit_pack_request(actor=tree.bureau_admin, district=tree.district, year=year + 1, enqueue=False)
    with district_scope(tree.district):
        assert AuditPack.objects.filter(district=tree.district).count() == 2


def test_the_january_beat_entry_builds_last_years_pack_once(tree):
    sync_periodic_tasks()
    entry = PeriodicTask.objects.get(name="privacyaudit: last year's audit packs")
    assert entry.task == "privacyaudit.schedule_annual_packs"
    assert (entry.crontab.month_of_year, entry.crontab.hour, entry.crontab.minute) == ("1", "3", "40")
    january = dt.date(timezone.localdate().year, 1, 10)
    created = services.audit_packs_schedule(today=january, enqueue=False)
    assert {p.district_id for p in created} == {tree.district.pk, tree.other_district.pk}
    assert {(p.year, p.version, p.trigger) for p in created} == {(january.year - 1, 1, "scheduled")}
    assert services.audit_packs_schedule(today=january, enqueue=False) == []
    # The scheduled pack builds (in-process here; the worker test runs the task itself).
    pack = next(p for p in created if p.district_id == tree.district.pk)
    built = build.build_pack(pack.pk)
    assert built.status == "done" and built.figures["year"] == january.year - 1


def _wait(pack, worker, timeout=120):
    deadline = time.monotonic() + timeout
    seen = set()
    while time.monotonic() < deadline:
        with district_scope(pack.district_id):
            pack.refresh_from_db()
        seen.add(pack.progress)
        if pack.is_finished:
            break
        time.sleep(0.3)
    assert pack.status == "done", f"{pack.status} {pack.error}\n{worker.log()}"
    return seen


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_builds_the_docx_and_xlsx(tree, tmp_path):
    w = craft(tree)
    with celery_worker(tmp_path) as worker:
        pack = services.audit_pack_request(actor=tree.bureau_admin, district=tree.district, year=w.year)
        _wait(pack, worker)
        assert "succeeded" in worker.log()
    expected = figure_values(audit_report(tree.district, w.year))
    assert figure_values(pack.figures) == expected
    with default_storage.open(pack.files["xlsx"], "rb") as fh:
        xlsx = fh.read()
    with default_storage.open(pack.files["docx"], "rb") as fh:
        docx_bytes = fh.read()
    wb = openpyxl.load_workbook(io.BytesIO(xlsx))
    rows = {r[1]: r for r in wb.worksheets[0].iter_rows(min_row=4, values_only=True) if r[1]}
    for key, value in w.expected.items():
        assert rows[key][3] == value, key
        assert rows[key][4].startswith("SELECT"), key  # the query that produced it
    document = docx.Document(io.BytesIO(docx_bytes))
    text = "\n".join(p.text for p in document.paragraphs)
    text += "\n".join(c.text for t in document.tables for row in t.rows for c in row.cells)
    assert "SELECT" in text  # the appendix
    assert str(w.expected["children_under_14"]) in text
    # No child's name in either file (the names are in the database, so this can fail).
    cells = "\n".join(str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v)
    with system_scope("test: children's names"):
        names = [n for n in Child.objects.values_list("name", flat=True) if n]
    assert any(SECRET_NAME in n for n in names)
    for name in names:
        assert name not in cells and name not in text, name
