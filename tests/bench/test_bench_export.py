"""`make bench-export` smoke test: both writers run in their own process and the JSON is sane."""
import json

from django.core.management import call_command
from openpyxl import load_workbook

from benchmarks.management.commands.bench_export import write_xlsxwriter


def test_bench_export_quick(tmp_path):
    out = tmp_path / "export.json"
    call_command("bench_export", "--quick", "--output", str(out))
    report = json.loads(out.read_text())
    assert report["rows"] == 2000
    for key in ("xlsxwriter_constant_memory", "openpyxl_write_only"):
        r = report[key]
        assert r["rows"] == 2000 and r["seconds"] > 0 and r["file_bytes"] > 10_000
        assert 0 <= r["peak_mb_above_baseline"] < 200
    assert report["ratio"]["time_openpyxl_over_xlsxwriter"] > 0


def test_bench_workbook_has_every_row(tmp_path):
    path = tmp_path / "c.xlsx"
    write_xlsxwriter(str(path), 500)
    ws = load_workbook(path, read_only=True).worksheets[0]
    data = list(ws.iter_rows(values_only=True))
    assert len(data) == 501 and data[1][3].endswith("**")
