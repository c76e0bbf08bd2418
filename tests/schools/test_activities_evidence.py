"""Activities, the `evidenced` annotation, and the evidence upload service (reuse flags, storage)."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from schools import evidence as ev
from schools import services
from schools.models import Activity, Evidence, ReusedEvidenceFlag
from tenancy.scoping import tenant_scope
from tests.support.documents import pdf_bytes
from tests.support.images import jpeg_bytes


def upload(user, school, data, attach_to=None, name="photo.jpg"):
    with tenant_scope([school.id]):
        return services.evidence_upload(actor=user, school=school, uploaded_file=SimpleUploadedFile(name, data),
                                        attach_to=attach_to)


def activity(school, title, day, text="", actor=None, **kw):
    with tenant_scope([school.id]):
        return services.activity_create(actor=actor, school=school, date=day, kind="theme_activity", title=title,
                                        text_record=text, **kw)


def test_evidenced_needs_a_photo_and_a_text_record(home, today):
    both = activity(home.gupei, "both", today, text="记录")
    photo_only = activity(home.gupei, "photo only", today)
    text_only = activity(home.gupei, "text only", today, text="记录")
    upload(home.gupei_clerk, home.gupei, jpeg_bytes(1), both)
    upload(home.gupei_clerk, home.gupei, jpeg_bytes(2), both)
    upload(home.gupei_clerk, home.gupei, jpeg_bytes(3), photo_only)
    with tenant_scope([home.gupei.id]):
        rows = {a.title: (a.evidenced, a.photo_count) for a in Activity.objects.with_evidence()}
        assert set(Activity.objects.evidenced().values_list("title", flat=True)) == {"both"}
    assert rows == {"both": (True, 2), "photo only": (False, 1), "text only": (False, 0)}
    assert text_only.semester_id == home.semester.id


def test_upload_strips_exif_and_stores_deterministically(home, today, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    img = Image.new("RGB", (80, 60), (200, 10, 10))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {2: (31.0, 10.0, 0.0)}  # GPS IFD
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif)
    act = activity(home.gupei, "a", today, text="t")
    item = upload(home.gupei_clerk, home.gupei, buf.getvalue(), act)
    assert item.kind == "photo" and item.file.name == f"evidence/{home.gupei.id}/{item.sha256}.jpg"
    assert item.thumbnail.name.endswith(".thumb.jpg")
    with default_storage.open(item.file.name) as fh:
        stored = Image.open(io.BytesIO(fh.read()))
        assert not stored.getexif()
    assert (item.width, item.height, item.uploaded_by_id) == (80, 60, home.gupei_clerk.id)


def test_corrupt_image_writes_nothing(home, today):
    act = activity(home.gupei, "a", today, text="t")
    with pytest.raises(ev.EvidenceError):
        upload(home.gupei_clerk, home.gupei, b"\xff\xd8\xff\xe0" + b"garbage" * 50, act)
    with tenant_scope([home.gupei.id]):
        assert Evidence.objects.count() == 0


def test_storage_failure_leaves_no_row(home, today, monkeypatch):
    act = activity(home.gupei, "a", today, text="t")

    def broken_save(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(default_storage, "save", broken_save)
    monkeypatch.setattr(default_storage, "exists", lambda name: False)
    with pytest.raises(ev.EvidenceStorageError, match="could not be saved"):
        upload(home.gupei_clerk, home.gupei, jpeg_bytes(9), act)
    with tenant_scope([home.gupei.id]):
        assert Evidence.objects.count() == 0


def test_teacher_cannot_upload_activity_evidence(home, today):
    act = activity(home.gupei, "a", today, text="t")
    with pytest.raises(PermissionDenied):
        upload(home.gupei_teacher, home.gupei, jpeg_bytes(1), act)


def test_same_photo_on_another_activity_is_flagged(home, today):
    a1 = activity(home.gupei, "a1", today, text="t")
    a2 = activity(home.gupei, "a2", today, text="t")
    first = upload(home.gupei_clerk, home.gupei, jpeg_bytes(5), a1)
    again_same_activity = upload(home.gupei_clerk, home.gupei, jpeg_bytes(5), a1)
    reused = upload(home.gupei_clerk, home.gupei, jpeg_bytes(5), a2)
    with tenant_scope([home.gupei.id]):
        assert not again_same_activity.reuse_flags.exists()
        flag = reused.reuse_flags.get(matched_evidence_id=first.id)
    assert (flag.reason, flag.matched_object_type, flag.matched_object_id) == ("sha256", "activity", a1.id)


def test_cross_school_reuse_is_flagged_and_visible_to_the_bureau(home, today):
    from schools.selectors import reuse_flags_visible_to

    original = upload(home.gupei_clerk, home.gupei, jpeg_bytes(7), activity(home.gupei, "g", today, text="t"))
    # Re-encoded at another quality: different bytes, same picture.
    img = Image.open(io.BytesIO(jpeg_bytes(7)))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=60)
    copy = upload(home.menzhuang_admin, home.menzhuang, buf.getvalue(),
                  activity(home.menzhuang, "m", today, text="t"))
    assert copy.sha256 != original.sha256
    with tenant_scope([home.menzhuang.id]):
        flag = ReusedEvidenceFlag.objects.get()
    assert (flag.evidence_id, flag.matched_school_id, flag.reason) == (copy.id, home.gupei.id, "phash")
    assert flag.distance <= 6
    # The uploading school cannot read the other school's evidence row itself.
    with tenant_scope([home.menzhuang.id]):
        assert not Evidence.objects.filter(id=original.id).exists()
    district_ids = [home.gupei.id, home.village_a.id, home.village_b.id, home.menzhuang.id]
    with tenant_scope(district_ids):
        assert list(reuse_flags_visible_to(home.bureau_inspector)) == [flag]
    with tenant_scope([home.gupei.id]):
        assert list(reuse_flags_visible_to(home.gupei_admin)) == []


def test_different_photos_are_not_flagged(home, today):
    upload(home.gupei_clerk, home.gupei, jpeg_bytes(11), activity(home.gupei, "g", today, text="t"))
    upload(home.menzhuang_admin, home.menzhuang, jpeg_bytes(12), activity(home.menzhuang, "m", today, text="t"))
    with tenant_scope([home.gupei.id, home.menzhuang.id]):
        assert ReusedEvidenceFlag.objects.count() == 0


def test_rule_documents_present_and_missing(home, today):
    from schools.selectors import rule_documents_missing, rule_documents_status

    pdf = pdf_bytes("annual plan")
    with tenant_scope([home.gupei.id]):
        assert len(rule_documents_missing(home.gupei)) == 9
        services.rule_document_version_add(actor=home.gupei_clerk, school=home.gupei, kind="annual_plan",
                                           uploaded_file=SimpleUploadedFile("plan.pdf", pdf),
                                           adopted_on=today - dt.timedelta(days=10))
        v2 = services.rule_document_version_add(actor=home.gupei_clerk, school=home.gupei, kind="annual_plan",
                                                uploaded_file=SimpleUploadedFile("plan2.pdf", pdf_bytes("annual plan v2")),
                                                adopted_on=today)
        status = {r["kind"]: r for r in rule_documents_status(home.gupei)}
        missing = [k for k, _label in rule_documents_missing(home.gupei)]
    assert v2.number == 2 and status["annual_plan"]["version"] == 2 and status["annual_plan"]["adopted_on"] == today
    assert "annual_plan" not in missing and len(missing) == 8
