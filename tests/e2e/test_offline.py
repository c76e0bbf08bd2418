"""End to end in real headless Chromium: the installable app works without a signal.

A teacher opens the tracker with a signal (the service worker installs, the phone keeps a snapshot
of their own children), loses the signal, records contacts with photos, and the records reach the
server exactly once when the signal returns, also when the sync is cut off halfway. A refused
record stays with the server's message; an edit that crossed another device's edit shows both
versions; logging out leaves no child's data in IndexedDB or the caches."""
from __future__ import annotations

import datetime as dt
import io
import os

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image

from schools import services as school_services
from schools.models import Activity, CareContact, Child, Evidence
from tenancy import services
from tenancy.scoping import tenant_scope
from tests.support.browser import CHROMIUM_ARGS, wait_for_script
from tests.support.servers import chromium_path
from tests.web.pages_archive import ensure_semester, make_child

pytestmark = pytest.mark.needs_chromium

NAMES = ["王小明", "李小红", "张小军"]
# What the phone keeps, read back through the page: every IndexedDB store and every cache entry.
DUMP_JS = """async () => {
  const out = {dbs: [], caches: []};
  const dbs = indexedDB.databases ? await indexedDB.databases() : [];
  for (const info of dbs) {
    const db = await new Promise((ok, ko) => { const r = indexedDB.open(info.name); r.onsuccess = () => ok(r.result); r.onerror = ko; });
    for (const store of db.objectStoreNames) {
      const rows = await new Promise((ok) => { const r = db.transaction(store).objectStore(store).getAll(); r.onsuccess = () => ok(r.result); });
      out.dbs.push(JSON.stringify(rows));
    }
    db.close();
  }
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const req of await cache.keys()) { out.caches.push(await (await cache.match(req)).text()); }
  }
  return out;
}"""


@pytest.fixture
def teacher_home(tree):
    """Gupei: three children of gupei_teacher; a semester around today."""
    ensure_semester(tree.district)
    today = timezone.localdate()
    tree.mine = [make_child(tree.gupei, 800 + i, name=name) for i, name in enumerate(NAMES)]
    with tenant_scope([tree.gupei.id]):
        for child in tree.mine:
            school_services.proxy_assignment_create(actor=tree.gupei_admin, child=child,
                                                    proxy_parent=tree.gupei_teacher,
                                                    starts_on=today - dt.timedelta(days=7))
    return tree


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    # Without it Playwright's offline mode does not reach the service worker's own fetches, and a
    # "offline" reload would be answered by the network through the worker.
    os.environ["PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS"] = "1"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def phone(browser, width=375):
    context = browser.new_context(viewport={"width": width, "height": 800}, locale="zh-CN",
                                  timezone_id="Asia/Shanghai", device_scale_factor=2, is_mobile=True,
                                  has_touch=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("pageerror", lambda exc: print("pageerror:", exc))
    page.on("console", lambda msg: print("console:", msg.text) if msg.type == "error" else None)
    return context, page


def sign_in(page, base, username="gupei_teacher"):
    page.goto(base + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "Demo2026!")
    page.click("button[type=submit].btn-primary")
    page.wait_for_url(f"{base}/")


def open_tracker_online(page, base, school):
    """The tracker with a signal: the service worker controls the page, the snapshot is kept."""
    page.goto(f"{base}/schools/{school.pk}/tracker/")
    wait_for_script(page, "navigator.serviceWorker.controller !== null", timeout=20)
    wait_for_script(page, "document.body.hasAttribute('data-synced')", timeout=20)


def go_offline_to_tracker(context, page):
    context.set_offline(True)
    page.reload()
    page.wait_for_selector(".tracker-rows > li")


def record(page, child, kind, notes, photos=()):
    page.click(f"button[data-cell='{child.pk}:{kind}']")
    page.fill("[data-panel] textarea[data-notes]", notes)
    if photos:
        page.set_input_files("[data-panel] input[data-photos]", [str(p) for p in photos])
    page.click("[data-panel] button[data-save]")
    page.wait_for_selector("[data-panel]", state="detached")


def waiting(page) -> int:
    return int(page.locator("[data-sync-count]").inner_text())


def gps_jpeg(path, shade: int) -> None:
    img = Image.new("RGB", (320, 240), (shade, 120, 40))
    for x in range(0, 320, 40):
        img.paste((30, 90 + (x + shade) % 120, 160), (x, 0, x + 20, 240))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: (32.0, 47.0, 10.5), 3: "E", 4: (118.0, 1.0, 2.0)}
    img.save(path, "JPEG", exif=exif, quality=90)
    assert Image.open(path).getexif().get_ifd(0x8825)


def refresh(t, contact):
    with tenant_scope([t.gupei.id]):
        contact.refresh_from_db()


