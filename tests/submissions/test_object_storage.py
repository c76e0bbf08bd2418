"""Evidence upload, the compile job and the district export against an in-memory storage
(django's InMemoryStorage, whose path() raises here as S3Storage's does: tests/support/storage.py),
so these prove that nothing relies on a local path. Downloads must stream the stored bytes through storage.open().

STORAGES is overridden with pytest-django's `settings`: the setting_changed signal resets
django.core.files.storage.storages and the lazy default_storage, which FileFields and the code use,
so the override takes effect everywhere (asserted below, and the filesystem stays empty)."""
from __future__ import annotations

import io
from datetime import date

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import InMemoryStorage, default_storage, storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from schools import services as school_services
from schools.models import Activity, Evidence
from submissions import compile as compiler
from submissions import exports, services
from submissions.models import PackageVersion, Period, Submission
from submissions.narrative import split_sections
from tenancy.scoping import district_scope, tenant_scope
from tests.support import storage as memory_storage
from tests.support.api import client_for
from tests.support.images import jpeg_bytes
from tests.support.submissions import get_sub

from .test_compile import make_records, summary_type  # noqa: F401  (fixture)


@pytest.fixture
def memory(settings, tmp_path):
    media = tmp_path / "media"
    settings.MEDIA_ROOT = str(media)
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": memory_storage.BACKEND}}
    assert isinstance(default_storage, InMemoryStorage) and isinstance(storages["default"], InMemoryStorage)
    with pytest.raises(NotImplementedError):
        default_storage.path("x")  # no local path, like S3
    yield default_storage
    assert not media.exists() or not any(media.rglob("*")), "something was written to the filesystem"


def stored(name: str) -> bytes:
    with default_storage.open(name, "rb") as fh:
        return fh.read()


def listing(folder: str) -> list[str]:
    dirs, files = default_storage.listdir(folder)
    assert dirs == []
    return sorted(files)


