"""The township package (乡镇汇总): refused while a village school is not yet approved; compiled
by a real Celery worker into an XLSX with the villages' figures side by side (and the centre's
own, and a total) plus a DOCX; asking again with nothing changed, or the job running again, makes
nothing new."""
from __future__ import annotations

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.utils import translation
from django.utils.translation import gettext

from submissions import services
from submissions.compile.township import compile_township
from submissions.models import TownshipPackage
from submissions.township.selectors import township_readiness
from tenancy.models import AccessLog
from tenancy.scoping import tenant_scope
from tests.support.celery_worker import celery_worker
from tests.support.township import CHILDREN, township_report
from tests.support.waiting import wait_until


def _subtree(tree):
    return [tree.gupei.id, tree.village_a.id, tree.village_b.id]


def _packages(tree):
    with tenant_scope([tree.gupei.id]):
        return list(TownshipPackage.objects.filter(school=tree.gupei).order_by("version"))


def test_refused_while_a_village_is_pending_naming_it(tree):
    t = township_report(tree.gupei, [tree.village_a, tree.village_b], approve=("gupei-a",))
    with tenant_scope(_subtree(tree)):
        readiness = township_readiness(centre=tree.gupei, period=t.period)
        assert [r.school.code for r in readiness.pending] == ["gupei-b"]
        with pytest.raises(ValidationError) as exc:
            services.township_package_request(actor=tree.gupei_township, centre=tree.gupei, period=t.period,
                                              enqueue=False)
    assert "古沛村小B" in " ".join(exc.value.messages)
    assert "古沛村小A" not in " ".join(exc.value.messages), "only the pending village is named"
    assert _packages(tree) == [], "nothing half-written"


def test_only_the_township_admin_compiles(tree):
    t = township_report(tree.gupei, [tree.village_a, tree.village_b])
    for user in (tree.gupei_admin, tree.gupei_clerk, tree.bureau_admin):
        with tenant_scope(_subtree(tree)), pytest.raises(PermissionDenied):
            services.township_package_request(actor=user, centre=tree.gupei, period=t.period, enqueue=False)
    assert _packages(tree) == []


def test_a_direct_report_has_no_township_package(tree):
    from submissions.models import ApprovalRoute, ReportType
    from tenancy.scoping import district_scope

    t = township_report(tree.gupei, [tree.village_a, tree.village_b])
    with district_scope(tree.district):
        ReportType.objects.filter(pk=t.report_type.pk).update(route=ApprovalRoute.DIRECT)
        t.period.report_type.refresh_from_db()
    with tenant_scope(_subtree(tree)), pytest.raises(ValidationError):
        services.township_package_request(actor=tree.gupei_township, centre=tree.gupei, period=t.period,
                                          enqueue=False)


def test_the_job_refuses_a_village_returned_after_the_request(tree):
    """Approval withdrawn between the request and the run: the job fails with the same message."""
    t = township_report(tree.gupei, [tree.village_a, tree.village_b])
    with tenant_scope(_subtree(tree)):
        package = services.township_package_request(actor=tree.gupei_township, centre=tree.gupei,
                                                    period=t.period, enqueue=False)
        services.submission_approval_withdraw(actor=tree.gupei_township, submission=t.subs["gupei-b"])
    done = compile_township(school_id=tree.gupei.id, package_id=package.pk)
    assert done.status == "failed" and "古沛村小B" in done.error
    assert not done.is_current


def _xlsx_table(name):
    from openpyxl import load_workbook

    with default_storage.open(name, "rb") as fh:
        wb = load_workbook(io.BytesIO(fh.read()), read_only=True)
    rows = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    return wb, rows


@pytest.mark.platform_language  # the worker writes in the platform language (zh-hans)
def test_a_real_worker_compiles_the_villages_side_by_side_once(transactional_db, tmp_path, tree):
    t = township_report(tree.gupei, [tree.village_a, tree.village_b], real=True)
    with celery_worker(tmp_path) as worker:
        with tenant_scope(_subtree(tree)):  # committed on exit: on_commit publishes the job for real
            first = services.township_package_request(actor=tree.gupei_township, centre=tree.gupei,
                                                      period=t.period)
        done = wait_until(lambda: (p := _packages(tree)[0]) and p.is_finished and p, timeout=90,
                          what="the township compile", detail=worker.log)
        assert done.status == "done", f"{done.error}\n{worker.log()}"
        assert "submissions.compile_township_package[" in worker.log()
        # Asked again with nothing changed: the same package, no new version, no new job.
        with tenant_scope(_subtree(tree)):
            again = services.township_package_request(actor=tree.gupei_township, centre=tree.gupei,
                                                      period=t.period)
        assert again.pk == first.pk
    # The job delivered again (acks_late redelivery) completes nothing new and keeps its files.
    assert compile_township(school_id=tree.gupei.id, package_id=first.pk).pk == first.pk
    packages = _packages(tree)
    assert [(p.pk, p.version, p.is_current) for p in packages] == [(first.pk, 1, True)]
    dirs, names = default_storage.listdir(done.storage_key)
    assert (dirs, sorted(names)) == ([], ["township.docx", "township.xlsx"])

    wb, rows = _xlsx_table(done.files["xlsx"])
    with translation.override("zh-hans"):
        children_label = gettext("Children (active)")
        total_label = gettext("Total")
    header = next(r for r in rows if r and r[0] == gettext_zh("Figure"))
    assert header[1:] == ["古沛中心小学", "古沛村小A", "古沛村小B", total_label]
    children = next(r for r in rows if r and r[0] == children_label)
    expected = [CHILDREN["gupei"], CHILDREN["gupei-a"], CHILDREN["gupei-b"]]
    assert children[1:] == [*expected, sum(expected)], "each school's own compiled figure, side by side"
    assert [row["code"] for row in done.schools] == ["gupei", "gupei-a", "gupei-b"]
    assert len(wb.worksheets) == 2

    from docx import Document

    with default_storage.open(done.files["docx"], "rb") as fh:
        doc = Document(io.BytesIO(fh.read()))
    cells = [c.text for table in doc.tables for row in table.rows for c in row.cells]
    assert "古沛村小B" in cells and str(CHILDREN["gupei-b"]) in cells


