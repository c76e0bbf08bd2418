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
