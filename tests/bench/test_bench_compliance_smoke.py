"""Smoke test of `manage.py bench_compliance --quick`: it completes and reports numbers.

Run as a subprocess: the command creates and drops its own database, which cannot happen inside
the test's transaction. Nothing is asserted about timings."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_compliance_quick(tmp_path):
    out = tmp_path / "compliance.json"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    proc = subprocess.run(
        [sys.executable, "manage.py", "bench_compliance", "--quick", "--database", f"liushou_bench_smoke_{os.getpid()}",
         "--json", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "score all: queries" in proc.stdout
    result = json.loads(out.read_text())
    assert result["schools"] == 20
    assert result["set_based"]["queries"] == result["queries_at_10_schools"] > 0
    assert result["naive_loop"]["queries"] > result["set_based"]["queries"]
    assert result["set_based"]["median_s"] > 0 and result["peak_python_mib"] >= 0
    # The SQL floor ran side by side (its totals equal compute_scores', checked by the command).
    assert result["sql_floor_seconds"] > 0 and result["ratio_to_sql_floor"] > 0
    assert result["setup"]["rows"]["submissions"] > 0
