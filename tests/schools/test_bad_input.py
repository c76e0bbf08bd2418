"""Bad input, evidence: the files phones really send, through the real upload paths (the
REST API and the activity page), and a file store that fails during an upload.

Each case: the exact outcome, the message in the user's language, and nothing half-written (no
Evidence row, no file left in storage).
"""
from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from PIL import ExifTags, Image

from schools import evidence, services
from schools.models import Evidence
from tenancy.scoping import system_school_ids, tenant_scope
from tests.support.api import client_for

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "badinput"
sys.path.insert(0, str(CORPUS))
import build  # noqa: E402  (the corpus builder: tests/fixtures/badinput/build.py)

API = reverse("api:v1:evidence-list")
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def zh(message: str) -> str:
    """The message as a user of the platform's default language reads it."""
    with translation.override("zh-hans"):
        text = gettext(message)
    assert text != message, f"no zh-hans translation for {message!r}"
    return text


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def activity(home, today):
    with tenant_scope([home.gupei.id]):
        return services.activity_create(actor=None, school=home.gupei, date=today, kind="theme_activity",
                                        title="读书会", text_record="一起读书")


def evidence_count() -> int:
    with tenant_scope(system_school_ids()):
        return Evidence.objects.count()


def stored_files(media: Path) -> list[str]:
    return sorted(str(p.relative_to(media)) for p in media.rglob("*") if p.is_file())


def api_upload(home, activity, name: str, data: bytes, lang=EN):
    return client_for(home.gupei_clerk).post(
        API, {"school": home.gupei.id, "activity": activity.id, "file": SimpleUploadedFile(name, data)}, **lang)


def page_upload(client, home, activity, name: str, data: bytes, lang=EN):
    """The activity page's upload (upload.js posts with XHR and reads per-file JSON)."""
    client.force_login(home.gupei_clerk)
    return client.post(reverse("activity_detail", args=[home.gupei.pk, activity.pk]),
                       {"photos": SimpleUploadedFile(name, data)}, HTTP_X_REQUESTED_WITH="XMLHttpRequest", **lang)


# --- refused: a clear message, nothing written ----------------------------------------------------

REFUSED = [  # (file, msgid, its parameters)
    ("photo_truncated.jpg", "The image is damaged or incomplete and cannot be read.", None),
    ("empty.jpg", "The file is empty.", None),
    ("png_bomb.png", "The image has more than %(mp)s million pixels.", {"mp": "40"}),
]


@pytest.mark.parametrize("name,message,params", REFUSED)
def test_refused_over_the_api_with_the_reason_and_nothing_written(home, activity, media, name, message, params):
    response = api_upload(home, activity, name, corpus(name))
    assert response.status_code == 400, response.content
    # DRF refuses an empty upload itself, with its own clear message, before the service runs.
    expected = "The submitted file is empty." if name == "empty.jpg" else message % (params or {})
    assert response.json() == {"file": [expected]}
    assert evidence_count() == 0 and stored_files(media) == []


@pytest.mark.parametrize("name,message,params", REFUSED)
def test_refused_on_the_activity_page_in_chinese_and_nothing_written(client, home, activity, media, name, message,
                                                                     params):
    response = page_upload(client, home, activity, name, corpus(name), lang=ZH)
    assert response.status_code == 400
    result, = response.json()["results"]
    assert result["ok"] is False and result["name"] == name
    assert result["error"] == zh(message) % (params or {})
    assert evidence_count() == 0 and stored_files(media) == []


def test_xlsx_zip_bomb_is_refused_as_evidence(home, activity, media):
    data = build.generated_files()["xlsx_zip_bomb.xlsx"]
    assert len(data) < 400_000  # > 100 MB once inflated
    response = api_upload(home, activity, "统计表.xlsx", data)
    assert response.status_code == 400
    assert response.json() == {"file": ["The document is compressed suspiciously and was refused."]}
    assert evidence_count() == 0 and stored_files(media) == []


# --- accepted: judged by content, stored clean ----------------------------------------------------

