"""Browser helpers for the Playwright tests."""
from __future__ import annotations

import time


def wait_until(page, expression: str, *, timeout: float = 10.0, interval: float = 0.1):
    """Poll a JavaScript expression until it is truthy and return its value.

    Playwright's wait_for_function compiles its predicate with eval inside the page, which our
    Content-Security-Policy (script-src 'self', no 'unsafe-eval') rightly blocks; page.evaluate runs
    through the DevTools protocol instead, which CSP does not govern.
    """
    from playwright.sync_api import Error

    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        try:
            value = page.evaluate(expression)
        except Error as exc:  # the page navigated (a reload) or the element is not there yet
            value, last_error = None, exc
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for: {expression} (last error: {last_error})")
        time.sleep(interval)


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
