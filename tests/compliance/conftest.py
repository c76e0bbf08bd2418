"""Fixtures for compliance (tests/support/compliance.py), with English messages."""
from tests.support.compliance import assessment, test_yaml, version  # noqa: F401  (fixtures)
from tests.support.language import english_messages  # noqa: F401  (autouse)
