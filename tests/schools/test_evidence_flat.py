"""A picture with (almost) no detail has a meaningless perceptual hash: every flat picture, whatever
its colour or size, hashes to 8000000000000000, and so does a plain gradient. Such photos are not
compared by pHash (they would match every other one); identical bytes still match by SHA-256."""
from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from schools import evidence as ev
from schools import services
from schools.models import ReusedEvidenceFlag
from tenancy.scoping import system_school_ids, tenant_scope
from tests.support.images import jpeg_bytes


def encoded(image: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt)
    return buf.getvalue()


def flat_png() -> bytes:
    return encoded(Image.new("RGB", (300, 200), (200, 30, 30)), "PNG")


def flat_jpeg() -> bytes:
    return encoded(Image.new("RGB", (800, 600), (20, 130, 230)), "JPEG")


def gradient(colour) -> bytes:
    ramp = Image.linear_gradient("L").resize((640, 480))
    return encoded(Image.merge("RGB", [ramp.point(lambda v, c=c: v * c // 255) for c in colour]), "JPEG")


def dot_on_white() -> bytes:
    image = Image.new("RGB", (800, 600), "white")
    ImageDraw.Draw(image).rectangle([100, 100, 108, 108], fill="black")
    return encoded(image, "JPEG")


def upload(school, data, attach_to=None):
    with tenant_scope([school.id]):
        return services.evidence_upload(actor=None, school=school, attach_to=attach_to,
                                        uploaded_file=SimpleUploadedFile("p.img", data))


def activity(school, title, day):
    with tenant_scope([school.id]):
        return services.activity_create(actor=None, school=school, date=day, kind="theme_activity", title=title,
                                        text_record="记录")


def all_flags():
    with tenant_scope(system_school_ids()):
        return list(ReusedEvidenceFlag.objects.order_by("id"))


@pytest.mark.parametrize("make", [flat_png, flat_jpeg, lambda: gradient((255, 200, 0)), dot_on_white])
def test_too_little_detail_gets_no_perceptual_hash(make):
    # The full hash is still what imagehash computes (degenerate); it is just not used for matching.
    image = Image.open(io.BytesIO(make()))
    assert ev.perceptual_hash(image).startswith("8") or ev.image_detail(image) < ev.MIN_PHASH_DETAIL
    assert ev.process_image(make()).phash == ""


def test_a_real_picture_keeps_its_hash():
    result = ev.process_image(jpeg_bytes(5))
    assert len(result.phash) == 16 and bin(int(result.phash, 16)).count("1") == 32


def test_flat_photos_of_two_schools_do_not_match(home, today):
    """The probe's case: a plain 300×200 PNG and a different plain 800×600 JPEG were flagged at distance 0."""
    first = upload(home.gupei, flat_png(), activity(home.gupei, "g", today))
    second = upload(home.menzhuang, flat_jpeg(), activity(home.menzhuang, "m", today))
    upload(home.menzhuang, gradient((255, 200, 0)), activity(home.menzhuang, "m2", today))
    upload(home.gupei, gradient((0, 90, 255)), activity(home.gupei, "g2", today))
    assert first.phash == second.phash == ""
    assert all_flags() == []


def test_identical_flat_photos_still_match_by_sha256(home, today):
    first = upload(home.gupei, flat_png(), activity(home.gupei, "g", today))
    again = upload(home.menzhuang, flat_png(), activity(home.menzhuang, "m", today))
    [flag] = all_flags()
    assert (flag.evidence_id, flag.matched_evidence_id, flag.reason, flag.distance) == (
        again.id, first.id, ReusedEvidenceFlag.Reason.SAME_FILE, 0)
