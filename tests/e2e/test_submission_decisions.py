"""End to end in real headless Chromium at 375 px: decisions are deliberate. 报送教育局 and 通过 ask
for confirmation on a page of their own (no JavaScript needed); the review page shows the package
before the decision; an empty 退回 keeps the form open with the error next to the field; a school
asks for an unlock and the bureau grants it; the bureau reminds a late school (催报) from the
matrix; a second save of the same narrative version is refused with the user's text kept."""
from __future__ import annotations

import pytest
from django.urls import reverse

from submissions import services
from submissions.models import Status, SubmissionReminder, UnlockRequest
from tenancy.scoping import tenant_scope
from tests.web.pages_submissions import compile_with_files, fresh_report, reload, submission_of

pytestmark = pytest.mark.needs_chromium

PHONE_WIDTH = 375


def _login(page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(base + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "Demo2026!")
    page.click("button[type=submit].btn-primary")
    page.wait_for_load_state()
    assert "/login/" not in page.url


def _fits(page) -> bool:
    return page.evaluate("document.scrollingElement.scrollWidth") <= PHONE_WIDTH


def _messages(page) -> str:
    return page.locator(".messages").inner_text() if page.locator(".messages").count() else ""


def test_submit_and_accept_ask_first_and_an_empty_return_keeps_the_form(live_server, tree, phone_page):
    page, base = phone_page, live_server.url
    sub = submission_of(fresh_report(tree, [tree.gupei]), tree.gupei, 2)
    compile_with_files(sub, tree.gupei_clerk)
    detail = base + reverse("submission_detail", kwargs={"pk": sub.pk})

    _login(page, base, "gupei_clerk")
    page.goto(detail)
    page.click("form[action$='/submit/'] button[type=submit]")
    assert page.locator("h1").inner_text() == "确定报送教育局？"
    assert reload(sub).status == Status.COMPILED  # the first tap only asks
    assert _fits(page)
    heights = page.eval_on_selector_all("#confirm .btn", "els => els.map(e => e.getBoundingClientRect().height)")
    assert min(heights) >= 40
    page.click("[data-cancel]")
    page.wait_for_url(detail)
    assert reload(sub).status == Status.COMPILED
    page.click("form[action$='/submit/'] button[type=submit]")
    page.click("[data-confirm]")
    page.wait_for_url(detail)
    assert reload(sub).status == Status.SUBMITTED

    _login(page, base, "bureau_admin")
    page.goto(base + reverse("submission_review", kwargs={"pk": sub.pk}))
    # The package first, the decision after it.
    order = page.evaluate("""() => [...document.querySelectorAll('h2')].map(h => h.textContent.trim())""")
    assert order.index("材料包") < order.index("审核决定"), order
    # 退回 with only spaces: the page stays, the details stay open, the error sits by the field.
    page.click("#return summary")
    page.fill("#return textarea", "   ")
    page.click("#return button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#return").get_attribute("open") is not None
    error = page.locator("#return .errorlist")
    assert error.is_visible() and error.inner_text() == "请说明学校需要修改的内容。"
    assert page.locator("#return textarea").is_visible()
    assert reload(sub).status == Status.SUBMITTED
    # 通过 asks first, then accepts with the comment typed on the review page.
    page.fill("#accept-form textarea", "材料齐全")
    page.click("#accept-form button[type=submit]")
    assert page.locator("h1").inner_text() == "确定通过该报送？"
    assert "材料齐全" in page.locator("#confirm").inner_text()
    assert reload(sub).status == Status.SUBMITTED
    page.click("[data-confirm]")
    page.wait_for_url(base + reverse("submission_review", kwargs={"pk": sub.pk}))
    sub = reload(sub)
    assert (sub.status, sub.review_comment) == (Status.ACCEPTED, "材料齐全")


def test_a_school_asks_for_an_unlock_and_the_bureau_grants_it(live_server, tree, phone_page):
    page, base = phone_page, live_server.url
    sub = submission_of(fresh_report(tree, [tree.gupei], days_ago=40, lock_after_days=3), tree.gupei, 1)
    detail = base + reverse("submission_detail", kwargs={"pk": sub.pk})

    _login(page, base, "gupei_admin")
    page.goto(detail)
    page.click("#ask-unlock")
    page.click("button[type=submit].btn-primary")  # no reason: refused by the browser or the form
    page.fill("textarea[name=reason]", "管理员生病住院两周")
    page.click("button[type=submit].btn-primary")
    page.wait_for_url(detail)
    assert page.locator("#unlock-pending").is_visible()
    assert _fits(page)

    _login(page, base, "bureau_admin")
    page.goto(base + reverse("unlock_requests"))
    assert "管理员生病住院两周" in page.locator("#pending").inner_text()
    assert _fits(page)
    page.click("[data-grant]")
    assert page.locator("h1").inner_text() == "确定解锁该报送？"
    with tenant_scope([tree.gupei.id]):
        assert UnlockRequest.objects.get(submission=sub).status == UnlockRequest.State.PENDING
    page.click("[data-confirm]")
    page.wait_for_load_state()
    assert "已解锁" in _messages(page)
    assert "没有待处理的申请" in page.locator("#pending").inner_text()
    with tenant_scope([tree.gupei.id]):
        assert UnlockRequest.objects.get(submission=sub).status == UnlockRequest.State.GRANTED
    assert reload(sub).unlocked_until is not None


def test_the_bureau_reminds_late_schools_from_the_matrix(live_server, tree, phone_page):
    page, base = phone_page, live_server.url
    rt = fresh_report(tree, [tree.gupei, tree.menzhuang])  # period 1 is overdue at both
    late = submission_of(rt, tree.gupei, 1)

    _login(page, base, "bureau_admin")
    matrix = f"{base}{reverse('reporting_matrix')}?district={tree.district.pk}&report_type={rt.pk}"
    page.goto(matrix)
    assert page.locator("#remind li").count() == 2
    assert _fits(page)
    page.click(f"[data-remind='{late.pk}']")
    page.wait_for_load_state()
    assert f"已向{tree.gupei.name}催报" in _messages(page)
    page.click(f"[data-remind='{late.pk}']")  # a second 催报 the same day is held back, with a message
    page.wait_for_load_state()
    assert "今天已" in _messages(page)
    page.click("[data-remind-all]")
    assert page.locator("h1").inner_text() == "确定向所有逾期学校催报？"
    page.click("[data-confirm]")
    page.wait_for_load_state()
    assert "已催报 1 份" in _messages(page) and "1 份今天已催报过" in _messages(page)
    with tenant_scope([tree.gupei.id, tree.menzhuang.id]):
        assert SubmissionReminder.objects.filter(submission__report_type=rt, kind="manual").count() == 2


def test_a_second_save_of_the_same_narrative_is_refused_and_keeps_the_text(live_server, tree, phone_page):
    page, base = phone_page, live_server.url
    sub = submission_of(fresh_report(tree, [tree.gupei]), tree.gupei, 2)
    url = base + reverse("submission_narrative", kwargs={"pk": sub.pk})
    other = page.context.browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN")
    try:
        second = other.new_page()
        _login(page, base, "gupei_admin")
        _login(second, base, "gupei_clerk")
        page.goto(url)
        second.goto(url)
        page.fill("textarea[name=s1]", "管理员写的第一段。")
        page.click("button[type=submit].btn-primary")
        page.wait_for_url(base + reverse("submission_detail", kwargs={"pk": sub.pk}))
        second.fill("textarea[name=s1]", "资料员同时写的另一段。")
        second.click("button[type=submit].btn-primary")
        second.wait_for_load_state()
        assert second.url == url
        assert "在您编辑期间" in second.locator(".errorlist").inner_text()
        assert second.locator("textarea[name=s1]").input_value() == "资料员同时写的另一段。"
    finally:
        other.close()
    with tenant_scope([tree.gupei.id]):
        reload(sub).narrative.refresh_from_db()
        assert reload(sub).narrative.sections == {"s1": "管理员写的第一段。"}


def test_a_returned_report_sent_back_unchanged_asks_why(live_server, tree, phone_page):
    page, base = phone_page, live_server.url
    sub = submission_of(fresh_report(tree, [tree.gupei]), tree.gupei, 2)
    compile_with_files(sub, tree.gupei_clerk)
    with tenant_scope([tree.gupei.id]):
        services.submission_submit(actor=tree.gupei_clerk, submission=reload(sub), enqueue_similarity=False)
        services.submission_return(actor=tree.bureau_admin, submission=reload(sub), comment="请补充照片")
    compile_with_files(reload(sub), tree.gupei_clerk)  # compiled again, nothing changed
    detail = base + reverse("submission_detail", kwargs={"pk": sub.pk})

    _login(page, base, "gupei_clerk")
    page.goto(detail)
    page.click("form[action$='/submit/'] button[type=submit]")
    assert page.locator("h1").inner_text() == "确定再次报送教育局？"
    assert "退回后内容没有任何改动" in page.locator("#confirm").inner_text()
    page.click("[data-confirm]")  # no reason given
    page.wait_for_load_state()
    error = page.locator("#confirm .errorlist")
    assert error.is_visible() and "退回后内容没有任何改动" in error.inner_text()
    assert reload(sub).status == Status.RETURNED
    assert _fits(page)
    page.fill("#confirm textarea[name=note]", "照片已在第二页，无需修改")
    page.click("[data-confirm]")
    page.wait_for_url(detail)
    assert reload(sub).status == Status.RESUBMITTED
