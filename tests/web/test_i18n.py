"""Translations: a complete zh-hans catalog, committed .mo files that match their .po, and real
responses in Chinese by default and in English once chosen."""
from __future__ import annotations

import re

import polib
import pytest
from django.urls import reverse
from django.utils import translation

from config import i18n_compile
from tenancy.models import AccessLog, District, Membership, School, User
from tenancy.roles import PERMISSIONS, Role

ZH_PO = i18n_compile.REPO_ROOT / "platform" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
CJK = re.compile(r"[\u4e00-\u9fff]")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


@pytest.fixture(scope="module")
def zh_catalog():
    return polib.pofile(str(ZH_PO))


def test_zh_catalog_is_complete(zh_catalog):
    assert len(zh_catalog) > 50
    untranslated = [e.msgid for e in zh_catalog.untranslated_entries()]
    fuzzy = [e.msgid for e in zh_catalog.fuzzy_entries()]
    assert not untranslated, f"untranslated: {untranslated}"
    assert not fuzzy, f"fuzzy: {fuzzy}"
    assert not zh_catalog.metadata_is_fuzzy
    assert zh_catalog.metadata["Plural-Forms"].startswith("nplurals=1")


def test_zh_translations_keep_their_placeholders(zh_catalog):
    for e in zh_catalog.translated_entries():
        strings = [e.msgstr] if not e.msgid_plural else list(e.msgstr_plural.values())
        for s in strings:
            assert sorted(PLACEHOLDER.findall(s)) == sorted(set(PLACEHOLDER.findall(e.msgid))), e.msgid


def test_catalogs_found():
    assert ZH_PO in i18n_compile.catalogs()


@pytest.mark.parametrize("po", i18n_compile.catalogs(), ids=lambda p: str(p.relative_to(i18n_compile.REPO_ROOT)))
def test_committed_mo_matches_its_po(po):
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo} missing: run `make messages` (or python -m config.i18n_compile)"
    assert mo.read_bytes() == i18n_compile.compile_po(po), f"{mo} is stale: run python -m config.i18n_compile"


def test_check_mode_reports_no_stale_catalog():
    assert i18n_compile.main(["--check"]) == 0


def test_compiled_catalog_is_readable_by_gettext(tmp_path):
    import gettext

    mo = tmp_path / "django.mo"
    mo.write_bytes(i18n_compile.compile_po(ZH_PO))
    with mo.open("rb") as fh:
        catalog = gettext.GNUTranslations(fh)
    assert catalog.gettext("Materials clerk") == "材料员"
    assert catalog.ngettext("%(n)s entry", "%(n)s entries", 5) == "共 %(n)s 条记录"


def test_role_and_permission_labels_are_translated():
    with translation.override("zh-hans"):
        labels = [str(label) for _v, label in Role.choices] + [str(label) for _c, label in PERMISSIONS]
    assert all(CJK.search(label) for label in labels), labels
    with translation.override("zh-hans"):
        assert str(Role.TEACHER.label) == "教师 / 代理家长"
        assert str(Role.CLERK.label) == "材料员"


VERBOSE_FIELDS = {
    User: ["display_name"],
    District: ["name", "code"],
    School: ["parent", "name", "code", "township", "address", "opened_on", "closed_on"],
    Membership: ["role"],
    AccessLog: ["school", "at", "user", "action", "object_type", "object_id"],
}


def test_model_verbose_names_are_translated():
    with translation.override("zh-hans"):
        for model, names in VERBOSE_FIELDS.items():
            for name in names:
                assert CJK.search(str(model._meta.get_field(name).verbose_name)), f"{model.__name__}.{name}"
            if model is not User:
                assert CJK.search(str(model._meta.verbose_name)), model.__name__
                assert CJK.search(str(model._meta.verbose_name_plural)), model.__name__
        assert str(AccessLog._meta.verbose_name_plural) == "访问日志"


def test_pages_are_chinese_by_default_and_english_after_set_language(client, tree):
    client.force_login(tree.gupei_admin)
    url = reverse("school_detail", kwargs={"pk": tree.gupei.pk})
    body = client.get(url).content.decode()
    assert '<html lang="zh-hans">' in body
    assert "留守儿童之家" in body and "教职工与角色" in body and "更多" in body

    response = client.post(reverse("set_language"), {"language": "en", "next": url})
    assert response.status_code == 302 and response["Location"] == url
    body = client.get(url).content.decode()
    assert '<html lang="en">' in body
    assert "Left-behind children's home" in body and "Staff and roles" in body and "More" in body
    assert "教职工与角色" not in body

    client.post(reverse("set_language"), {"language": "zh-hans", "next": url})
    assert "教职工与角色" in client.get(url).content.decode()


def test_chinese_browser_gets_chinese(client, db):
    body = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert '<html lang="zh-hans">' in body and "登录" in body


def test_role_labels_in_staff_page_follow_the_language(client, tree):
    client.force_login(tree.gupei_admin)
    url = reverse("school_staff", kwargs={"pk": tree.gupei.pk})
    assert "材料员" in client.get(url).content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": url})
    assert "Materials clerk" in client.get(url).content.decode()