def contacts_of(t):
    with tenant_scope([t.gupei.id]):
        return list(CareContact.objects.filter(child__in=t.mine).order_by("id"))


def photos_of(t):
    with tenant_scope([t.gupei.id]):
        return list(Evidence.objects.filter(care_contact__child__in=t.mine).order_by("id"))


def test_contacts_recorded_offline_reach_the_server_once(live_server, teacher_home, browser, tmp_path):
    t, base = teacher_home, live_server.url
    context, page = phone(browser)
    sign_in(page, base)
    open_tracker_online(page, base, t.gupei)

    go_offline_to_tracker(context, page)
    assert page.url == f"{base}/schools/{t.gupei.pk}/tracker/"
    assert page.locator(".tracker-rows > li").count() == 3
    assert "王小明" in page.locator("main").inner_text()
    photos = [tmp_path / "a.jpg", tmp_path / "b.jpg"]
    gps_jpeg(photos[0], 200)
    gps_jpeg(photos[1], 90)
    record(page, t.mine[0], "home_visit", "家访：奶奶身体好", photos)
    record(page, t.mine[1], "talk", "谈心")
    record(page, t.mine[2], "letter", "写信")
    assert waiting(page) == 3
    assert page.locator(f"button[data-cell='{t.mine[0].pk}:home_visit'].queued").count() == 1
    assert contacts_of(t) == []

    # The tracker offline with its waiting count, at 360 px.
    page.set_viewport_size({"width": 360, "height": 760})
    page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
    assert page.locator("[data-syncbar]").is_visible()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
    screens = settings.BASE_DIR / "docs" / "screens"
    screens.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(screens / "offline_tracker.png"))

    context.set_offline(False)  # the `online` event starts the sync
    wait_for_script(page, "document.querySelector('[data-sync-count]').textContent === '0'", timeout=30)
    contacts = contacts_of(t)
    assert sorted((c.child_id, c.kind, c.notes) for c in contacts) == sorted([
        (t.mine[0].pk, "home_visit", "家访：奶奶身体好"), (t.mine[1].pk, "talk", "谈心"), (t.mine[2].pk, "letter", "写信")])
    stored = photos_of(t)
    assert len(stored) == 2 and {e.care_contact_id for e in stored} == {contacts[0].pk}
    for item in stored:
        with default_storage.open(item.file.name, "rb") as fh:
            image = Image.open(io.BytesIO(fh.read()))
            image.load()
        assert not image.getexif(), "EXIF survived"
    # Nothing is left on the phone but the snapshot; opening the app again sends nothing twice.
    assert page.evaluate("LbcOffline.state().then(s => s.outbox.length + s.photos.length)") == 0
    page.evaluate("LbcOffline.sync()")
    assert len(contacts_of(t)) == 3 and len(photos_of(t)) == 2
    context.close()


def test_a_sync_cut_off_during_the_photos_resumes_without_duplicates(live_server, teacher_home, browser, tmp_path):
    t, base = teacher_home, live_server.url
    context, page = phone(browser)
    sign_in(page, base)
    open_tracker_online(page, base, t.gupei)
    go_offline_to_tracker(context, page)
    photos = [tmp_path / f"p{n}.jpg" for n in range(3)]
    for n, path in enumerate(photos):
        gps_jpeg(path, 40 + 60 * n)
    record(page, t.mine[0], "home_visit", "三张照片", photos)

    # The 2nd photo reaches the server, which stores it, but the answer never reaches the phone.
    uploads = []

    def cut(route):
        uploads.append(route.request.url)
        if len(uploads) == 2:
            route.fetch()  # the server writes it ...
            context.set_offline(True)  # ... and the signal is gone before the answer arrives
            route.abort("internetdisconnected")
            return
        route.continue_()

    page.route("**/api/v1/evidence/", cut)
    context.set_offline(False)
    wait_for_script(page, "document.body.hasAttribute('data-syncing') === false && "
                          "LbcOffline.state().then(s => s.photos.length === 2)", timeout=30)
    assert len(contacts_of(t)) == 1
    assert len(photos_of(t)) == 2  # the first, and the second whose answer was lost
    assert waiting(page) == 1

    page.unroute("**/api/v1/evidence/")
    context.set_offline(False)
    wait_for_script(page, "document.querySelector('[data-sync-count]').textContent === '0'", timeout=30)
    assert len(contacts_of(t)) == 1
    assert len(photos_of(t)) == 3  # the lost answer's photo once, not twice
    context.close()


