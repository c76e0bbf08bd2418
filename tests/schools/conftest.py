"""Fixtures for the school's home (tests/support/schools.py), with English messages."""
from tests.support.language import english_messages  # noqa: F401  (autouse)
from tests.support.schools import home, semester, today  # noqa: F401  (fixtures)
