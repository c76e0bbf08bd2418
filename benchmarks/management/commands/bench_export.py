"""`make bench-export`: write an N-row contact log (the compile job's largest sheet) with
xlsxwriter in constant_memory mode and with openpyxl in write_only mode, each in a fresh Python
process so their memory peaks never mix; report time, peak memory above the process baseline
and the ratios, as JSON in var/bench/export.json.

Peak memory: the kernel's high-water mark of resident memory (VmHWM), reset just before writing
via /proc/self/clear_refs, minus the resident size at that moment (the baseline: interpreter +
imports). Where the reset is not allowed, ru_maxrss is used instead (an upper bound).
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

TARGET_SECONDS = 10.0
TARGET_MB = 60.0
KINDS = ["家访", "谈心", "与监护人沟通", "写信"]
SURNAMES = "王李张刘陈杨黄赵周吴徐孙朱马胡郭林何高罗"
HEADER = ["日期", "类型", "班级", "儿童（已脱敏）", "记录人"]


def rows(n: int):
    """Deterministic contact-log rows, generated on the fly (no list: the writer is measured)."""
    start = date(2026, 2, 23)
    for i in range(n):
        yield ((start + timedelta(days=i % 130)).isoformat(), KINDS[i % 4], f"{'一二三四五六'[i % 6]}({i % 4 + 1})班",
               SURNAMES[i % len(SURNAMES)] + "**", f"老师{i % 37:02d}")


def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
        return True
    except OSError:
        return False


def write_xlsxwriter(path: str, n: int) -> None:
    from documents.workbook import safe_workbook

    wb = safe_workbook(path, constant_memory=True)  # what the compile job writes with
    ws = wb.add_worksheet("Contact log")
    ws.write_row(0, 0, HEADER)
    write = ws.write_string  # the cells are text: skip write()'s type dispatch (as the compile job does)
    for r, row in enumerate(rows(n), start=1):
        for c, value in enumerate(row):
            write(r, c, value)
    wb.close()


def write_openpyxl(path: str, n: int) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Contact log")
    ws.append(HEADER)
    for row in rows(n):
        ws.append(row)
    wb.save(path)


WRITERS = {"xlsxwriter": write_xlsxwriter, "openpyxl": write_openpyxl}


def measure(writer: str, n: int) -> dict:
    """Runs inside the child process: one writer, one file, one measurement."""
    import openpyxl  # noqa: F401

    import documents.workbook  # noqa: F401  (imports belong to the baseline, not to the write)

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "contacts.xlsx")
        exact = _reset_peak()
        baseline_kb = _status_kb("VmRSS") or 0
        started, cpu_started = time.perf_counter(), time.process_time()
        WRITERS[writer](path, n)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        if exact:
            peak_kb = _status_kb("VmHWM") or 0
        else:
            peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        size = os.path.getsize(path)
    return {"writer": writer, "rows": n, "seconds": round(seconds, 3), "cpu_seconds": round(cpu, 3), "baseline_mb": round(baseline_kb / 1024, 1),
            "peak_mb_above_baseline": round(max(peak_kb - baseline_kb, 0) / 1024, 1), "file_bytes": size,
            "peak_method": "VmHWM after clear_refs" if exact else "ru_maxrss"}


def _child_run(writer: str, n: int) -> dict:
    code = ("import json,sys;from benchmarks.management.commands.bench_export import measure;"
            f"print(json.dumps(measure({writer!r}, {n})))")
    root = Path(settings.BASE_DIR)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(root), str(root / "platform")]),
               DJANGO_SETTINGS_MODULE=os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.local"))
    out = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


class Command(BaseCommand):
    help = "Benchmark writing a large contact log: xlsxwriter constant_memory vs openpyxl write_only."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=100_000)
        parser.add_argument("--quick", action="store_true", help="2,000 rows (a CI smoke test)")
        parser.add_argument("--output", default=None, help="JSON path (default var/bench/export.json)")

    def handle(self, *args, rows: int, quick: bool, output: str | None, **options):
        n = 2_000 if quick else rows
        if n <= 0:
            self.stderr.write("--rows must be positive")
            raise SystemExit(2)
        results = {name: _child_run(name, n) for name in WRITERS}
        xw, op = results["xlsxwriter"], results["openpyxl"]
        report = {
            "rows": n,
            # Wall time depends on what else the machine runs; CPU time is the writer's own cost.
            "load_average_1m": round(os.getloadavg()[0], 2),
            "cpus": os.cpu_count(),
            "xlsxwriter_constant_memory": xw,
            "openpyxl_write_only": op,
            "ratio": {
                "time_openpyxl_over_xlsxwriter": round(op["seconds"] / xw["seconds"], 2) if xw["seconds"] else None,
                "memory_openpyxl_over_xlsxwriter": (round(op["peak_mb_above_baseline"] / xw["peak_mb_above_baseline"], 2)
                                                    if xw["peak_mb_above_baseline"] else None),
            },
            "target": {"seconds": TARGET_SECONDS, "mb_above_baseline": TARGET_MB,
                       "met": xw["seconds"] < TARGET_SECONDS and xw["peak_mb_above_baseline"] <= TARGET_MB},
        }
        path = Path(output) if output else Path(settings.BASE_DIR) / "var" / "bench" / "export.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        for label, r in (("xlsxwriter constant_memory", xw), ("openpyxl write_only", op)):
            self.stdout.write(f"{label:28s} {n:>9,} rows  {r['seconds']:7.2f} s ({r['cpu_seconds']:.2f} s CPU)  "
                              f"{r['peak_mb_above_baseline']:6.1f} MB above baseline ({r['baseline_mb']} MB)")
        self.stdout.write(f"ratio openpyxl/xlsxwriter: time {report['ratio']['time_openpyxl_over_xlsxwriter']}, "
                          f"memory {report['ratio']['memory_openpyxl_over_xlsxwriter']}")
        self.stdout.write(f"target (< {TARGET_SECONDS:.0f} s, ≤ {TARGET_MB:.0f} MB): "
                          f"{'met' if report['target']['met'] else 'NOT met'} → {path}")