def gettext_zh(msgid: str) -> str:
    with translation.override("zh-hans"):
        return gettext(msgid)


def test_asking_again_with_nothing_changed_returns_the_package(tree):
    """Withdrawn and approved again, nothing that goes into the package changed: the same package,
    one access-log row of its creation. A second package only follows a real change."""
    t = township_report(tree.gupei, [tree.village_a, tree.village_b])
    with tenant_scope(_subtree(tree)):
        first = services.township_package_request(actor=tree.gupei_township, centre=tree.gupei, period=t.period,
                                                  enqueue=False)
    assert compile_township(school_id=tree.gupei.id, package_id=first.pk).status == "done"
    with tenant_scope(_subtree(tree)):
        services.submission_approval_withdraw(actor=tree.gupei_township, submission=t.subs["gupei-b"])
        sub = services.submission_approve(actor=tree.gupei_township, submission=t.subs["gupei-b"])
        assert sub.status == "approved"
        same = services.township_package_request(actor=tree.gupei_township, centre=tree.gupei, period=t.period,
                                                 enqueue=False)
    assert same.pk == first.pk, "withdrawn and approved again, nothing in the package changed"
    with tenant_scope(_subtree(tree)):
        logged = AccessLog.objects.filter(object_type="submissions.townshippackage", action="create").count()
    assert logged == 1
    # A real change: the village's package compiled again (a new version of its figures).
    with tenant_scope(_subtree(tree)):
        from submissions.models import PackageVersion

        PackageVersion.objects.filter(submission=t.subs["gupei-a"], is_current=True).update(is_current=False)
        newer = PackageVersion.objects.filter(submission=t.subs["gupei-a"]).first()
        newer = PackageVersion.objects.create(school_id=newer.school_id, submission=newer.submission, version=2,
                                              storage_key=newer.storage_key + "-2", status="done", is_current=True,
                                              figures={"children": 9})
        second = services.township_package_request(actor=tree.gupei_township, centre=tree.gupei, period=t.period,
                                                   enqueue=False)
    assert (second.pk != first.pk, second.version) == (True, 2)
    assert compile_township(school_id=tree.gupei.id, package_id=second.pk).is_current
    assert [p.is_current for p in _packages(tree)] == [False, True], "the newer version is the current one"


def test_readiness_costs_the_same_for_two_villages_or_six(tree):
    """The one rule the request, the job and the page read: a constant number of queries."""
    from tenancy import services as tenancy_services
    from tests.support.api import queries_for

    def cost(villages):
        t = township_report(tree.gupei, villages, children=False)
        ids = [tree.gupei.id, *[v.id for v in villages]]
        with tenant_scope(ids):
            readiness = township_readiness(centre=tree.gupei, period=t.period)
            assert readiness.ready and len(readiness.villages) == len(villages)
            return queries_for(lambda: township_readiness(centre=tree.gupei, period=t.period))

    two = cost([tree.village_a, tree.village_b])
    more = [tenancy_services.school_create(district=tree.district, name=f"古沛村小{c}", code=f"gupei-{c}",
                                           parent=tree.gupei) for c in "cdef"]
    assert cost([tree.village_a, tree.village_b, *more]) == two


def test_names_in_the_package_stay_text(tree):
    """A school's or report's name that looks like a formula is written as text (safe_workbook)."""
    import zipfile

    from openpyxl import load_workbook

    from submissions.models import ReportType
    from tenancy.models import School
    from tenancy.scoping import district_scope

    t = township_report(tree.gupei, [tree.village_a, tree.village_b], children=False)
    poison = '=HYPERLINK("http://evil.example/x","click")'
    School.objects.filter(pk=tree.village_b.pk).update(name=poison)
    with district_scope(tree.district):
        ReportType.objects.filter(pk=t.report_type.pk).update(name="+1+1")
    with tenant_scope(_subtree(tree)):
        package = services.township_package_request(actor=tree.gupei_township, centre=tree.gupei, period=t.period,
                                                    enqueue=False)
    done = compile_township(school_id=tree.gupei.id, package_id=package.pk)
    assert done.status == "done", done.error
    with default_storage.open(done.files["xlsx"], "rb") as fh:
        content = fh.read()
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        sheets = [z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
    assert sheets and not any(b"<f>" in xml for xml in sheets), "no formula cell"
    values = {c.value for ws in load_workbook(io.BytesIO(content)).worksheets for row in ws.iter_rows()
              for c in row}
    assert poison in values and "+1+1" in values, "the names read back as typed"
