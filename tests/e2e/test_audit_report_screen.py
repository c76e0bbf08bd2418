"""The bureau admin builds this year's minors'-data audit pack from the demo data and reads the
report's first page on a phone, in real headless Chromium (the demo seeded as of today).

    WRITE_DOCS=1 .venv/bin/python -m pytest tests/e2e/test_audit_report_screen.py -p no:cacheprovider

(or `make screens`) also saves docs/screens/audit_report.png.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from privacyaudit import build
from privacyaudit.models import AuditPack
from schools.models import Child
from tenancy.scoping import system_scope
from tests.support.browser import login

pytestmark = pytest.mark.needs_chromium

NARROWEST = 360
DOCS = Path(settings.BASE_DIR) / "docs" / "screens"


def test_the_bureau_builds_and_reads_the_audit_report_on_a_phone(live_server, db, phone_page, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    call_command("seed_demo", stdout=open(os.devnull, "w"))
    page = phone_page
    login(page, live_server.url, "bureau_admin")
    page.goto(f"{live_server.url}/privacy-audit/")
    assert page.locator("h1").inner_text() == "未成年人信息审计"
    page.get_by_role("link", name="生成审计包").click()
    page.select_option("select[name=year]", str(timezone.localdate().year))
    page.get_by_role("button", name="生成审计包").click()
    page.wait_for_url("**/privacy-audit/")
    assert page.locator("progress.audit-progress").count() == 1  # queued, with its progress bar
    # The worker's part, in-process here (tests/privacyaudit runs it on a real worker).
    with system_scope("test: the pack just requested"):
        pack = AuditPack.objects.order_by("-id").first()
    assert build.build_pack(pack.pk).status == "done"
    page.reload()
    page.get_by_role("link", name="查看报告").first.click()
    assert "未成年人个人信息合规审计" in page.locator("h1").inner_text()
    body = page.locator("body").inner_text()
    assert "待整改问题" in body and "不满14周岁" in body
    with system_scope("test: the demo's children"):
        names = [n for n in Child.objects.values_list("name", flat=True) if n]
    assert names and not [n for n in names if n in body]
    out = DOCS if os.environ.get("WRITE_DOCS") == "1" else settings.VAR_DIR / "e2e"
    out.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out / "audit_report.png"), full_page=False)
    # It fits the narrowest phone, and its links are big enough to tap.
    page.set_viewport_size({"width": NARROWEST, "height": 760})
    assert page.evaluate("document.scrollingElement.scrollWidth") <= NARROWEST
    heights = page.eval_on_selector_all("a.btn", "els => els.map(e => e.getBoundingClientRect().height)")
    assert heights and min(heights) >= 40