def test_evidence_upload_and_view_in_object_storage(memory, tree, client):
    with tenant_scope([tree.gupei.id]):
        act = school_services.activity_create(actor=tree.gupei_clerk, school=tree.gupei, date=date(2026, 4, 8),
                                              kind="theme_activity", title="主题活动", text_record="记录")
        item = school_services.evidence_upload(actor=tree.gupei_clerk, school=tree.gupei,
                                               uploaded_file=SimpleUploadedFile("p.jpg", jpeg_bytes(1)), attach_to=act)
        same = school_services.evidence_upload(actor=tree.gupei_clerk, school=tree.gupei,
                                               uploaded_file=SimpleUploadedFile("q.jpg", jpeg_bytes(1)), attach_to=act)
        assert Evidence.objects.filter(school=tree.gupei).count() == 2
        assert Activity.objects.filter(pk=act.pk).with_evidence().get().photo_count == 2
    # Stored by content: the same bytes are one file (and one thumbnail), in the in-memory storage.
    assert same.file.name == item.file.name
    assert listing(f"evidence/{tree.gupei.id}") == sorted([item.file.name.rsplit("/", 1)[1],
                                                           item.thumbnail.name.rsplit("/", 1)[1]])
    photo = stored(item.file.name)
    assert photo[:2] == b"\xff\xd8" and len(photo) == item.size
    client.force_login(tree.gupei_clerk)
    response = client.get(reverse("evidence_file", args=[tree.gupei.pk, item.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content) == photo
    thumb = client.get(reverse("evidence_thumb", args=[tree.gupei.pk, item.pk]))
    assert thumb.status_code == 200 and b"".join(thumb.streaming_content) == stored(item.thumbnail.name)
    # The nightly orphan sweep lists and dates files through the storage API too.
    with tenant_scope([tree.gupei.id]):
        assert school_services.evidence_orphans_sweep(school=tree.gupei) == 0


def test_compile_in_object_storage_survives_a_crash_and_redelivery(memory, tree, opened, summary_type,
                                                                 monkeypatch, client):
    make_records(tree)
    with tenant_scope([tree.gupei.id]):
        sub = Submission.objects.select_related("period", "report_type", "school").get(
            report_type=summary_type, school=tree.gupei)
        services.narrative_update(actor=tree.gupei_clerk, submission=sub,
                                  sections=split_sections("一、提高认识，高度重视\n我校成立了领导小组。"))
        version = services.submission_compile_request(actor=tree.gupei_clerk, submission=sub, enqueue=False)
    # An earlier, killed run left a stale file under the version's key.
    default_storage.save(f"{version.storage_key}/{compiler.XLSX_NAME}", ContentFile(b"stale, from a killed run"))
    real_complete = services.package_version_complete

    def crash(**kwargs):
        raise RuntimeError("worker killed after storing the files")

    monkeypatch.setattr(services, "package_version_complete", crash)
    with pytest.raises(RuntimeError):
        compiler.compile_package(school_id=tree.gupei.id, version_id=version.pk)
    monkeypatch.setattr(services, "package_version_complete", real_complete)
    for _i in range(2):  # the redelivered message, then a duplicate
        compiler.compile_package(school_id=tree.gupei.id, version_id=version.pk)
    with tenant_scope([tree.gupei.id]):
        version.refresh_from_db()
        assert version.status == PackageVersion.Status.DONE and version.progress == 100
        assert PackageVersion.objects.filter(submission=sub).count() == 1
        assert PackageVersion.objects.filter(submission=sub, is_current=True).count() == 1
    # Exactly the two files, under their fixed names: replaced, never "package_AbC123.xlsx" copies.
    assert listing(version.storage_key) == [compiler.XLSX_NAME, compiler.DOCX_NAME]
    assert version.files == {"xlsx": f"{version.storage_key}/{compiler.XLSX_NAME}",
                             "docx": f"{version.storage_key}/{compiler.DOCX_NAME}"}
    xlsx = stored(version.files["xlsx"])
    wb = load_workbook(io.BytesIO(xlsx), read_only=True)
    summary = {r[0]: r[1] for r in wb.worksheets[0].iter_rows(values_only=True) if r and r[0]}
    assert summary["Children (active)"] == version.figures["children"] == 4
    from docx import Document

    assert "我校成立了领导小组。" in "\n".join(p.text for p in Document(io.BytesIO(stored(version.files["docx"]))).paragraphs)
    # Downloads stream the stored bytes: API and web page.
    api = client_for(tree.gupei_admin).get(reverse("api:v1:package-versions-download", args=[version.pk, "docx"]))
    assert api.status_code == 200 and b"".join(api.streaming_content) == stored(version.files["docx"])
    client.force_login(tree.gupei_clerk)
    web = client.get(reverse("submission_package_download",
                             kwargs={"pk": sub.pk, "version": version.version, "kind": "xlsx"}))
    assert web.status_code == 200 and b"".join(web.streaming_content) == xlsx
    # A file gone from storage is a 404, not a server error.
    default_storage.delete(version.files["docx"])
    assert compiler.package_file_name(version, "docx") is None
    assert client_for(tree.gupei_admin).get(
        reverse("api:v1:package-versions-download", args=[version.pk, "docx"])).status_code == 404


def test_district_export_in_object_storage(memory, tree, opened, client):
    make_records(tree)
    sub = get_sub(tree, opened, tree.gupei, 1)
    with tenant_scope([tree.gupei.id]):
        version = services.submission_compile_request(actor=tree.gupei_clerk, submission=sub, enqueue=False)
    compiler.compile_package(school_id=tree.gupei.id, version_id=version.pk)
    with district_scope(tree.district):
        period = Period.objects.get(report_type=opened, seq=1)
    export = services.district_export_request(actor=tree.bureau_admin, period=period, enqueue=False)
    from submissions.models import district_export_storage_key

    key = district_export_storage_key(export.pk, export.district_id)
    default_storage.save(key, ContentFile(b"stale, from a killed run"))
    export = exports.run_export(export.pk, today=date(2026, 6, 30))
    assert export.status == "done" and export.file == key and export.rows == 3
    folder, name = key.rsplit("/", 1)
    assert [f for f in listing(folder) if f.startswith(name.rsplit(".", 1)[0])] == [name], "no duplicate copy"
    content = stored(key)
    rows = [r for r in load_workbook(io.BytesIO(content), read_only=True).worksheets[0].iter_rows(
        min_row=4, values_only=True) if r and r[2]]
    assert {r[1]: r[7] for r in rows}[tree.gupei.code] == 4  # children, from the compiled package's figures
    api = client_for(tree.bureau_admin).get(reverse("api:v1:district-exports-download", args=[export.pk]))
    assert api.status_code == 200 and b"".join(api.streaming_content) == content
    client.force_login(tree.bureau_admin)
    web = client.get(reverse("district_export_download", args=[export.pk]))
    assert web.status_code == 200 and b"".join(web.streaming_content) == content
