"""Fixtures for notices: the submissions report type of the tree, English messages."""
from tests.support.language import english_messages  # noqa: F401  (autouse)
from tests.support.submissions import opened, report  # noqa: F401  (fixtures)
