"""Smoke test of `manage.py bench_care --quick`: it completes, scores every child in a constant
number of queries, and the naive loop agrees with it (checked by the command). No timing asserted."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_care_quick(tmp_path):
    out = tmp_path / "care.json"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    proc = subprocess.run(
        [sys.executable, "manage.py", "bench_care", "--quick", "--database", f"liushou_bench_care_smoke_{os.getpid()}",
         "--json", str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(out.read_text())
    assert result["children"] == 20 * 10
    assert result["set_based"]["queries"] == result["queries_at_10_schools"] > 0
    assert result["naive_loop"]["queries_per_child"] >= 3
    assert sum(result["levels"].values()) == result["children"] and result["levels"]["high"] > 0
