"""Downloads are saved under Chinese names (RFC 5987 filename*) with an ASCII fallback, the same
on the page and in the API; a package file names the school, report, period, kind and version."""
from __future__ import annotations

from urllib.parse import quote, unquote

from django.urls import reverse

from tenancy.downloads import content_disposition, download_name
from tests.support.api import client_for

from .pages_submissions import compile_with_files, fresh_report, submission_of


def _saved_name(header: str) -> str:
    star = header.split("filename*=UTF-8''", 1)[1]
    return unquote(star)


def test_a_package_file_is_saved_under_its_chinese_name(client, tree):
    rt = fresh_report(tree, [tree.gupei])
    sub = submission_of(rt, tree.gupei, 2)
    period = sub.period
    version = compile_with_files(sub, tree.gupei_clerk)
    client.force_login(tree.gupei_clerk)
    page = client.get(reverse("submission_package_download",
                              kwargs={"pk": sub.pk, "version": version.version, "kind": "xlsx"}))
    want = f"古沛中心小学-{rt.name}-{period.start_on:%Y%m%d}-{period.end_on:%Y%m%d}-数据汇总表-第1版.xlsx"
    header = page["Content-Disposition"]
    assert header.startswith('attachment; filename="')
    assert _saved_name(header) == want
    fallback = header.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback.isascii() and fallback.endswith(".xlsx") and "gupei" in fallback
    # The API's download of the same file carries the same header.
    api = client_for(tree.gupei_clerk).get(f"/api/v1/package-versions/{version.pk}/download/xlsx/",
                                          HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert api.status_code == 200 and _saved_name(api["Content-Disposition"]) == want


def test_names_cannot_break_the_header_or_the_path():
    name = download_name('学校"/..\\名', "报送\r\n", ext="xlsx")
    assert "/" not in name and "\\" not in name and '"' not in name and "\n" not in name
    header = content_disposition(name)
    assert "\r" not in header and "\n" not in header
    assert header.split("filename*=UTF-8''", 1)[1] == quote(name, safe="")
    fallback = header.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback.isascii() and fallback.endswith(".xlsx")
