"""The end-to-end tests drive real chromium (tests/support/browser.py)."""
from tests.support.browser import phone_page  # noqa: F401  (fixture)
