"""Fixtures for the API tests (tests/support/api.py)."""
from tests.support.api import api_as  # noqa: F401  (fixture)
