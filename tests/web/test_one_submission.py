"""Pages: a create form's client_id makes a repeated submission the first one (no second row),
and the new-child form asks to confirm a child with the same name and birth date; the import
preview shows such rows as warnings with a tick to confirm."""
from __future__ import annotations

import datetime as dt
import re

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from schools.importing import make_id_number
from schools.models import Child
from tenancy.scoping import tenant_scope

BORN = dt.date(2016, 3, 1)


def form_data(client_id="", **extra):
    return {"name": "刘小花", "gender": "female", "birth_date": BORN.isoformat(), "grade": "4",
            "class_name": "四(1)班", "left_behind_kind": "both", "client_id": client_id, **extra}


def children(school):
    with tenant_scope([school.id]):
        return list(Child.objects.filter(school=school).order_by("id"))


def _client_id(html: str) -> str:
    return re.search(r'name="client_id" value="([^"]+)"', html).group(1)


def test_the_new_child_form_sent_twice_adds_one_child_and_shows_the_first(client, tree):
    client.force_login(tree.gupei_admin)
    url = reverse("child_create", kwargs={"school_pk": tree.gupei.pk})
    client_id = _client_id(client.get(url).content.decode())
    first = client.post(url, form_data(client_id))
    again = client.post(url, form_data(client_id))
    made = children(tree.gupei)
    assert len(made) == 1
    detail = reverse("child_detail", kwargs={"school_pk": tree.gupei.pk, "pk": made[0].pk})
    assert first.status_code == again.status_code == 302 and first["Location"] == again["Location"] == detail
    # A fresh form has a fresh id: the next child is its own.
    assert _client_id(client.get(url).content.decode()) != client_id


def test_the_same_name_and_birth_date_needs_the_confirmation(client, tree):
    client.force_login(tree.gupei_admin)
    url = reverse("child_create", kwargs={"school_pk": tree.gupei.pk})
    client.post(url, form_data(_client_id(client.get(url).content.decode())))
    client_id = _client_id(client.get(url).content.decode())
    warned = client.post(url, form_data(client_id))
    assert warned.status_code == 200 and len(children(tree.gupei)) == 1
    assert 'name="confirm_duplicate"' in warned.content.decode()
    confirmed = client.post(url, form_data(client_id, confirm_duplicate="on"))
    assert confirmed.status_code == 302 and len(children(tree.gupei)) == 2


def test_the_import_preview_warns_about_a_likely_duplicate(client, tree):
    client.force_login(tree.gupei_admin)
    url = reverse("child_create", kwargs={"school_pk": tree.gupei.pk})
    client.post(url, form_data(_client_id(client.get(url).content.decode())))
    lines = ["姓名,性别,出生日期,身份证号,年级,班级,留守类型,监护人姓名,监护人电话",
             f"刘小花,女,{BORN:%Y-%m-%d},{make_id_number(BORN, 'female', sequence=12)},4,四(1)班,双亲外出,王奶奶,13800001111"]
    upload = SimpleUploadedFile("c.csv", ("\n".join(lines) + "\n").encode(), content_type="text/csv")
    importing = reverse("children_import", kwargs={"school_pk": tree.gupei.pk})
    preview = client.post(importing, {"file": upload}).content.decode()
    assert 'id="import-warnings"' in preview and 'name="confirm_duplicates"' in preview
    confirm = reverse("children_import_confirm", kwargs={"school_pk": tree.gupei.pk})
    assert client.post(confirm).status_code == 200 and len(children(tree.gupei)) == 1  # not without the tick
    assert client.post(confirm, {"confirm_duplicates": "1"}).status_code == 302
    assert len(children(tree.gupei)) == 2


def test_an_activity_form_sent_twice_is_one_activity(client, tree):
    from schools.models import Activity
    from tests.web.pages_archive import ensure_semester

    ensure_semester(tree.district)
    client.force_login(tree.gupei_admin)
    url = reverse("activity_create", args=[tree.gupei.pk])
    client_id = _client_id(client.get(url).content.decode())
    data = {"date": timezone.localdate().isoformat(), "kind": "theme_activity", "title": "读书会", "client_id": client_id}
    first, again = client.post(url, data), client.post(url, data)
    assert first.status_code == again.status_code == 302 and first["Location"] == again["Location"]
    with tenant_scope([tree.gupei.id]):
        assert Activity.objects.filter(school=tree.gupei, title="读书会").count() == 1
