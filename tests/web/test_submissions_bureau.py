"""The bureau's pages: the completeness matrix and rates, the copied-narrative pair view with
highlighted passages, and the user's own notifications with the header badge."""
from __future__ import annotations

import html
import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from notices.models import Notification
from submissions import services
from submissions.views import highlight_segments
from tenancy.scoping import district_scope, tenant_scope

from .pages_submissions import fresh_report, seed_pair_flag, submission_of

TZ = ZoneInfo(settings.TIME_ZONE)


@pytest.fixture
def en(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _send_at(sub, actor, day):
    """Compile and submit as of `day` (the services take `now`; the pages always use the clock)."""
    now = datetime.combine(day, time(10), tzinfo=TZ)
    with tenant_scope([sub.school_id]):
        version = services.package_version_start(submission=sub, actor=actor)
        services.package_version_complete(version=version, now=now)
        sub.refresh_from_db()
        services.submission_submit(actor=actor, submission=sub, now=now, enqueue_similarity=False)


def _cells(body: str) -> dict[str, list[str]]:
    table = body[body.index('id="matrix"'):body.index("</table>", body.index('id="matrix"'))]
    rows = {}
    for code, row in re.findall(r'<tr data-school="([^"]+)">(.*?)</tr>', table, re.S):
        rows[code] = re.findall(r'data-cell="([a-z_]+)"', row)
    return rows


def _rates(body: str, table_id: str) -> dict[str, list[str]]:
    table = body[body.index(f'id="{table_id}"'):]
    table = table[:table.index("</table>")]
    return {code: re.findall(r'<td class="num">(?:<span class="value">)?([^<]+)<', row)
            for code, row in re.findall(r'<tr data-school="([^"]+)">(.*?)</tr>', table, re.S)}


@pytest.fixture
def matrix_report(tree):
    """Period 1 (ended a week ago): gupei on time, village_a late, menzhuang missing.
    Period 2 is running (not due); periods 3–4 have not started (not due)."""
    report = fresh_report(tree, [tree.gupei, tree.village_a, tree.menzhuang])
    p1 = submission_of(report, tree.gupei, 1).period
    _send_at(submission_of(report, tree.gupei, 1), tree.gupei_clerk, p1.end_on + timedelta(days=1))
    _send_at(submission_of(report, tree.village_a, 1), tree.village_a_admin, p1.end_on + timedelta(days=5))
    return report


def test_matrix_cells_and_rates(en, tree, matrix_report, django_assert_max_num_queries):
    en.force_login(tree.bureau_admin)
    url = reverse("reporting_matrix") + f"?report_type={matrix_report.pk}"
    with django_assert_max_num_queries(40):
        response = en.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    cells = _cells(body)
    assert cells == {
        "gupei": ["on_time", "not_due", "not_due", "not_due"],
        "gupei-a": ["late", "not_due", "not_due", "not_due"],
        "menzhuang": ["missing", "not_due", "not_due", "not_due"],
    }
    # Colour and text: each state also has its words (legend and cell titles).
    for label in ("On time", "Late", "Missing", "Not due"):
        assert label in body
    # Rates per school (reporting, on time, approved by the centre) in the matrix and in the
    # by-school table.
    by_school = _rates(body, "rates-by-school")
    assert by_school["gupei"] == ["1 / 1", "100%", "100%", "0"]
    assert by_school["gupei-a"] == ["1 / 1", "100%", "0%", "0"]
    assert by_school["menzhuang"] == ["0 / 1", "0%", "0%", "0"]
    summaries = {s["report_type"].pk: s for s in response.context["summaries"]}
    rates = summaries[matrix_report.pk]["rates"]
    assert (rates.expected, rates.submitted, rates.on_time) == (3, 2, 1)
    assert summaries[matrix_report.pk]["reporting"] == "67%" and summaries[matrix_report.pk]["on_time"] == "33%"
    # A sent cell links to the review screen.
    assert reverse("submission_review", kwargs={"pk": submission_of(matrix_report, tree.gupei, 1).pk}) in body


def test_township_sees_its_subtree_and_schools_see_no_matrix(en, tree, matrix_report):
    en.force_login(tree.gupei_township)
    body = en.get(reverse("reporting_matrix") + f"?report_type={matrix_report.pk}").content.decode()
    assert set(_cells(body)) == {"gupei", "gupei-a"} and "门庄小学" not in body
    for user in (tree.gupei_admin, tree.gupei_teacher, tree.menzhuang_admin, tree.nobody):
        en.force_login(user)
        assert en.get(reverse("reporting_matrix")).status_code == 404
        assert en.get(reverse("similarity_list")).status_code == 404


def test_similarity_pair_highlights_the_shared_passages_of_the_seed_pair(en, tree):
    flag = seed_pair_flag(tree, tree.menzhuang, tree.gupei)
    en.force_login(tree.bureau_admin)
    listing = en.get(reverse("similarity_list")).content.decode()
    url = reverse("similarity_pair", kwargs={"pk": flag.pk})
    assert url in listing and "门庄小学 ↔ 古沛中心小学" in listing
    response = en.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    with tenant_scope([tree.menzhuang.id, tree.gupei.id]):
        text_a = flag.submission_a.narrative.text
        text_b = flag.submission_b.narrative.text

    def side(name):
        start = body.index(f'id="side-{name}"')
        chunk = body[start:body.index("</section>", start)]
        return chunk[chunk.index('<div class="narrative-body">') + len('<div class="narrative-body">'):chunk.rindex("</div>")]

    for name, text, key in (("a", text_a, "a"), ("b", text_b, "b")):
        rendered = side(name)
        marked = [html.unescape(m) for m in re.findall(r'<mark class="shared">(.*?)</mark>', rendered, re.S)]
        # The page shows the whole text, and exactly the stored passages are highlighted.
        assert html.unescape(re.sub(r"</?mark[^>]*>", "", rendered)) == text
        highlighted, pos = set(), 0
        for piece in re.split(r'(<mark class="shared">.*?</mark>)', rendered, flags=re.S):
            is_mark = piece.startswith("<mark")
            plain = html.unescape(re.sub(r"</?mark[^>]*>", "", piece))
            if is_mark:
                highlighted |= set(range(pos, pos + len(plain)))
            pos += len(plain)
        expected = set().union(*(range(*p[key]) for p in flag.passages))
        assert highlighted == expected
        assert max(len(m) for m in marked) > 200
        assert any("四个一次" in m for m in marked)
    # The sentence only Gupei wrote is not highlighted.
    gupei_side = side("b")
    only = "自2022年4月以来"
    pos = gupei_side.index(only)
    assert gupei_side.rfind("<mark", 0, pos) <= gupei_side.rfind("</mark>", 0, pos)


def test_similarity_pair_is_the_bureaus_only(en, tree):
    flag = seed_pair_flag(tree, tree.menzhuang, tree.gupei)
    url = reverse("similarity_pair", kwargs={"pk": flag.pk})
    # Township of gupei: menzhuang is outside its subtree, so the pair does not exist for it.
    for user in (tree.gupei_township, tree.gupei_admin, tree.menzhuang_admin, tree.gupei_teacher):
        en.force_login(user)
        assert en.get(url).status_code == 404, user
    en.force_login(tree.gupei_township)
    assert url not in en.get(reverse("similarity_list")).content.decode()


def test_highlight_segments_clamps_merges_and_keeps_text():
    text = "<b>甲乙丙丁戊</b>"
    segments = highlight_segments(text, [[3, 5], [4, 7], [-2, 1], [20, 30], [6, 6]])
    assert "".join(chunk for chunk, _hit in segments) == text
    assert [chunk for chunk, hit in segments if hit] == ["<", "甲乙丙丁"]


def test_highlighted_text_is_escaped(en, tree):
    flag = seed_pair_flag(tree, tree.menzhuang, tree.gupei)
    with tenant_scope([tree.menzhuang.id, tree.gupei.id]):
        narrative = flag.submission_a.narrative
        narrative.sections = {"intro": "<script>alert(1)</script>" + narrative.sections.get("intro", "")}
        narrative.save()
    en.force_login(tree.bureau_admin)
    body = en.get(reverse("similarity_pair", kwargs={"pk": flag.pk})).content.decode()
    i = body.find("<script>alert(1)")
    assert i == -1, body[max(0, i - 300):i + 50]
    # (The stored offsets now point 25 characters early, so a highlight may cut through it.)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in re.sub(r"</?mark[^>]*>", "", body)


def test_notifications_are_only_ones_own_with_a_badge(en, tree):
    fresh_report(tree, [tree.gupei, tree.menzhuang])  # period 1 is overdue
    services.reminders_send(today=timezone.localdate())

    def notifications(**filters):
        with district_scope(tree.district):
            return list(Notification.objects.filter(**filters))

    mine = notifications(user=tree.gupei_clerk)
    theirs = notifications(user=tree.menzhuang_admin)
    assert mine and theirs
    en.force_login(tree.gupei_clerk)
    response = en.get(reverse("notifications"))
    body = response.content.decode()
    assert all(n.text in body for n in mine)
    assert "门庄小学" not in body
    assert re.search(rf'data-tab="notifications".*?class="tab-badge"[^>]*>{len(mine)}<', body, re.S)  # the tab's badge
    # Someone else's notification cannot be marked read; one's own can.
    en.post(reverse("notifications_mark_read"), {"ids": [theirs[0].pk]})
    assert not notifications(pk=theirs[0].pk)[0].is_read
    en.post(reverse("notifications_mark_read"), {"ids": [mine[0].pk]})
    assert notifications(pk=mine[0].pk)[0].is_read
    en.post(reverse("notifications_mark_read"), {"all": "1"})
    assert not notifications(user=tree.gupei_clerk, is_read=False)
    assert not notifications(pk=theirs[0].pk)[0].is_read
    body = en.get(reverse("notifications")).content.decode()
    tab = re.search(r'data-tab="notifications".*?</a>', body, re.S).group(0)
    assert "Notifications" in tab and "tab-badge" not in tab
    # The notification links to the submission page, which the clerk can open.
    assert mine[0].link in body and en.get(mine[0].link).status_code == 200
