"""End to end in real headless Chromium at 375 px: the clerk uploads a phone photo carrying GPS
EXIF to an activity; the stored file has no EXIF at all."""
from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image

from schools import services
from schools.models import Evidence
from tenancy.scoping import tenant_scope
from tests.support.browser import wait_for_script

pytestmark = pytest.mark.needs_chromium

PHONE_WIDTH = 375


def _gps_jpeg(path) -> None:
    img = Image.new("RGB", (640, 480), (200, 120, 40))
    for x in range(0, 640, 40):  # some structure so it looks like a picture, not a flat colour
        img.paste((30, 90 + x % 120, 160), (x, 0, x + 20, 480))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone 12"  # Model
    exif[0x8825] = {1: "N", 2: (32.0, 47.0, 10.5), 3: "E", 4: (118.0, 1.0, 2.0)}  # GPS IFD
    img.save(path, "JPEG", exif=exif, quality=90)
    assert Image.open(path).getexif().get_ifd(0x8825), "the test photo must carry GPS"


def test_clerk_uploads_a_gps_photo_and_the_stored_file_has_no_exif(live_server, tree, phone_page, tmp_path):
    with tenant_scope([tree.gupei.id]):
        activity = services.activity_create(actor=None, school=tree.gupei, date=timezone.localdate(),
                                             kind="theme_activity", title="快乐读书", text_record="大家一起读书")
    photo = tmp_path / "IMG_0001.jpg"
    _gps_jpeg(photo)

    page = phone_page
    page.goto(live_server.url + "/login/")
    page.fill("#id_username", "gupei_clerk")
    page.fill("#id_password", "Demo2026!")
    page.click("button[type=submit].btn-primary")
    page.wait_for_load_state()

    page.goto(f"{live_server.url}/schools/{tree.gupei.pk}/activities/")
    page.click(f"[data-activity='{activity.pk}'] a")
    page.wait_for_url(f"{live_server.url}/schools/{tree.gupei.pk}/activities/{activity.pk}/")
    assert page.locator("h1").inner_text() == "快乐读书"
    file_input = page.locator("input[type=file][name=photos]")
    assert file_input.get_attribute("multiple") is not None
    assert file_input.get_attribute("accept") == "image/*"
    file_input.set_input_files(str(photo))
    page.click("form[data-upload] button[type=submit]")
    # upload.js sends the file with XHR, shows progress, then adds the thumbnail to the gallery.
    page.wait_for_selector("[data-progress] li.ok")
    page.wait_for_selector("[data-gallery] img")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE_WIDTH

    with tenant_scope([tree.gupei.id]):
        item = Evidence.objects.get(activity=activity)
    assert item.uploaded_by_id == tree.gupei_clerk.id
    for name in (item.file.name, item.thumbnail.name):
        with default_storage.open(name, "rb") as fh:
            stored = Image.open(io.BytesIO(fh.read()))
            stored.load()
        assert not stored.getexif().get_ifd(0x8825), "GPS survived"
        assert not stored.getexif(), "EXIF survived"
        assert "exif" not in stored.info

    # The thumbnail the browser shows came through the scoped view and decoded.
    # Wait for the browser to finish loading it (the gallery adds the <img> before it has loaded);
    # a broken image completes with naturalWidth 0, so this still fails on a bad thumbnail.
    wait_for_script(page, "document.querySelector('[data-gallery] img').complete")
    width = page.evaluate("document.querySelector('[data-gallery] img').naturalWidth")
    assert width > 0
    page.reload()
    assert page.locator("[data-gallery] img").count() == 1
    assert page.locator(".facts .tag-ok").count() == 1  # photo + text record: evidenced
    shots = settings.VAR_DIR / "e2e"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "activity-photo-upload-375.png"), full_page=True)

    # The week view and the home setup page also fit the phone.
    for path, shot in ((f"/schools/{tree.gupei.pk}/activities/", "activities-week-375.png"),
                       (f"/schools/{tree.gupei.pk}/home/", "home-setup-375.png")):
        page.goto(live_server.url + path)
        assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE_WIDTH, path
        page.screenshot(path=str(shots / shot), full_page=True)
    assert page.locator("[data-rule]").count() == 9


def test_a_file_that_is_not_a_photo_is_refused_as_not_a_photo(live_server, tree, phone_page, tmp_path):
    """Offered as a photo, a text file is "not a photo", not judged as a document."""
    with tenant_scope([tree.gupei.id]):
        activity = services.activity_create(actor=None, school=tree.gupei, date=timezone.localdate(),
                                             kind="theme_activity", title="手工课", text_record="做风筝")
    notes = tmp_path / "名单.txt"
    notes.write_text("张三\n李四\n", encoding="utf-8")

    page = phone_page
    page.goto(live_server.url + "/login/")
    page.fill("#id_username", "gupei_clerk")
    page.fill("#id_password", "Demo2026!")
    page.click("button[type=submit].btn-primary")
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/schools/{tree.gupei.pk}/activities/{activity.pk}/")
    page.locator("input[type=file][name=photos]").set_input_files(str(notes))
    page.click("form[data-upload] button[type=submit]")
    page.wait_for_selector("[data-progress] li.err")
    text = page.locator("[data-progress] li.err").inner_text()
    assert "该文件不是照片" in text, text
    assert "PDF" not in text and "Word" not in text
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE_WIDTH
    with tenant_scope([tree.gupei.id]):
        assert not Evidence.objects.filter(activity=activity).exists()
