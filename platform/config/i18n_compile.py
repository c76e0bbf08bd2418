"""Compile every gettext catalog (.po) of the project to .mo in pure Python (polib).

A fresh machine has no GNU gettext, so the .mo files are committed and this module regenerates them:

    python -m config.i18n_compile          # rewrite every stale .mo (platform/ on sys.path)
    python -m config.i18n_compile --check  # exit 1 if a committed .mo differs from its .po

Like msgfmt without --use-fuzzy, fuzzy and obsolete entries are left out; the output is
deterministic (entries sorted by msgid), so tests can compare committed and fresh bytes.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polib

REPO_ROOT = Path(__file__).resolve().parents[2]
SKIP_DIRS = {".venv", "var", "staticfiles", "node_modules", ".git"}


def catalogs(root: Path = REPO_ROOT) -> list[Path]:
    """Every `<somewhere>/locale/<lang>/LC_MESSAGES/*.po` of the project (not of the virtualenv)."""
    found = []
    for po in root.rglob("*.po"):
        rel = po.relative_to(root)
        if rel.parts[0] in SKIP_DIRS:
            continue
        if len(rel.parts) >= 4 and rel.parts[-2] == "LC_MESSAGES" and rel.parts[-4] == "locale":
            found.append(po)
    return sorted(found)


def compile_po(po_path: Path) -> bytes:
    """The .mo bytes for one catalog."""
    return polib.pofile(str(po_path), wrapwidth=0).to_binary()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale .mo files")
    args = parser.parse_args(argv)
    stale = []
    for po in catalogs():
        mo = po.with_suffix(".mo")
        data = compile_po(po)
        if mo.exists() and mo.read_bytes() == data:
            continue
        stale.append(mo)
        if not args.check:
            mo.write_bytes(data)
            print(f"compiled {mo.relative_to(REPO_ROOT)}")
    if args.check and stale:
        for mo in stale:
            print(f"stale: {mo.relative_to(REPO_ROOT)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