def test_a_refused_contact_stays_with_the_servers_message_and_can_be_discarded(live_server, teacher_home, browser):
    t, base = teacher_home, live_server.url
    context, page = phone(browser)
    sign_in(page, base)
    open_tracker_online(page, base, t.gupei)
    go_offline_to_tracker(context, page)
    record(page, t.mine[1], "home_visit", "转学前的家访")
    record(page, t.mine[0], "talk", "谈心")

    # Meanwhile the school records the child's transfer.
    with tenant_scope([t.gupei.id]):
        school_services.child_status_set(actor=t.gupei_admin, child=Child.objects.get(pk=t.mine[1].pk),
                                         status=Child.Status.TRANSFERRED, since=timezone.localdate(), note="随父母转学")
    context.set_offline(False)
    item = page.locator("[data-outbox-item][data-status=refused]")
    wait_for_script(page, "document.querySelector('[data-sync-count]').textContent === '1'", timeout=30)
    item.wait_for()
    message = item.locator("[data-error]").inner_text()
    assert "不在您的名单" in message  # the server's own message
    assert [c.child_id for c in contacts_of(t)] == [t.mine[0].pk]
    assert waiting(page) == 1
    # It survives a reload (it is on the phone): the sync bar points to it, and the teacher discards it.
    page.reload()
    page.click("[data-sync-problems]")
    page.wait_for_url(f"{base}/offline/tracker/#outbox")
    page.wait_for_selector("[data-outbox-item][data-status=refused]")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("[data-outbox-item] button[data-discard]")
    wait_for_script(page, "document.querySelector('[data-sync-count]').textContent === '0'", timeout=30)
    assert [c.child_id for c in contacts_of(t)] == [t.mine[0].pk]
    # The transferred child has left the phone with the sync.
    page.evaluate("LbcOffline.sync()")
    names = page.evaluate("LbcOffline.state().then(s => s.snapshot.children.map(c => c.name))")
    assert NAMES[1] not in names and NAMES[0] in names
    context.close()


def test_two_phones_edit_one_contact_offline_and_the_second_chooses(live_server, teacher_home, browser):
    t, base = teacher_home, live_server.url
    with tenant_scope([t.gupei.id]):
        contact = school_services.care_contact_record(actor=t.gupei_teacher, child_id=t.mine[0].pk, kind="home_visit",
                                                      happened_on=timezone.localdate(), notes="原来的记录")
    phones = [phone(browser) for _ in range(2)]
    for context, page in phones:
        sign_in(page, base)
        open_tracker_online(page, base, t.gupei)
        go_offline_to_tracker(context, page)
    for n, (_context, page) in enumerate(phones):
        page.click(f"button[data-edit-contact='{contact.pk}']")
        page.fill("[data-panel] textarea[data-notes]", f"第{n + 1}台手机的记录")
        page.click("[data-panel] button[data-save]")
        page.wait_for_selector("[data-panel]", state="detached")

    first, second = phones
    first[0].set_offline(False)
    wait_for_script(first[1], "document.querySelector('[data-sync-count]').textContent === '0'", timeout=30)
    refresh(t, contact)
    assert (contact.notes, contact.version) == ("第1台手机的记录", 2)

    second[0].set_offline(False)
    conflict = second[1].locator("[data-outbox-item][data-status=conflict]")
    conflict.wait_for()
    # Both versions side by side; nothing was overwritten.
    assert conflict.locator("[data-side=mine]").inner_text().endswith("第2台手机的记录")
    assert conflict.locator("[data-side=theirs]").inner_text().endswith("第1台手机的记录")
    (mine_x, mine_y, width), (theirs_x, theirs_y, _w) = second[1].evaluate(
        "[...document.querySelectorAll('[data-status=conflict] [data-side]')]"
        ".map(e => { const r = e.getBoundingClientRect(); return [r.x, r.y, r.width]; })")
    assert abs(mine_y - theirs_y) < 2 and mine_x + width <= theirs_x and width > 100
    refresh(t, contact)
    assert contact.notes == "第1台手机的记录"
    assert second[1].evaluate("document.scrollingElement.scrollWidth") <= 375

    # The user chooses once the sync that found the conflict is over (its end redraws the list).
    wait_for_script(second[1], "!document.body.hasAttribute('data-syncing')", timeout=30)
    second[1].locator("[data-outbox-item][data-status=conflict] button[data-keep-mine]").click()
    wait_for_script(second[1], "document.querySelector('[data-sync-count]').textContent === '0'", timeout=30)
    refresh(t, contact)
    assert (contact.notes, contact.version) == ("第2台手机的记录", 3)
    for context, _page in phones:
        context.close()