def test_pdf_named_jpg_is_stored_as_the_pdf_it_is(home, activity, media):
    response = api_upload(home, activity, "IMG_0001.jpg", corpus("pdf_named_photo.jpg"))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "document" and body["content_type"] == "application/pdf"
    with tenant_scope([home.gupei.id]):
        item = Evidence.objects.get(pk=body["id"])
    assert item.file.name.endswith(".pdf") and not item.thumbnail
    # Stored as the PDF it is, rewritten without metadata like every document (schools.evidence).
    stored = default_storage.open(item.file.name).read()
    assert stored == evidence.check_document(corpus("pdf_named_photo.jpg")).data and stored.startswith(b"%PDF-")


@pytest.mark.parametrize("name,payload", [("polyglot_jpeg_zip.jpg", b"PK\x03\x04"),
                                          ("polyglot_jpeg_html.jpg", b"<script>")])
def test_polyglot_is_stored_as_a_plain_jpeg_without_the_payload(client, home, activity, media, name, payload):
    data = corpus(name)
    assert payload in data and Image.open(io.BytesIO(data)).format == "JPEG"  # precondition: both at once
    response = api_upload(home, activity, name, data)
    assert response.status_code == 201, response.content
    with tenant_scope([home.gupei.id]):
        item = Evidence.objects.get(pk=response.json()["id"])
    stored = default_storage.open(item.file.name).read()
    assert item.kind == "photo" and payload not in stored and b"<html" not in stored
    assert Image.open(io.BytesIO(stored)).format == "JPEG"
    # Served as the JPEG it is, never sniffed into HTML.
    client.force_login(home.gupei_clerk)
    served = client.get(reverse("evidence_file", args=[home.gupei.pk, item.pk]))
    assert served["Content-Type"] == "image/jpeg" and served["X-Content-Type-Options"] == "nosniff"


def test_iphone_heic_is_accepted_upright_as_a_stripped_jpeg(client, home, activity, media):
    assert evidence.HEIF_SUPPORTED, "pillow-heif is pinned in pyproject.toml and must load"
    data = corpus("iphone.heic")
    with Image.open(io.BytesIO(data)) as original:  # precondition: GPS inside, shot sideways
        assert original.format == "HEIF" and original.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    response = page_upload(client, home, activity, "IMG_4321.HEIC", data)
    assert response.status_code == 200, response.content
    assert response.json()["results"][0]["ok"] is True
    with tenant_scope([home.gupei.id]):
        item = Evidence.objects.get(activity=activity)
    assert (item.kind, item.content_type, item.file.name[-4:]) == ("photo", "image/jpeg", ".jpg")
    for name in (item.file.name, item.thumbnail.name):
        blob = default_storage.open(name).read()
        stored = Image.open(io.BytesIO(blob))
        assert stored.format == "JPEG" and len(stored.getexif()) == 0 and b"Apple" not in blob
    stored = Image.open(default_storage.open(item.file.name))
    assert stored.size == (300, 400)  # turned upright once (irot), not twice
    r, g, b = stored.convert("RGB").getpixel((150, 60))  # the blue left half is now the top
    assert b > 120 and r < 90


def test_heic_without_pillow_heif_is_a_clear_error(home, activity, media, monkeypatch):
    from PIL import Image as PILImage

    monkeypatch.setattr(evidence, "HEIF_SUPPORTED", False)
    # Load every Pillow plugin first: otherwise Image.open's lazy Image.init() would register WEBP
    # etc. into the patched copies below, which monkeypatch then throws away, and later tests in
    # this process could not open a WEBP any more.
    PILImage.init()
    # As if pillow-heif were missing: Pillow has no HEIF opener.
    monkeypatch.setattr(PILImage, "OPEN", {k: v for k, v in PILImage.OPEN.items() if k != "HEIF"})
    monkeypatch.setattr(PILImage, "ID", [k for k in PILImage.ID if k != "HEIF"])
    response = api_upload(home, activity, "IMG_4321.HEIC", corpus("iphone.heic"))
    assert response.status_code == 400
    assert response.json() == {"file": ["HEIC photos cannot be read on this server. Please upload the photo as JPEG."]}
    assert evidence_count() == 0 and stored_files(media) == []


# --- the file store fails during an upload ------------------------------------------------------

