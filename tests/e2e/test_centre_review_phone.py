"""The township centre school's review queue on a 360 px phone, in real headless Chromium, on the
demo district seeded as of today: gupei_township follows its start page's "村小报表审核" item to
the queue, ticks the village report waiting for it, approves it in bulk behind a confirm page, and
the row turns 已通过.

    WRITE_DOCS=1 .venv/bin/python -m pytest tests/e2e/test_centre_review_phone.py -p no:cacheprovider

(or `make screens`) also saves the queue as docs/screens/centre_review.png.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from submissions.models import Status, Submission
from tenancy.scoping import system_scope
from tests.support.browser import login

pytestmark = pytest.mark.needs_chromium

NARROWEST = 360
DOCS = Path(settings.BASE_DIR) / "docs" / "screens"


def _fits(page) -> bool:
    return page.evaluate("document.scrollingElement.scrollWidth") <= NARROWEST


def test_the_centre_reviews_its_village_reports_on_a_phone(live_server, db, phone_page, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    call_command("seed_demo", stdout=open(os.devnull, "w"))
    page, base = phone_page, live_server.url
    page.set_viewport_size({"width": NARROWEST, "height": 760})
    login(page, base, "gupei_township")

    # The start page leads to the queue.
    item = page.locator("a.todo-link[href*='/centre/reviews/']")
    assert item.count() == 1
    assert "村小报表审核" in item.inner_text()
    item.click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "村小报表审核"
    rows = page.locator("li.queue-row")
    states = page.eval_on_selector_all("li.queue-row", "els => els.map(e => e.dataset.state)")
    assert "ready" in states, states
    ready = page.locator("li.queue-row[data-state='ready']").first
    assert "待审核" in ready.inner_text()
    assert rows.count() >= 2 and "等待下级" in page.locator("#queue").inner_text()
    assert _fits(page)
    # Every control is big enough to tap.
    heights = page.eval_on_selector_all(
        "li.queue-row .pick, li.queue-row .queue-open, #bulk button, #bulk summary",
        "els => els.filter(e => e.offsetParent).map(e => e.getBoundingClientRect().height)")
    assert heights and min(heights) >= 40, heights
    out = DOCS if os.environ.get("WRITE_DOCS") == "1" else settings.VAR_DIR / "e2e"
    out.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out / "centre_review.png"), full_page=True)

    # Bulk approve: the first tap only asks.
    school = ready.get_attribute("data-school")
    ready.locator("input[type=checkbox]").check()
    page.click("[data-bulk-approve]")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith("确定审核通过")
    assert _fits(page)
    with system_scope("test: the demo's village submission"):
        waiting = Submission.objects.get(school_id=school, status__in=[Status.SUBMITTED, Status.RESUBMITTED],
                                         report_type__route="via_centre")
    page.click("[data-confirm]")
    page.wait_for_load_state()
    assert "已审核通过 1 份报表" in page.locator(".messages").inner_text()
    with system_scope("test: the demo's village submission"):
        assert Submission.objects.get(pk=waiting.pk).status == Status.APPROVED
    assert page.locator(f"li.queue-row[data-school='{school}']").get_attribute("data-state") == "passed"
    assert _fits(page)
