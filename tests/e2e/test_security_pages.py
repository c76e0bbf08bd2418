"""End to end in real headless Chromium, under the Content-Security-Policy: the two-factor
enrolment (QR code shown, a real TOTP code typed in) and Swagger UI work with no CSP violation."""
from __future__ import annotations

import base64
import time

import pytest
from django_otp.oath import TOTP

from tests.support.browser import collect_errors, login

pytestmark = pytest.mark.needs_chromium


def _code(secret: str) -> str:
    totp = TOTP(base64.b32decode(secret), 30, 0, 6, 0)
    totp.time = time.time()
    return f"{totp.token():06d}"


def test_enrolment_and_api_docs_under_the_csp(live_server, tree, phone_page):
    page = phone_page
    errors, missing = collect_errors(page)
    login(page, live_server.url, "bureau_admin")

    page.goto(live_server.url + "/account/security/")
    page.click("a[href='/account/two-factor/setup/']")
    qr = page.locator("img[data-qr]")
    qr.wait_for()
    assert page.evaluate("document.querySelector('img[data-qr]').naturalWidth") > 0
    secret = page.locator("code[data-secret]").inner_text().replace(" ", "")
    page.fill("#id_token", _code(secret))
    page.click("button[type=submit].btn-primary")
    page.wait_for_url(live_server.url + "/")
    page.goto(live_server.url + "/account/security/")
    assert page.locator("[data-two-factor=on]").is_visible()

    page.goto(live_server.url + "/api/docs/")
    page.wait_for_selector(".swagger-ui .info .title")
    csp = [e for e in errors if "Content Security Policy" in e or "Content-Security-Policy" in e]
    assert csp == [], csp
    # The browser's own favicon probe is not ours; anything else missing or failing is.
    assert [u for u in missing if not u.endswith("/favicon.ico")] == []
    assert [e for e in errors if not e.startswith("Failed to load resource")] == [], errors


def test_revoking_an_api_token_on_a_phone(live_server, tree, phone_page):
    """The security page lists the user's API tokens at phone width; revoking asks first."""
    from tenancy.models import ApiToken

    token, _key = ApiToken.objects.create(user=tree.gupei_teacher, name="报表脚本")
    page = phone_page
    errors, _missing = collect_errors(page)
    page.goto(live_server.url + "/login/")
    page.fill("#id_username", "gupei_teacher")
    page.fill("#id_password", "Demo2026!")
    page.click("button[type=submit].btn-primary")
    page.wait_for_url(live_server.url + "/")  # a teacher lands on their start page
    page.goto(live_server.url + "/account/security/")
    row = page.locator(f"[data-api-token='{token.pk}']")
    assert "报表脚本" in row.inner_text()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 375
    button = row.locator("a.btn-danger")
    assert button.bounding_box()["height"] >= 40
    button.click()
    page.wait_for_selector("#confirm-revoke")
    assert ApiToken.objects.filter(pk=token.pk).exists(), "the confirmation page revokes nothing"
    page.click("#confirm-revoke")
    page.wait_for_selector("[data-api-tokens=none]")
    assert not ApiToken.objects.filter(pk=token.pk).exists()
    assert [e for e in errors if not e.startswith("Failed to load resource")] == [], errors