@pytest.fixture
def broken_media(settings, tmp_path):
    """MEDIA_ROOT below a regular file: every write fails with a real OSError (even as root,
    where a read-only directory would still be writable)."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    settings.MEDIA_ROOT = str(blocker / "media")
    return blocker


def test_unwritable_storage_over_the_api_is_a_clear_503_and_nothing_recorded(home, activity, broken_media):
    response = api_upload(home, activity, "photo.jpg", build.jpeg_bytes(), lang=ZH)
    assert response.status_code == 503
    message = response.json()["detail"]
    assert message == zh("The file could not be saved on the server, so nothing was recorded. "
                         "Please try again later; if it keeps failing, tell the administrator.")
    assert "Traceback" not in response.content.decode()
    assert evidence_count() == 0


def test_unwritable_storage_on_the_activity_page_is_a_clear_error(client, home, activity, broken_media):
    response = page_upload(client, home, activity, "photo.jpg", build.jpeg_bytes())
    assert response.status_code == 400
    result, = response.json()["results"]
    assert result["ok"] is False and result["error"].startswith("The file could not be saved on the server")
    assert evidence_count() == 0


def test_row_write_failure_removes_the_files_it_wrote(home, activity, media, monkeypatch):
    # The files are written, then the row fails (a database error): no orphan file may stay.
    def failing_log(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services.evidence, "_log", failing_log)
    with pytest.raises(RuntimeError), tenant_scope([home.gupei.id]):
        services.evidence_upload(actor=home.gupei_clerk, school=home.gupei,
                                 uploaded_file=SimpleUploadedFile("a.jpg", build.jpeg_bytes()), attach_to=activity)
    assert evidence_count() == 0 and stored_files(media) == []


def test_row_write_failure_keeps_a_file_another_row_uses(home, activity, media, monkeypatch):
    data = build.jpeg_bytes()
    response = api_upload(home, activity, "a.jpg", data)
    assert response.status_code == 201
    before = stored_files(media)
    monkeypatch.setattr(services.evidence, "_log", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("db")))
    with pytest.raises(RuntimeError), tenant_scope([home.gupei.id]):
        services.evidence_upload(actor=home.gupei_clerk, school=home.gupei,
                                 uploaded_file=SimpleUploadedFile("b.jpg", data), attach_to=activity)
    assert stored_files(media) == before and evidence_count() == 1  # the first row's files are intact


def test_rule_document_refuses_a_photo_before_storing_it(home, media, today):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="PDF, Word or Excel"), tenant_scope([home.gupei.id]):
        services.rule_document_version_add(actor=home.gupei_clerk, school=home.gupei, kind="annual_plan",
                                           uploaded_file=SimpleUploadedFile("plan.jpg", build.jpeg_bytes()),
                                           adopted_on=today)
    assert evidence_count() == 0 and stored_files(media) == []


def test_orphan_sweep_deletes_only_old_unreferenced_files(home, activity, media):
    import datetime as dt
    import time

    response = api_upload(home, activity, "a.jpg", build.jpeg_bytes())
    assert response.status_code == 201
    kept = stored_files(media)
    folder = media / "evidence" / str(home.gupei.id)
    old_orphan, young_orphan = folder / ("0" * 64 + ".jpg"), folder / ("1" * 64 + ".pdf")
    old_orphan.write_bytes(b"left over"), young_orphan.write_bytes(b"in flight")
    a_day_ago = time.time() - 86400
    for path in [old_orphan, *(media / name for name in kept)]:
        os.utime(path, (a_day_ago, a_day_ago))
    with tenant_scope([home.gupei.id]):
        assert services.evidence_orphans_sweep(school=home.gupei, min_age=dt.timedelta(hours=6)) == 1
        assert services.evidence_orphans_sweep(school=home.gupei) == 0  # idempotent
    assert stored_files(media) == sorted([*kept, str(young_orphan.relative_to(media))])


def test_over_long_caption_is_refused_not_cut(home, activity, media):
    with pytest.raises(Exception) as caught, tenant_scope([home.gupei.id]):
        services.evidence_upload(actor=home.gupei_clerk, school=home.gupei, attach_to=activity,
                                 uploaded_file=SimpleUploadedFile("a.jpg", build.jpeg_bytes()), caption="长" * 100_000)
    assert "at most 200 characters" in str(caught.value)
    assert evidence_count() == 0 and stored_files(media) == []
    response = client_for(home.gupei_clerk).post(API, {"school": home.gupei.id, "activity": activity.id,
                                                       "file": SimpleUploadedFile("a.jpg", build.jpeg_bytes()),
                                                       "caption": "长" * 100_000}, **EN)
    assert response.status_code == 400 and "caption" in response.json()
