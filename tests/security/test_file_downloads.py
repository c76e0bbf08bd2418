"""One door per downloadable thing: the read actions (submissions/, compliance/, schools/downloads.py)
that the web pages and the API both call. Through either door the same user gets the same file
under the same name and leaves the same access-log rows; a stored key outside the object's own
folder (another school's file, a path traversal) is 404 through both, and writes nothing."""
from __future__ import annotations

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from compliance.exports import export_folder
from compliance.models import ComplianceExport
from compliance.scoring import assessment_schools
from schools.models import Evidence
from submissions import exports as district_exports
from submissions import services as submission_services
from submissions.models import DistrictExport, PackageVersion
from tenancy.scoping import system_school_ids, system_scope, tenant_scope
from tests.support.access_log import Logged, district_school_ids, log_mark, logged_since
from tests.support.api import client_for
from tests.support.compliance import assessment, version  # noqa: F401  (fixtures)
from tests.support.submissions import opened, report  # noqa: F401  (fixtures)
from tests.web.pages_home import make_activity, make_photo
from tests.web.pages_submissions import compile_with_files, fresh_report, submission_of


def _get(client, url):
    """(status, body, Content-Disposition, Content-Type, rows logged by the request)."""
    mark = log_mark()
    response = client.get(url)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return (response.status_code, body, response.get("Content-Disposition"), response.get("Content-Type"),
            logged_since(mark))


def _both(web, api, web_url, api_url):
    return _get(web, web_url), _get(api, api_url)


# ---------------------------------------------------------------- compiled packages
def _package(tree, school, content=b"workbook"):
    sub = submission_of(fresh_report(tree, [school]), school, 2)
    return sub, compile_with_files(sub, tree.gupei_clerk if school == tree.gupei else None, content=content)


def _package_urls(sub, version, kind="xlsx"):
    return (reverse("submission_package_download", kwargs={"pk": sub.pk, "version": version.version, "kind": kind}),
            reverse("api:v1:package-versions-download", args=[version.pk, kind]))


def test_a_package_is_the_same_download_through_both_doors(client, tree):
    sub, version = _package(tree, tree.gupei)
    client.force_login(tree.gupei_clerk)
    web, api = _both(client, client_for(tree.gupei_clerk), *_package_urls(sub, version))
    assert web[0] == api[0] == 200
    assert web[1:4] == api[1:4] and web[1] == b"workbook"
    assert f'-{tree.gupei.code}-v{version.version}.xlsx"' in web[2]
    row = Logged(tree.gupei.pk, "export", "submissions.packageversion", str(version.pk), tree.gupei_clerk.pk)
    assert web[4] == api[4] == [row]


def test_a_package_key_outside_its_version_folder_is_refused_by_both_doors(client, tree):
    """The web page checked the stored key; the API served whatever the row named."""
    sub, version = _package(tree, tree.gupei)
    _other_sub, other = _package(tree, tree.menzhuang, content=b"menzhuang's workbook")
    client.force_login(tree.bureau_admin)
    bureau = client_for(tree.bureau_admin)
    own_key = version.files["xlsx"]
    for key in (other.files["xlsx"],  # another school's file
                f"{version.storage_key}/../../../{other.school_id}/{other.submission_id}/v1/package.xlsx",
                f"/{own_key}", f"{version.storage_key}//package.xlsx", f"{version.storage_key}/"):
        with tenant_scope(system_school_ids()):
            PackageVersion.objects.filter(pk=version.pk).update(files={"xlsx": key})
        web, api = _both(client, bureau, *_package_urls(sub, version))
        assert (web[0], api[0], web[4], api[4]) == (404, 404, [], []), key
    with tenant_scope(system_school_ids()):
        PackageVersion.objects.filter(pk=version.pk).update(files={"xlsx": own_key})
    assert _get(bureau, _package_urls(sub, version)[1])[0] == 200


# ---------------------------------------------------------------- district exports
def test_a_district_export_is_the_same_download_through_both_doors(client, tree, opened):
    """The page wrote no access-log row; the API wrote one per school. Now both do."""
    # Export rows, periods and assessments are district-owned: made and read in every tenant.
    with system_scope("test: district-owned rows of the download"):
        period = opened.periods.order_by("start_on").first()
        export = submission_services.district_export_request(actor=tree.bureau_admin, period=period, enqueue=False)
        district_exports.run_export(export.pk)
        client.force_login(tree.bureau_inspector)
        web_url = reverse("district_export_download", args=[export.pk])
        web, api = _both(client, client_for(tree.bureau_inspector), web_url,
                         reverse("api:v1:district-exports-download", args=[export.pk]))
        assert web[0] == api[0] == 200 and web[1].startswith(b"PK")
        assert web[1:4] == api[1:4]
        rows = [Logged(sid, "export", "submissions.districtexport", str(export.pk), tree.bureau_inspector.pk)
                for sid in district_school_ids(tree.district.pk)]
        assert web[4] == api[4] == sorted(rows)
        listing = client.get(reverse("district_exports")).content.decode()
        assert f'href="{web_url}"' in listing


