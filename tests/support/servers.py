"""Servers and programs some tests need that a bare machine may lack (a broker server, chromium).

Under a bare `make test` they skip with a clear reason. `.ci/run` sets REQUIRE_SERVICES=1, which
turns such a skip into a failure so CI always runs them.
"""
from __future__ import annotations

import os
import shutil

import pytest


def services_required() -> bool:
    return os.environ.get("REQUIRE_SERVICES") == "1"


def require(available: bool, reason: str) -> None:
    """Skip (bare machine) or fail (CI) when a needed service or program is missing."""
    if available:
        return
    if services_required():
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def chromium_path() -> str:
    """Debian's chromium on PATH, for Playwright's executable_path."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    require(path is not None, "Debian's chromium is not installed (apt-get install chromium)")
    return path
