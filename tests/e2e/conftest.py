import os

import pytest

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

    from tests.support.servers import chromium_path

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