def test_a_district_export_file_outside_its_folder_is_refused_by_both_doors(client, tree, opened):
    # Export rows, periods and assessments are district-owned: made and read in every tenant.
    with system_scope("test: district-owned rows of the download"):
        period = opened.periods.order_by("start_on").first()
        export = submission_services.district_export_request(actor=tree.bureau_admin, period=period, enqueue=False)
        elsewhere = default_storage.save("submission-exports/elsewhere.xlsx", ContentFile(b"PK not this export"))
        DistrictExport.objects.filter(pk=export.pk).update(status=DistrictExport.Status.DONE, file=elsewhere)
        client.force_login(tree.bureau_admin)
        web, api = _both(client, client_for(tree.bureau_admin), reverse("district_export_download", args=[export.pk]),
                         reverse("api:v1:district-exports-download", args=[export.pk]))
        assert (web[0], api[0], web[4], api[4]) == (404, 404, [], [])


# ---------------------------------------------------------------- compliance exports
def test_a_compliance_export_is_logged_through_both_doors(client, tree, assessment):
    """Neither door logged the download of a workbook holding every school's scores."""
    from compliance import services
    from compliance.exports import run_export

    # Export rows and assessments are district-owned: made and read in every tenant.
    with system_scope("test: district-owned rows of the download"):
        job = services.export_request(assessment=assessment, actor=tree.bureau_admin)
        assert run_export(job.pk) == "done"
        client.force_login(tree.bureau_admin)
        web, api = _both(client, client_for(tree.bureau_admin),
                         reverse("compliance_export_download", kwargs={"pk": assessment.pk, "job_pk": job.pk}),
                         reverse("api:v1:compliance-exports-download", args=[job.pk]))
        assert web[0] == api[0] == 200 and web[1:4] == api[1:4]
        rows = [Logged(sid, "export", "compliance.export", str(job.pk), tree.bureau_admin.pk)
                for sid in assessment_schools(assessment).values_list("id", flat=True)]
        assert web[4] == api[4] == sorted(rows)

        # A file outside the assessment's folder is refused by both.
        other = default_storage.save(f"{export_folder(assessment.pk + 1)}/x.xlsx", ContentFile(b"PK other"))
        ComplianceExport.objects.filter(pk=job.pk).update(file=other)
        web, api = _both(client, client_for(tree.bureau_admin),
                         reverse("compliance_export_download", kwargs={"pk": assessment.pk, "job_pk": job.pk}),
                         reverse("api:v1:compliance-exports-download", args=[job.pk]))
        assert (web[0], api[0], web[4], api[4]) == (404, 404, [], [])


def test_a_checklist_yaml_is_the_same_download_through_both_doors(client, tree, version):
    client.force_login(tree.bureau_admin)
    web, api = _both(client, client_for(tree.bureau_admin),
                     reverse("compliance_checklist_download") + f"?version={version.pk}",
                     reverse("api:v1:compliance-checklists-yaml", args=[version.pk]))
    assert web[0] == api[0] == 200 and web[1:4] == api[1:4]
    assert web[4] == api[4] == []  # the district's target, no school's data (compliance.downloads)


# ---------------------------------------------------------------- evidence
def test_an_evidence_file_outside_its_school_folder_is_404(client, tree):
    ours = make_photo(tree.gupei, attach_to=make_activity(tree.gupei))
    theirs = make_photo(tree.menzhuang, seed=40, attach_to=make_activity(tree.menzhuang))
    client.force_login(tree.gupei_admin)
    url = reverse("evidence_file", kwargs={"school_pk": tree.gupei.pk, "pk": ours.pk})
    status, body, _cd, content_type, rows = _get(client, url)
    assert (status, content_type) == (200, "image/jpeg") and body
    assert rows == [Logged(tree.gupei.pk, "view", "schools.evidence", str(ours.pk), tree.gupei_admin.pk)]
    with tenant_scope([tree.gupei.id]):
        Evidence.objects.filter(pk=ours.pk).update(file=theirs.file.name, thumbnail=theirs.thumbnail.name)
    for name in ("evidence_file", "evidence_thumb"):
        url = reverse(name, kwargs={"school_pk": tree.gupei.pk, "pk": ours.pk})
        assert _get(client, url)[0::4] == (404, []), name