def test_logging_out_leaves_no_child_data_on_the_phone(live_server, teacher_home, browser):
    t, base = teacher_home, live_server.url
    context, page = phone(browser)
    sign_in(page, base)
    open_tracker_online(page, base, t.gupei)
    go_offline_to_tracker(context, page)
    record(page, t.mine[0], "talk", "离线谈心")
    held = page.evaluate(DUMP_JS)
    assert any(NAMES[0] in rows for rows in held["dbs"])  # the phone did hold it

    context.set_offline(False)
    wait_for_script(page, "document.querySelector('[data-sync-count]').textContent === '0'", timeout=30)
    page.goto(base + "/more/")
    page.click("form.logout-form button[type=submit]")
    page.wait_for_url(f"{base}/login/**")
    held = page.evaluate(DUMP_JS)
    text = " ".join(held["dbs"] + held["caches"])
    for name in NAMES:
        assert name not in text
    assert "离线谈心" not in text
    context.close()


def test_a_revoked_role_clears_the_phone(live_server, teacher_home, browser):
    t, base = teacher_home, live_server.url
    context, page = phone(browser)
    sign_in(page, base)
    open_tracker_online(page, base, t.gupei)
    assert page.evaluate("LbcOffline.state().then(s => s.snapshot.children.length)") == 3
    with tenant_scope([t.gupei.id]):
        for membership in list(t.gupei_teacher.memberships.all()):
            services.membership_revoke(actor=None, membership=membership)
    page.evaluate("LbcOffline.sync()")
    assert page.evaluate("LbcOffline.state().then(s => s.snapshot)") is None
    context.close()


def test_the_start_page_offline_shows_the_synced_to_do_list_and_other_pages_need_the_network(
        live_server, teacher_home, browser):
    t, base = teacher_home, live_server.url
    context, page = phone(browser, width=360)
    sign_in(page, base)
    open_tracker_online(page, base, t.gupei)
    context.set_offline(True)
    page.goto(base + "/")
    page.wait_for_selector("[data-offline-home] [data-sections] li")
    assert "同步" in page.locator("[data-offline-home] [data-age]").inner_text()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
    # The sync bar with the install button too (shown when the browser offers to install) fits.
    page.evaluate("document.querySelector('[data-install]').hidden = false")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
    heights = page.eval_on_selector_all("[data-syncbar] button", "els => els.map(e => e.getBoundingClientRect().height)")
    assert len(heights) == 2 and min(heights) >= 40
    page.goto(f"{base}/schools/{t.gupei.pk}/children/")
    page.wait_for_selector("[data-need-network]")
    assert "需要网络" in page.locator("h1").inner_text()
    context.close()


def test_the_clerk_adds_an_activity_with_photos_offline(live_server, teacher_home, browser, tmp_path):
    t, base = teacher_home, live_server.url
    context, page = phone(browser)
    sign_in(page, base, "gupei_clerk")
    page.goto(f"{base}/schools/{t.gupei.pk}/activities/")
    wait_for_script(page, "navigator.serviceWorker.controller !== null", timeout=20)
    wait_for_script(page, "document.body.hasAttribute('data-synced')", timeout=20)
    context.set_offline(True)
    page.reload()
    page.wait_for_selector("form[data-offline-activity]:not([hidden])")
    photo = tmp_path / "act.jpg"
    gps_jpeg(photo, 150)
    page.fill("#act-title", "离线读书会")
    page.fill("#act-text", "同学们一起读书")
    page.set_input_files("#act-photos", str(photo))
    page.click("form[data-offline-activity] button[type=submit]")
    wait_for_script(page, "document.querySelector('[data-sync-count]').textContent === '1'")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 375

    context.set_offline(False)
    wait_for_script(page, "document.querySelector('[data-sync-count]').textContent === '0'", timeout=30)
    with tenant_scope([t.gupei.id]):
        activity = Activity.objects.get(school=t.gupei, title="离线读书会")
        assert activity.text_record == "同学们一起读书"
        assert Evidence.objects.filter(activity=activity).count() == 1
    context.close()


def test_offline_data_expires_after_the_configured_days_without_a_sync(live_server, teacher_home, browser):
    t, base = teacher_home, live_server.url
    context, page = phone(browser)
    sign_in(page, base)
    open_tracker_online(page, base, t.gupei)
    assert page.evaluate("Number(document.body.dataset.offlineDays)") == settings.OFFLINE_MAX_AGE_DAYS
    context.set_offline(True)
    # The last sync was one day longer ago than the setting allows.
    page.evaluate("""LbcOffline.state().then(s => {
        s.snapshot.received = Date.now() - (s.snapshot.max_age_days + 1) * 86400000;
        return LbcOffline.put("meta", s.snapshot, "snapshot"); })""")
    page.reload()
    page.wait_for_selector("[data-offline-tracker] [data-empty]:not([hidden])")
    assert page.locator(".tracker-rows > li").count() == 0
    held = page.evaluate(DUMP_JS)
    assert not any(name in " ".join(held["dbs"]) for name in NAMES)
    context.close()
