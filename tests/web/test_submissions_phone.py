"""End to end in real headless Chromium at 375 px: the matrix and the copied-narrative pair
fit a phone, and the compile progress bar follows the job (static/submissions/progress.js)."""
from __future__ import annotations

import pytest
from django.conf import settings

from submissions import services
from tenancy.scoping import tenant_scope
from tests.support.browser import (
    phone_page,  # noqa: F401  (fixture)
    wait_for_script,
)

from .pages_submissions import fresh_report, seed_pair_flag, submission_of
from .test_submissions_preview import compiled_summary  # noqa: F401  (the fixture)

pytestmark = pytest.mark.needs_chromium
PHONE_WIDTH = 375


def _login(page, live_server, username):
    page.goto(live_server.url + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "Demo2026!")
    page.click("button[type=submit].btn-primary")
    page.wait_for_load_state()


def _fits(page) -> bool:
    return page.evaluate("document.scrollingElement.scrollWidth") <= PHONE_WIDTH


def test_bureau_reads_the_matrix_and_a_flagged_pair_on_a_phone(live_server, tree, phone_page):  # noqa: F811
    page = phone_page
    flag = seed_pair_flag(tree, tree.menzhuang, tree.gupei)
    report = fresh_report(tree, [tree.gupei, tree.menzhuang])  # period 1 overdue: missing cells
    _login(page, live_server, "bureau_admin")
    page.goto(f"{live_server.url}/reporting/?report_type={report.pk}")
    assert page.locator("#matrix td.cell-missing").count() >= 1
    assert _fits(page)  # the wide table scrolls inside its box, not the page
    shots = settings.VAR_DIR / "e2e"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "reporting-matrix-375.png"), full_page=True)

    page.goto(f"{live_server.url}/reporting/similarity/{flag.pk}/")
    assert page.locator("#side-a mark.shared").count() >= 1 and page.locator("#side-b mark.shared").count() >= 1
    background = page.evaluate("getComputedStyle(document.querySelector('mark.shared')).backgroundColor")
    assert background == "rgb(255, 224, 138)"
    assert _fits(page)
    page.screenshot(path=str(shots / "similarity-pair-375.png"), full_page=False)


def test_compile_progress_bar_follows_the_job(live_server, tree, phone_page):  # noqa: F811
    page = phone_page
    sub = submission_of(fresh_report(tree, [tree.gupei]), tree.gupei, 2)
    with tenant_scope([tree.gupei.id]):
        version = services.package_version_start(submission=sub, actor=tree.gupei_clerk)
        services.package_version_progress(version=version, progress=10, note="")
    _login(page, live_server, "gupei_clerk")
    page.goto(f"{live_server.url}/submissions/{sub.pk}/")
    assert page.locator("#compile-progress progress").get_attribute("value") == "10"
    with tenant_scope([tree.gupei.id]):
        services.package_version_progress(version=version, progress=60, note="")
    wait_for_script(page, "document.querySelector('#compile-progress progress').value >= 60", timeout=10)
    with tenant_scope([tree.gupei.id]):
        services.package_version_complete(version=version)
    # Finished: the page reloads and shows the compiled state, no progress bar.
    wait_for_script(page, "!document.querySelector('#compile-progress')", timeout=15)
    assert _fits(page)


def test_the_bureau_reviews_the_package_preview_on_a_phone(live_server, tree, phone_page, compiled_summary):  # noqa: F811
    page = phone_page
    _login(page, live_server, "bureau_admin")
    page.goto(f"{live_server.url}/submissions/{compiled_summary.pk}/review/")
    preview = page.locator("#package-preview")
    assert preview.locator("progress.archive-bar").count() == 5  # four contact kinds + evidenced
    assert preview.locator(".preview-activities li").count() == 20
    assert preview.locator(".preview-summary .section-title").count() == 7
    assert _fits(page)
    shots = settings.VAR_DIR / "e2e"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "package-preview-375.png"), full_page=True)
