"""Archive pages end to end through Django's test client, against real PostgreSQL."""
from __future__ import annotations

import datetime as dt
import io
import zipfile
from urllib.parse import unquote

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from schools import importing, services
from schools.models import Activity, CareContact, Child
from tenancy.models import AccessLog
from tenancy.scoping import tenant_scope

from .pages_archive import ensure_semester, id_number, make_child

KINDS = ["home_visit", "talk", "guardian_contact", "letter"]


@pytest.fixture
def home(tree):
    """A semester around today; gupei: 3 children, the first two assigned to gupei_teacher."""
    tree.semester = ensure_semester(tree.district)
    tree.today = timezone.localdate()
    tree.kids = [make_child(tree.gupei, 900 + i) for i in range(3)]
    with tenant_scope([tree.gupei.id]):
        for child in tree.kids[:2]:
            services.proxy_assignment_create(actor=tree.gupei_admin, child=child, proxy_parent=tree.gupei_teacher,
                                             starts_on=tree.today - dt.timedelta(days=10))
    return tree


def _count(model, school, **filters):
    with tenant_scope([school.id]):
        return model.objects.filter(**filters).count()


# ---------------------------------------------------------------- dashboard
def _populate(t, n):
    school = t.gupei
    with tenant_scope([school.id]):
        kids = Child.objects.bulk_create([
            Child(school=school, name=f"c{i}", gender="male", grade=3 + i % 2, class_name=f"{3 + i % 2}班",
                  left_behind_kind="both", status_since=t.today) for i in range(n)])
        CareContact.objects.bulk_create([
            CareContact(school=school, child=c, kind=KINDS[k], happened_on=t.today, semester=t.semester,
                        made_by=t.gupei_admin) for i, c in enumerate(kids) for k in range(i % 5)])
        Activity.objects.bulk_create([
            Activity(school=school, date=t.today, semester=t.semester, kind="theme_activity", title=f"a{i}",
                     text_record="记录") for i in range(n // 5)])


# The real page, whatever the number of children: session, user, tenant scope, permissions, nav
# links, the dashboard's own aggregates. Pinned at two sizes: it must not depend on the children.
DASHBOARD_QUERIES = 27  # the page + each app's header links (the notifications badge is one COUNT)


@pytest.mark.parametrize("size", [5, 40])
def test_dashboard_page_query_count_is_constant(client, tree, size, django_assert_num_queries):
    tree.semester = ensure_semester(tree.district)
    tree.today = timezone.localdate()
    _populate(tree, size)
    client.force_login(tree.gupei_admin)
    url = reverse("school_dashboard", kwargs={"school_pk": tree.gupei.pk})
    with django_assert_num_queries(DASHBOARD_QUERIES):
        response = client.get(url)
    assert response.status_code == 200
    assert response.context["data"]["children"] == size


def test_dashboard_shows_coverage_bars(client, home):
    with tenant_scope([home.gupei.id]):
        services.care_contact_record(actor=home.gupei_admin, child_id=home.kids[0].pk, kind="home_visit",
                                     happened_on=home.today)
    client.force_login(home.gupei_admin)
    response = client.get(reverse("school_dashboard", kwargs={"school_pk": home.gupei.pk}))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-coverage="home_visit">1/3 · 33%' in html
    assert '<progress class="archive-bar low" max="100" value="33">' in html
    assert "四(1)班" in html  # per class


def test_dashboard_without_a_semester_still_answers(client, tree):
    client.force_login(tree.gupei_admin)
    response = client.get(reverse("school_dashboard", kwargs={"school_pk": tree.gupei.pk}))
    assert response.status_code == 200 and response.context["data"] is None


# ---------------------------------------------------------------- tracker
def _record_url(t):
    return reverse("contact_record", kwargs={"school_pk": t.gupei.pk})


def test_tracker_lists_only_the_teachers_children(client, home):
    client.force_login(home.gupei_teacher)
    response = client.get(reverse("contact_tracker", kwargs={"school_pk": home.gupei.pk}))
    ids = [r["id"] for r in response.context["grid"].rows]
    assert ids == [home.kids[0].pk, home.kids[1].pk]
    assert f'value="{home.kids[0].pk}:home_visit"' in response.content.decode()


def test_tracker_filters_by_class_and_proxy_parent(client, home):
    other = make_child(home.gupei, 990, class_name="五(2)班", grade=5)
    client.force_login(home.gupei_admin)
    url = reverse("contact_tracker", kwargs={"school_pk": home.gupei.pk})
    rows = client.get(url, {"class_name": "五(2)班"}).context["grid"].rows
    assert [r["id"] for r in rows] == [other.pk]
    rows = client.get(url, {"proxy": home.gupei_teacher.pk}).context["grid"].rows
    assert {r["id"] for r in rows} == {home.kids[0].pk, home.kids[1].pk}


def test_tracker_tap_records_by_json(client, home):
    client.force_login(home.gupei_teacher)
    child = home.kids[0]
    response = client.post(_record_url(home), {
        "cell": f"{child.pk}:home_visit", "happened_on": home.today.isoformat(), "semester": home.semester.pk,
    }, HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["ok"] and body["count"] == 1 and body["last"] == home.today.isoformat()
    with tenant_scope([home.gupei.id]):
        contact = CareContact.objects.get(child=child)
    assert (contact.kind, contact.made_by_id, contact.semester_id) == ("home_visit", home.gupei_teacher.pk,
                                                                       home.semester.pk)


def test_tracker_tap_without_js_redirects_back(client, home):
    client.force_login(home.gupei_teacher)
    back = reverse("contact_tracker", kwargs={"school_pk": home.gupei.pk}) + "?class_name=四(1)班"
    response = client.post(_record_url(home), {
        "cell": f"{home.kids[1].pk}:letter", "happened_on": (home.today - dt.timedelta(days=2)).isoformat(),
        "next": back})
    assert response.status_code == 302 and unquote(response["Location"]) == back
    assert _count(CareContact, home.gupei, child=home.kids[1], kind="letter") == 1
    # An outside `next` is ignored.
    response = client.post(_record_url(home), {
        "cell": f"{home.kids[1].pk}:talk", "happened_on": home.today.isoformat(), "next": "https://evil.example/"})
    assert response["Location"] == reverse("contact_tracker", kwargs={"school_pk": home.gupei.pk})


def test_tracker_refuses_unassigned_child_and_bad_dates(client, home):
    client.force_login(home.gupei_teacher)
    unassigned = home.kids[2]
    data = {"cell": f"{unassigned.pk}:home_visit", "happened_on": home.today.isoformat()}
    assert client.post(_record_url(home), data, HTTP_ACCEPT="application/json").status_code == 404
    assert client.post(_record_url(home), data).status_code == 404
    future = {"cell": f"{home.kids[0].pk}:home_visit",
              "happened_on": (home.today + dt.timedelta(days=1)).isoformat()}
    response = client.post(_record_url(home), future, HTTP_ACCEPT="application/json")
    assert response.status_code == 400 and not response.json()["ok"]
    assert _count(CareContact, home.gupei) == 0


def test_tracker_another_schools_child_is_404(client, home):
    theirs = make_child(home.menzhuang, 950)
    client.force_login(home.gupei_admin)
    response = client.post(_record_url(home), {"cell": f"{theirs.pk}:talk", "happened_on": home.today.isoformat()},
                           HTTP_ACCEPT="application/json")
    assert response.status_code == 404


# ---------------------------------------------------------------- children
def _detail(t, child, school=None):
    return reverse("child_detail", kwargs={"school_pk": (school or t.gupei).pk, "pk": child.pk})


def test_teacher_gets_404_on_unassigned_child(client, home):
    client.force_login(home.gupei_teacher)
    assert client.get(_detail(home, home.kids[0])).status_code == 200
    assert client.get(_detail(home, home.kids[2])).status_code == 404
    assert client.get(reverse("child_edit", kwargs={"school_pk": home.gupei.pk, "pk": home.kids[2].pk})
                      ).status_code == 404


def test_child_under_another_schools_url_is_404(client, home):
    client.force_login(home.gupei_admin)
    # gupei's admin also sees village schools? Not gupei's child under menzhuang's URL in any case.
    assert client.get(_detail(home, home.kids[0], school=home.menzhuang)).status_code == 404


def test_every_child_detail_view_is_logged(client, home):
    client.force_login(home.gupei_teacher)
    child = home.kids[0]
    for _ in range(2):
        assert client.get(_detail(home, child)).status_code == 200
    entries = _count(AccessLog, home.gupei, action="view", object_type="schools.child", object_id=str(child.pk),
                     user=home.gupei_teacher)
    assert entries == 2


def test_child_detail_fields_per_role(client, home):
    child = home.kids[0]
    full = id_number(900)
    client.force_login(home.gupei_admin)
    html = client.get(_detail(home, child)).content.decode()
    assert full in html and "想念妈妈" in html
    client.force_login(home.gupei_teacher)  # proxy parent: wellbeing yes, ID masked
    html = client.get(_detail(home, child)).content.decode()
    assert full not in html and child.id_number_masked in html and "想念妈妈" in html
    client.force_login(home.gupei_clerk)  # clerk: name and class only
    html = client.get(_detail(home, child)).content.decode()
    assert child.name in html and child.id_number_masked not in html and "13800001111" not in html


def test_list_is_masked_and_filtered(client, home):
    client.force_login(home.gupei_admin)
    url = reverse("children_list", kwargs={"school_pk": home.gupei.pk})
    html = client.get(url).content.decode()
    assert id_number(900) not in html and home.kids[0].id_number_masked in html
    rows = client.get(url, {"q": "孩子901"}).context["rows"]
    assert [r["id"] for r in rows] == [home.kids[1].pk]
    client.force_login(home.gupei_teacher)
    assert len(client.get(url).context["rows"]) == 2


def test_create_edit_status_and_refusal(client, home):
    client.force_login(home.gupei_admin)
    url = reverse("child_create", kwargs={"school_pk": home.gupei.pk})
    response = client.post(url, {"name": "新同学", "gender": "male", "grade": 3, "class_name": "三(1)班",
                                 "left_behind_kind": "father", "id_number": "123"})
    assert response.status_code == 200 and "id_number" in response.context["form"].errors  # nothing written
    response = client.post(url, {"name": "新同学", "gender": "male", "grade": 3, "class_name": "三(1)班",
                                 "left_behind_kind": "father", "guardian_phone": "13900000000",
                                 "id_number": id_number(777)})
    assert response.status_code == 302
    with tenant_scope([home.gupei.id]):
        child = Child.objects.get(name="新同学")
    edit = reverse("child_edit", kwargs={"school_pk": home.gupei.pk, "pk": child.pk})
    response = client.post(edit, {"name": "新同学", "gender": "male", "grade": 4, "class_name": "四(1)班",
                                  "left_behind_kind": "father", "guardian_phone": "13900000000"})
    assert response.status_code == 302
    with tenant_scope([home.gupei.id]):
        child.refresh_from_db()
    assert child.grade == 4 and child.id_number_masked  # empty ID field kept the stored number
    refuse = reverse("child_consent_refuse", kwargs={"school_pk": home.gupei.pk, "pk": child.pk})
    client.post(refuse, {"on": home.today.isoformat(), "method": "电话"})  # no confirmation: nothing happens
    with tenant_scope([home.gupei.id]):
        child.refresh_from_db()
    assert child.consent != "refused"
    client.post(refuse, {"on": home.today.isoformat(), "method": "电话", "confirm": "on"})
    status = reverse("child_status", kwargs={"school_pk": home.gupei.pk, "pk": child.pk})
    client.post(status, {"status": "transferred", "since": home.today.isoformat()})
    with tenant_scope([home.gupei.id]):
        child.refresh_from_db()
    assert child.consent == "refused" and child.guardian_phone == "" and child.id_number_ciphertext == ""
    assert child.status == "transferred"
    # The teacher cannot edit even an assigned child.
    client.force_login(home.gupei_teacher)
    own = reverse("child_edit", kwargs={"school_pk": home.gupei.pk, "pk": home.kids[0].pk})
    assert client.get(own).status_code == 403


# ---------------------------------------------------------------- import
def _csv(rows: list[dict], encoding="gb18030") -> bytes:
    titles = [c.title for c in importing.COLUMNS]
    out = io.StringIO()
    out.write(",".join(titles) + "\r\n")
    for r in rows:
        out.write(",".join(str(r.get(c.field, "")) for c in importing.COLUMNS) + "\r\n")
    return out.getvalue().encode(encoding)


def _row(n, **over):
    birth = dt.date(2017, 3, 4)
    data = dict(name=f"导入{n}", gender="男", birth_date=birth.isoformat(),
                id_number=importing.make_id_number(birth, "male", sequence=n), grade="三年级", class_name="三(2)班",
                left_behind_kind="父亲外出", guardian_name="李爷爷", guardian_phone="13700000000")
    data.update(over)
    return data


def _upload(client, t, data: bytes, name="children.csv"):
    return client.post(reverse("children_import", kwargs={"school_pk": t.gupei.pk}),
                       {"file": SimpleUploadedFile(name, data, content_type="text/csv")})


def test_import_with_one_bad_row_writes_nothing_and_names_the_row(client, home):
    client.force_login(home.gupei_admin)
    before = _count(Child, home.gupei)
    data = _csv([_row(1), _row(3), _row(5, guardian_phone="12"), _row(7)])
    response = _upload(client, home, data)
    assert response.status_code == 200
    errors = response.context["preview"].errors
    assert [(e.row_number, e.column) for e in errors] == [(4, "监护人电话")]
    html = response.content.decode()
    assert "<td>4</td><td>监护人电话</td>" in html and "import-confirm" not in html
    # Confirming anyway has nothing to confirm: the rejected file was not kept.
    response = client.post(reverse("children_import_confirm", kwargs={"school_pk": home.gupei.pk}))
    assert response.status_code == 302
    assert _count(Child, home.gupei) == before


def test_import_rejected_at_commit_writes_nothing(client, home):
    """Rows that clash with the archive (an ID number already there) are refused in the preview,
    and again at the write step when the clash appeared after the preview, naming the row; none of
    the other rows is written."""
    client.force_login(home.gupei_admin)
    response = _upload(client, home, _csv([_row(1), _row(3)]))
    assert response.context["preview"].ok and response.context["can_confirm"]
    # Someone adds the same child between the preview and the confirmation.
    existing = make_child(home.gupei, 0, birth_date=dt.date(2017, 3, 4), gender="male",
                          id_number=importing.make_id_number(dt.date(2017, 3, 4), "male", sequence=3))
    assert existing
    before = _count(Child, home.gupei)
    response = client.post(reverse("children_import_confirm", kwargs={"school_pk": home.gupei.pk}))
    assert response.status_code == 400
    assert [e["row_number"] for e in response.context["rejected"]] == [3]
    assert _count(Child, home.gupei) == before
    # Uploaded again, the preview itself names the row and offers nothing to confirm.
    response = _upload(client, home, _csv([_row(1), _row(3)]))
    assert [e["row_number"] for e in response.context["rejected"]] == [3]
    assert not response.context["can_confirm"] and "import-confirm" not in response.content.decode()


def test_good_import_writes_every_row(client, home):
    client.force_login(home.gupei_admin)
    before = _count(Child, home.gupei)
    response = _upload(client, home, _csv([_row(n) for n in (1, 3, 5)], encoding="utf-8-sig"))
    assert response.context["preview"].ok and b"import-confirm" in response.content
    response = client.post(reverse("children_import_confirm", kwargs={"school_pk": home.gupei.pk}))
    assert response.status_code == 302
    assert _count(Child, home.gupei) == before + 3
    assert _count(AccessLog, home.gupei, action="create", object_type="schools.child") >= 3
    # The kept file is gone and a second confirm does nothing.
    client.post(reverse("children_import_confirm", kwargs={"school_pk": home.gupei.pk}))
    assert _count(Child, home.gupei) == before + 3


def test_import_confirm_is_bound_to_the_uploaders_session(client, home):
    client.force_login(home.gupei_admin)
    _upload(client, home, _csv([_row(1)]))
    other = type(client)()
    other.force_login(home.gupei_admin)  # same user, another session: nothing pending there
    other.post(reverse("children_import_confirm", kwargs={"school_pk": home.gupei.pk}))
    assert _count(Child, home.gupei, name="导入1") == 0


def test_import_template_downloads(client, home):
    client.force_login(home.gupei_admin)
    response = client.get(reverse("children_import_template", kwargs={"school_pk": home.gupei.pk}))
    book = openpyxl.load_workbook(io.BytesIO(response.getvalue()))
    assert book.active.cell(1, 1).value == "姓名"


# ---------------------------------------------------------------- export
def _sheet(response):
    book = openpyxl.load_workbook(io.BytesIO(response.getvalue()))
    return [[c.value for c in row] for row in book.active.iter_rows()]


def test_export_is_masked_by_default_and_logged(client, home):
    make_child(home.gupei, 960, parents_work_place="=HYPERLINK(\"http://x\",\"点我\")", guardian_name="+李")
    client.force_login(home.gupei_admin)
    url = reverse("children_export", kwargs={"school_pk": home.gupei.pk})
    body = client.get(url).getvalue()
    rows = [[c.value for c in row] for row in openpyxl.load_workbook(io.BytesIO(body)).active.iter_rows()]
    text = "\n".join(str(v) for row in rows for v in row)
    assert id_number(900) not in text and home.kids[0].id_number_masked in text
    assert "13800001111" not in text and "138****1111" in text
    assert "古沛镇小王庄" not in text and "想念妈妈" not in text
    # Formula injection neutralised: the cells are text, exactly as typed, with Excel's quote prefix.
    cells = {c.value: c for row in openpyxl.load_workbook(io.BytesIO(body)).active.iter_rows() for c in row}
    for typed in ("=HYPERLINK(\"http://x\",\"点我\")", "+李"):
        assert cells[typed].data_type == "s" and cells[typed].quotePrefix
    assert b"<f>" not in zipfile.ZipFile(io.BytesIO(body)).read("xl/worksheets/sheet1.xml")
    assert _count(AccessLog, home.gupei, action="export") == 4


def test_unmasked_export_only_for_the_school_admin(client, home):
    url = reverse("children_export", kwargs={"school_pk": home.gupei.pk}) + "?unmasked=1"
    client.force_login(home.gupei_admin)
    text = "\n".join(str(v) for row in _sheet(client.get(url)) for v in row)
    assert id_number(900) in text and "想念妈妈" in text
    with tenant_scope([home.gupei.id]):
        assert AccessLog.objects.filter(action="export", detail__unmasked=True).count() == 3
    for user in (home.gupei_teacher, home.gupei_clerk, home.bureau_admin):
        client.force_login(user)
        assert client.get(url).status_code == 403
