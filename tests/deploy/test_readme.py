"""README.md: the sections in the order the issue asks, and every environment variable documented."""
from __future__ import annotations

import re

from .support import ROOT

README = ROOT / "README.md"
# Where the code reads the environment.
SOURCES = [
    *sorted((ROOT / "platform" / "config").rglob("*.py")),
    *sorted((ROOT / "ops" / "management" / "commands").glob("*.py")),
    ROOT / "deploy" / "gunicorn.conf.py",
]
_READS = re.compile(
    r"""(?:\benv(?:\.\w+)?\(|os\.environ\.get\(|os\.environ\[|os\.environ\.setdefault\(|os\.getenv\()\s*["']([A-Z][A-Z0-9_]+)["']"""
)


def env_vars_read(paths) -> set[str]:
    names: set[str] = set()
    for path in paths:
        names |= set(_READS.findall(path.read_text()))
    return names


def test_sections_in_order():
    headings = [line for line in README.read_text().splitlines() if line.startswith("## ")]
    order = ["what it is", "two commands", "demo logins", "configuration", "docker-compose"]
    positions = []
    for key in order:
        matches = [i for i, h in enumerate(headings) if key in h.lower()]
        assert matches, (key, headings)
        positions.append(matches[0])
    assert positions == sorted(positions), headings


def test_every_environment_variable_is_documented():
    names = env_vars_read(SOURCES)
    # The scan must find what we know is read, or it proves nothing.
    assert {"DATABASE_URL", "DJANGO_SECRET_KEY", "EMBEDDED_PG_DIR", "DATABASE_ADMIN_URL", "PORT"} <= names
    text = README.read_text()
    undocumented = sorted(n for n in names if f"`{n}`" not in text)
    assert undocumented == []


def test_scan_catches_an_undocumented_variable(tmp_path):
    source = tmp_path / "settings.py"
    source.write_text('X = env.int("SOME_NEW_SETTING", default=1)\nY = os.environ.get("OTHER_ONE")\n')
    assert env_vars_read([source]) == {"SOME_NEW_SETTING", "OTHER_ONE"}


def test_demo_logins_and_password_are_documented():
    from tenancy.demo import DEMO_PASSWORD, USERS

    text = README.read_text()
    assert DEMO_PASSWORD in text
    for username, *_ in USERS:
        assert f"`{username}`" in text, username
