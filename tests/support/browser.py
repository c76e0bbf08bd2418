"""Browser helpers for the Playwright tests: a phone-sized chromium page, login, polling."""
from __future__ import annotations

import os

import pytest

from tests.support.servers import chromium_path
from tests.support.waiting import wait_until

# Playwright's sync API runs an asyncio event loop in this thread; Django's ORM calls made by
# the test itself (fixtures) would otherwise raise SynchronousOnlyOperation.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
PHONE = {"width": 375, "height": 812}


@pytest.fixture
def phone_page():
    """A page in real headless Debian chromium, at a phone's size, with a Chinese browser."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()  # skips on a bare machine, fails under REQUIRE_SERVICES=1
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai",
                                      device_scale_factor=2, is_mobile=True, has_touch=True)
        context.set_default_timeout(15_000)
        page = context.new_page()
        try:
            yield page
        finally:
            context.close()
            browser.close()


def wait_for_script(page, expression: str, *, timeout: float = 10.0, interval: float = 0.1):
    """Poll a JavaScript expression until it is truthy and return its value.

    Playwright's wait_for_function compiles its predicate with eval inside the page, which our
    Content-Security-Policy (script-src 'self', no 'unsafe-eval') rightly blocks; page.evaluate runs
    through the DevTools protocol instead, which CSP does not govern.
    """
    from playwright.sync_api import Error

    last_error = None

    def value():
        nonlocal last_error
        try:
            return page.evaluate(expression)
        except Error as exc:  # the page navigated (a reload) or the element is not there yet
            last_error = exc
            return None

    return wait_until(value, what=expression, timeout=timeout, interval=interval,
                      detail=lambda: f"(last error: {last_error})")


def collect_errors(page) -> tuple[list[str], list[str]]:
    """Record the page's console errors and uncaught exceptions, and the URLs answered with >= 400
    (a script the CSP or a missing static file blocks shows up in one of the two)."""
    errors: list[str] = []
    failed: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    return errors, failed


def login(page, base_url: str, username: str, password: str = "Demo2026!") -> None:
    """Sign in through the real login form and wait for the home page."""
    page.goto(base_url + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit].btn-primary")
    page.wait_for_url(base_url + "/")
