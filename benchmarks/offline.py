"""The offline sync, measured: a teacher's phone (real headless Chromium) holds 50 contacts and 10
photos recorded without a signal; the signal returns; how long until the last one is confirmed by
the server and gone from the phone.

Runs against the migrated database the caller chose (a throwaway one, see bench_offline) with
Django's own threaded live server on localhost (a secure context, so the service worker runs).
"""
from __future__ import annotations

import base64
import datetime as dt
import io
import os
import shutil
import time

from PIL import Image

PASSWORD = "Bench-offline-2026"
JS_QUEUE = """async ([records, photos]) => {
  const blobs = photos.map((b64, n) => {
    const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
    return new File([bytes], `photo-${n + 1}.jpg`, {type: "image/jpeg"});
  });
  for (const [n, r] of records.entries()) {
    await LbcOffline.queue(r, n < blobs.length ? [blobs[n]] : []);
  }
}"""


def build(children: int = 50) -> dict:
    """A district, a school with a semester around today, a teacher with `children` assigned children."""
    from schools import services as school_services
    from schools.models import Semester
    from tenancy import services as tenancy_services
    from tenancy.models import District, School
    from tenancy.roles import Role
    from tenancy.scoping import district_scope, tenant_scope

    today = dt.date.today()
    district = District.objects.create(name="离线基准教育局", code="bench-offline")
    with district_scope(district):
        Semester.objects.create(district=district, name="基准学期", start=today - dt.timedelta(days=80),
                                end=today + dt.timedelta(days=60))
    school = School.objects.create(district=district, name="离线基准小学", code="bench-offline-1")
    teacher = tenancy_services.user_create(username="bench_offline_teacher", password=PASSWORD)
    tenancy_services.membership_grant(user=teacher, role=Role.TEACHER, school=school)
    ids = []
    with tenant_scope([school.id]):
        for n in range(children):
            child = school_services.child_create(
                actor=None, school=school, name=f"孩子{n:02d}", gender="female", grade=3 + n % 3,
                class_name=f"{3 + n % 3}(1)班", left_behind_kind="both", status_since=today - dt.timedelta(days=90))
            school_services.proxy_assignment_create(actor=None, child=child, proxy_parent=teacher,
                                                    starts_on=today - dt.timedelta(days=30))
            ids.append(child.id)
    return {"school": school.id, "children": ids, "teacher": teacher.username}


def photo_bytes(n: int, size=(1920, 1440)) -> bytes:
    """A phone-sized JPEG with EXIF/GPS (what a real upload carries and the server strips)."""
    img = Image.new("RGB", size, (40 + 17 * n % 200, 120, 60))
    for x in range(0, size[0], 48):
        img.paste((30, (90 + x + 13 * n) % 255, 160), (x, 0, x + 24, size[1]))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (32.0, 47.0, 10.5), 3: "E", 4: (118.0, 1.0, 2.0)}
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif, quality=85)
    return out.getvalue()


def run(data: dict, *, contacts: int = 50, photos: int = 10) -> dict:
    """Serve the app, record offline in Chromium, measure the sync after the signal returns."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.test.testcases import LiveServerThread
    from playwright.sync_api import sync_playwright

    from schools.models import CareContact, Evidence
    from tenancy.scoping import tenant_scope

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        raise RuntimeError("Debian's chromium is not installed (apt-get install chromium)")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    # Playwright's offline mode reaches the service worker's own requests only with this.
    os.environ["PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS"] = "1"
    server = LiveServerThread("localhost", StaticFilesHandler)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    base = f"http://localhost:{server.port}"
    kinds = ["home_visit", "talk", "guardian_contact", "letter"]
    today = dt.date.today().isoformat()
    records = [{"type": "contact", "school": data["school"], "label": f"bench {n}",
                "payload": {"child": data["children"][n % len(data["children"])], "kind": kinds[n % 4],
                            "happened_on": today, "notes": f"离线记录 {n}"}} for n in range(contacts)]
    blobs = [photo_bytes(n) for n in range(photos)]
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=executable, headless=True,
                                         args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
            context = browser.new_context(viewport={"width": 375, "height": 800}, locale="zh-CN")
            context.set_default_timeout(60_000)
            page = context.new_page()
            page.goto(base + "/login/")
            page.fill("#id_username", data["teacher"])
            page.fill("#id_password", PASSWORD)
            page.click("button[type=submit].btn-primary")
            page.wait_for_url(base + "/")
            page.goto(f"{base}/schools/{data['school']}/tracker/")
            _wait(page, "navigator.serviceWorker.controller !== null && document.body.hasAttribute('data-synced')")
            context.set_offline(True)
            page.reload()
            page.wait_for_selector(".tracker-rows > li")
            page.evaluate(JS_QUEUE, [records, [base64.b64encode(b).decode() for b in blobs]])
            waiting = int(page.locator("[data-sync-count]").inner_text())
            started = time.perf_counter()
            context.set_offline(False)
            _wait(page, "document.querySelector('[data-sync-count]').textContent === '0' && "
                        "!document.body.hasAttribute('data-syncing')", timeout=600)
            seconds = time.perf_counter() - started
            context.close()
            browser.close()
    finally:
        server.terminate()
        server.join(10)
    with tenant_scope([data["school"]]):
        stored_contacts = CareContact.objects.filter(school_id=data["school"]).count()
        stored_photos = Evidence.objects.filter(school_id=data["school"], care_contact__isnull=False).count()
    return {"contacts": contacts, "photos": photos, "photo_bytes_avg": sum(map(len, blobs)) // max(1, len(blobs)),
            "waiting_before": waiting, "sync_s": round(seconds, 2),
            "per_record_ms": round(seconds * 1000 / max(1, contacts + photos), 1),
            "stored_contacts": stored_contacts, "stored_photos": stored_photos,
            "exactly_once": stored_contacts == contacts and stored_photos == photos}


def _wait(page, expression: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {expression}")
        time.sleep(0.05)
