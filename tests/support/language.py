"""English messages for tests that read them."""
from __future__ import annotations

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def english_messages(request, settings):
    """Services, documents and pages in English: the messages are written with English msgids,
    the UI default is zh-hans (its translation is tested in tests/web/test_i18n.py). Autouse
    wherever it is imported. Tests marked `platform_language` keep zh-hans, to check the Chinese."""
    if request.node.get_closest_marker("platform_language"):
        yield
        return
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
