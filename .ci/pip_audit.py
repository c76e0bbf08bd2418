"""pip-audit over the project's installed (pinned) dependencies, with an honest verdict.

Fails on any known vulnerability. pip-audit asks PyPI's per-release JSON (or OSV) about each
package; where that service cannot be reached, every package comes back "skipped" and pip-audit
itself still exits 0. Then this script says loudly that nothing was audited, and fails only under
PIP_AUDIT_STRICT=1 (a machine whose network should reach the service).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path


def main() -> int:
    venv_bin = Path(sys.executable).parent
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "audit.json"
        proc = subprocess.run(  # nosec B603 - a fixed argument list: our own venv's pip-audit
            [str(venv_bin / "pip-audit"), "--skip-editable", "--progress-spinner", "off",
             "--format", "json", "--output", str(report)],
            capture_output=True, text=True, timeout=600,
        )
        if not report.exists():
            print(proc.stdout + proc.stderr)
            print("pip-audit produced no report", file=sys.stderr)
            return proc.returncode or 1
        data = json.loads(report.read_text())
    deps = data.get("dependencies", [])
    vulnerable = [d for d in deps if d.get("vulns")]
    skipped = [d for d in deps if d.get("skip_reason")]
    audited = len(deps) - len(skipped)
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions") or []) or "no fix yet"
            print(f"VULNERABLE {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixes})")
    print(f"pip-audit: {len(deps)} packages, {audited} audited, {len(skipped)} skipped, "
          f"{len(vulnerable)} vulnerable")
    if vulnerable:
        return 1
    if skipped:
        names = ", ".join(sorted(d["name"] for d in skipped))
        print(f"WARNING: not audited (vulnerability service unreachable or package unknown): {names}")
        if audited == 0 and os.environ.get("PIP_AUDIT_STRICT") == "1":
            print("PIP_AUDIT_STRICT=1: refusing a run that audited nothing", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
