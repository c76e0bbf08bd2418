"""Activities pages: create with participants, the week view, multi-photo upload, clean storage,
evidence served only inside the scope."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from schools import services
from schools.models import Activity, ActivityParticipant, Evidence
from tenancy.scoping import tenant_scope
from tests.support.images import jpeg_bytes
from tests.support.schools import home, semester, today  # noqa: F401  (fixtures)

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _activity(school, day, title="读书会", text="记录", kind="theme_activity"):
    with tenant_scope([school.id]):
        return services.activity_create(actor=None, school=school, date=day, kind=kind, title=title, text_record=text)


def gps_jpeg() -> bytes:
    img = Image.new("RGB", (120, 90), (30, 140, 200))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0112] = 1
    exif[0x8825] = {1: "N", 2: (32.0, 47.0, 10.5), 3: "E", 4: (118.0, 1.0, 2.0)}
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif)
    data = buf.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825), "the test photo must carry GPS"
    return data


def test_clerk_creates_a_competition_with_participants_and_placings(client, home, today):
    client.force_login(home.gupei_clerk)
    a, b, c = home.g[0], home.g[1], home.g[3]
    response = client.post(reverse("activity_create", args=[home.gupei.pk]), {
        "date": today.isoformat(), "kind": "competition", "title": "讲故事比赛", "text_record": "同学们踊跃参加",
        "participants": [a.pk, b.pk, c.pk], f"placing_{a.pk}": "1", f"award_{a.pk}": "一等奖",
        f"placing_{b.pk}": "2", f"award_{b.pk}": "二等奖",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    with tenant_scope([home.gupei.id]):
        activity = Activity.objects.get(title="讲故事比赛")
        rows = {p.child_id: (p.placing, p.placing_label) for p in ActivityParticipant.objects.filter(activity=activity)}
    assert response["Location"] == reverse("activity_detail", args=[home.gupei.pk, activity.pk])
    assert rows == {a.pk: (1, "一等奖"), b.pk: (2, "二等奖"), c.pk: (None, "")}
    page = client.get(response["Location"]).content.decode()
    assert "一等奖" in page and a.name in page and c.name in page


def test_participants_of_another_school_are_refused(client, home, today):
    client.force_login(home.gupei_clerk)
    response = client.post(reverse("activity_create", args=[home.gupei.pk]), {
        "date": today.isoformat(), "kind": "theme_activity", "title": "x", "participants": [home.m[0].pk],
    })
    assert response.status_code == 200  # the form again, with an error
    with tenant_scope([home.gupei.id, home.menzhuang.id]):
        assert not Activity.objects.exists()


def test_teacher_reads_activities_but_cannot_create(client, home, today):
    client.force_login(home.gupei_teacher)
    response = client.post(reverse("activity_create", args=[home.gupei.pk]),
                           {"date": today.isoformat(), "kind": "theme_activity", "title": "x"})
    assert response.status_code == 403
    assert client.get(reverse("activities_week", args=[home.gupei.pk])).status_code == 200


def test_week_view_lists_the_right_days(client, home, today):
    monday = today - dt.timedelta(days=today.weekday() + 14)
    with tenant_scope([home.gupei.id]):
        services.theme_schedule_set(actor=None, school=home.gupei, semester=home.semester, weekday=3, theme="阅读日")
    _activity(home.gupei, monday, "周一活动")
    _activity(home.gupei, monday + dt.timedelta(days=2), "周三活动")
    _activity(home.gupei, monday + dt.timedelta(days=7), "下周活动")
    _activity(home.menzhuang, monday, "门庄活动")
    client.force_login(home.gupei_teacher)
    year, week, _d = monday.isocalendar()
    for query in (f"?week={year}-W{week:02d}", f"?date={(monday + dt.timedelta(days=3)).isoformat()}"):
        html = client.get(reverse("activities_week", args=[home.gupei.pk]) + query).content.decode()
        days = _sections(html)
        assert list(days) == [(monday + dt.timedelta(days=i)).isoformat() for i in range(5)]
        assert "周一活动" in days[monday.isoformat()]
        assert "周三活动" in days[(monday + dt.timedelta(days=2)).isoformat()]
        assert "阅读日" in days[(monday + dt.timedelta(days=2)).isoformat()]
        assert "下周活动" not in html and "门庄活动" not in html


def _sections(html: str) -> dict[str, str]:
    out = {}
    for part in html.split('data-day="')[1:]:
        out[part[:10]] = part.split("</section>")[0]
    return out


def test_week_view_marks_evidence(client, home, today):
    evidenced = _activity(home.gupei, today, "有照片")
    _activity(home.gupei, today, "没照片")
    with tenant_scope([home.gupei.id]):
        services.evidence_upload(actor=None, school=home.gupei, uploaded_file=SimpleUploadedFile("a.jpg", jpeg_bytes(4)),
                                 attach_to=evidenced)
    client.force_login(home.gupei_clerk)
    html = client.get(reverse("activities_week", args=[home.gupei.pk]), **EN).content.decode()
    rows = {part.split('"')[0]: part.split("</li>")[0] for part in html.split('data-activity="')[1:]}
    assert "Evidenced" in rows[str(evidenced.pk)]
    assert [r for k, r in rows.items() if k != str(evidenced.pk)][0].count("No photo") == 1


def test_week_view_uploads_several_photos_to_each_activity(client, home, today):
    first, second = _activity(home.gupei, today, "第一项"), _activity(home.gupei, today, "第二项")
    week = reverse("activities_week", args=[home.gupei.pk])
    client.force_login(home.gupei_teacher)  # reads the week, may not upload: no form
    assert "data-upload" not in client.get(week).content.decode()
    client.force_login(home.gupei_clerk)
    html = client.get(week).content.decode()
    rows = {part.split('"')[0]: part.split("</li>")[0] for part in html.split('data-activity="')[1:]}
    actions = {}
    for pk in (first.pk, second.pk):
        row = rows[str(pk)]
        assert 'multiple' in row and f'id="id_photos{pk}"' in row
        actions[pk] = row.split('action="')[1].split('"')[0]
    assert actions == {a.pk: reverse("activity_detail", args=[home.gupei.pk, a.pk]) for a in (first, second)}
    # The form's own action takes two photos for the second activity only.
    response = client.post(actions[second.pk], {"photos": [
        SimpleUploadedFile("a.jpg", jpeg_bytes(51), "image/jpeg"), SimpleUploadedFile("b.jpg", jpeg_bytes(52), "image/jpeg")]})
    assert response.status_code == 302
    with tenant_scope([home.gupei.id]):
        counts = {a.pk: Evidence.objects.filter(activity=a).count() for a in (first, second)}
    assert counts == {first.pk: 0, second.pk: 2}
    html = client.get(week, **EN).content.decode()
    assert "2 photos" in html.split(f'data-activity="{second.pk}"')[1].split("</li>")[0]


def test_multi_upload_keeps_the_good_files_and_names_the_corrupt_one(client, home, today):
    activity = _activity(home.gupei, today)
    client.force_login(home.gupei_clerk)
    url = reverse("activity_detail", args=[home.gupei.pk, activity.pk])
    files = [SimpleUploadedFile("good1.jpg", jpeg_bytes(11), "image/jpeg"),
             SimpleUploadedFile("broken.jpg", b"\xff\xd8\xff\xe0" + b"not really a photo" * 40, "image/jpeg"),
             SimpleUploadedFile("good2.jpg", jpeg_bytes(12), "image/jpeg")]
    response = client.post(url, {"photos": files}, follow=True, **EN)
    page = response.content.decode()
    assert "broken.jpg was not uploaded: The image is damaged or incomplete and cannot be read." in page
    assert "2 file(s) uploaded." in page
    with tenant_scope([home.gupei.id]):
        assert Evidence.objects.filter(activity=activity).count() == 2
    assert page.count('/thumb/"') == 2  # both kept photos are shown as thumbnails


def test_xhr_upload_answers_per_file_json(client, home, today):
    activity = _activity(home.gupei, today)
    client.force_login(home.gupei_clerk)
    url = reverse("activity_detail", args=[home.gupei.pk, activity.pk])
    ok = client.post(url, {"photos": SimpleUploadedFile("a.jpg", jpeg_bytes(21))},
                     HTTP_X_REQUESTED_WITH="XMLHttpRequest", **EN)
    assert ok.status_code == 200 and ok.json()["results"][0]["ok"] is True
    assert ok.json()["results"][0]["thumb"].endswith("/thumb/")
    big = SimpleUploadedFile("huge.jpg", b"\xff\xd8\xff" + b"0" * (10 * 1024 * 1024 + 10))
    bad = client.post(url, {"photos": big}, HTTP_X_REQUESTED_WITH="XMLHttpRequest", **EN)
    assert bad.status_code == 400
    assert bad.json()["results"][0] == {"name": "huge.jpg", "ok": False, "error": "The image is larger than 10 MB."}


def test_stored_photo_has_no_exif_or_gps(client, home, today):
    activity = _activity(home.gupei, today)
    client.force_login(home.gupei_clerk)
    client.post(reverse("activity_detail", args=[home.gupei.pk, activity.pk]),
                {"photos": SimpleUploadedFile("gps.jpg", gps_jpeg(), "image/jpeg")})
    with tenant_scope([home.gupei.id]):
        item = Evidence.objects.get(activity=activity)
    for name in (item.file.name, item.thumbnail.name):
        with default_storage.open(name, "rb") as fh:
            stored = Image.open(io.BytesIO(fh.read()))
            stored.load()
        assert not stored.getexif().get_ifd(0x8825)
        assert not stored.getexif()
        assert "exif" not in stored.info
    # Served through the scoped view, the bytes are the stored (clean) ones.
    served = client.get(reverse("evidence_file", args=[home.gupei.pk, item.pk]))
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    with default_storage.open(item.file.name, "rb") as fh:
        assert b"".join(served.streaming_content) == fh.read()


def test_evidence_is_404_across_schools_and_never_linked_by_media_url(client, home, today, settings):
    activity = _activity(home.gupei, today)
    with tenant_scope([home.gupei.id]):
        item = services.evidence_upload(actor=None, school=home.gupei,
                                        uploaded_file=SimpleUploadedFile("a.jpg", jpeg_bytes(31)), attach_to=activity)
    urls = [reverse(name, args=[home.gupei.pk, item.pk]) for name in ("evidence_file", "evidence_thumb")]
    wrong_school = [reverse(name, args=[home.menzhuang.pk, item.pk]) for name in ("evidence_file", "evidence_thumb")]
    client.force_login(home.menzhuang_admin)
    for url in urls + wrong_school:
        assert client.get(url).status_code == 404, url
    client.force_login(home.gupei_admin)
    for url in wrong_school:  # the owner too: the evidence is looked up inside the URL's school
        assert client.get(url).status_code == 404
    for url in urls:
        assert client.get(url).status_code == 200
    client.logout()
    assert client.get(urls[0]).status_code == 302
    client.force_login(home.gupei_clerk)
    html = client.get(reverse("activity_detail", args=[home.gupei.pk, activity.pk])).content.decode()
    assert urls[1] in html and settings.MEDIA_URL not in html and item.sha256 not in html


def test_reuse_flags_page_is_for_the_bureau(client, home, today):
    a = _activity(home.gupei, today, "甲")
    m = _activity(home.menzhuang, today, "乙")
    data = jpeg_bytes(41)
    with tenant_scope([home.gupei.id]):
        services.evidence_upload(actor=None, school=home.gupei, uploaded_file=SimpleUploadedFile("a.jpg", data),
                                 attach_to=a)
    with tenant_scope([home.menzhuang.id]):
        services.evidence_upload(actor=None, school=home.menzhuang, uploaded_file=SimpleUploadedFile("b.jpg", data),
                                 attach_to=m)
    client.force_login(home.bureau_inspector)
    html = client.get(reverse("reuse_flags"), **EN).content.decode()
    assert "门庄小学" in html and "also used by 古沛中心小学" in html
    client.force_login(home.menzhuang_admin)
    assert client.get(reverse("reuse_flags")).status_code == 403


@pytest.mark.parametrize("query", ["?week=garbage", "?date=2026-13-45", "?week=2026-W99"])
def test_week_view_survives_bad_parameters(client, home, query):
    client.force_login(home.gupei_teacher)
    assert client.get(reverse("activities_week", args=[home.gupei.pk]) + query).status_code == 200
