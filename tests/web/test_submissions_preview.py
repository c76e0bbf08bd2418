"""The package preview on the school's submission page and the bureau's review screen: the
compiled figures (children, contacts and coverage per kind, activities, tutoring, ...), the first
activity rows and, for a work summary, the DOCX text, all checked against the database."""
from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.db.models import Count, Q, Sum
from django.urls import reverse

from schools.models import (
    Activity,
    CareContact,
    Child,
    Evidence,
    Semester,
    StudyPair,
    TrainingMeeting,
    TutoringSession,
)
from submissions import compile as compiler
from submissions import services
from submissions.models import ReportKind
from submissions.narrative import split_sections
from tenancy.scoping import tenant_scope

from .pages_submissions import fresh_report, submission_of

NARRATIVE = "一、提高认识，高度重视\n学校成立了留守儿童之家工作领导小组，校长任组长。\n六、全方位帮扶留守儿童完成学习任务\n每周开展两次辅导。"


@pytest.fixture
def en(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _records(tree, school, start, end):
    """Children, contacts, activities, a meeting, study pairs and tutoring in and around [start, end]."""
    teacher = tree.gupei_teacher
    with tenant_scope([school.id]):
        semester = Semester.objects.create(district=school.district, name="preview semester",
                                           start=start - timedelta(days=30), end=end + timedelta(days=60))
        kids = [Child.objects.create(school=school, name=f"测试{i}", gender="f", grade=4, class_name="四(1)班",
                                     left_behind_kind="both", status_since=start - timedelta(days=40))
                for i in range(5)]
        for child, kind, day in [(kids[0], "home_visit", start), (kids[1], "home_visit", start + timedelta(days=1)),
                                 (kids[0], "talk", start + timedelta(days=2)), (kids[2], "letter", end),
                                 (kids[3], "talk", start - timedelta(days=3))]:
            CareContact.objects.create(school=school, child=child, kind=kind, happened_on=day, semester=semester,
                                       made_by=teacher)
        first = None
        for i in range(23):  # more than the preview shows
            act = Activity.objects.create(school=school, date=start + timedelta(days=i % 10), semester=semester,
                                          kind=Activity.Kind.COMPETITION if i % 4 == 0 else Activity.Kind.THEME,
                                          title=f"活动{i:02d}", text_record="记录" if i % 2 == 0 else "")
            first = first or act
        Evidence.objects.create(school=school, kind="photo", file="evidence/p.jpg", sha256="cd" * 32,
                                content_type="image/jpeg", size=10, activity=first)
        TrainingMeeting.objects.create(school=school, date=start + timedelta(days=3), semester=semester, topic="培训")
        pair = StudyPair.objects.create(school=school, teacher=teacher, child=kids[0], starts_on=start - timedelta(days=20))
        for day, minutes in [(start, 40), (end, 30), (end + timedelta(days=1), 50)]:
            TutoringSession.objects.create(school=school, pair=pair, date=day, semester=semester, minutes=minutes)


def _db_figures(school, start, end) -> dict:
    """The period's figures from independent queries."""
    window = (start, end)
    with tenant_scope([school.id]):
        children = Child.objects.filter(school=school, status="active").count()
        acts = Activity.objects.filter(school=school, date__range=window)
        tutoring = TutoringSession.objects.filter(school=school, date__range=window).aggregate(n=Count("id"), m=Sum("minutes"))
        covered = dict(CareContact.objects.filter(school=school, child__status="active")
                       .values_list("kind").annotate(n=Count("child", distinct=True)).values_list("kind", "n"))
        contacts = dict(CareContact.objects.filter(school=school, happened_on__range=window)
                        .values_list("kind").annotate(n=Count("id")).values_list("kind", "n"))
        return {
            "children": children, "activities": acts.count(),
            "competitions": acts.filter(kind=Activity.Kind.COMPETITION).count(),
            "meetings": TrainingMeeting.objects.filter(school=school, date__range=window).count(),
            "tutoring_sessions": tutoring["n"], "tutoring_minutes": tutoring["m"],
            "study_pairs": StudyPair.objects.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=start), school=school,
                                                    starts_on__lte=end).count(),
            "covered": covered, "contacts": contacts,
            "titles": list(acts.order_by("date", "id").values_list("title", flat=True)),
        }


@pytest.fixture
def compiled_summary(tree):
    """Gupei's overdue half-year summary with records, a narrative and a real compile (in-process)."""
    report = fresh_report(tree, [tree.gupei, tree.menzhuang], kind=ReportKind.HALF_YEAR_SUMMARY)
    sub = submission_of(report, tree.gupei, 1)
    _records(tree, tree.gupei, sub.period.start_on, sub.period.end_on)
    with tenant_scope([tree.gupei.id]):
        services.narrative_update(actor=tree.gupei_clerk, submission=sub, sections=split_sections(NARRATIVE))
        version = services.submission_compile_request(actor=tree.gupei_clerk, submission=sub, enqueue=False)
    compiler.compile_package(school_id=tree.gupei.id, version_id=version.pk)
    return sub


def _preview(body: str) -> str:
    start = body.index('id="package-preview"')
    return html.unescape(body[start:body.index("<h2>", start)])


def _figure(preview: str, key: str) -> str:
    found = re.search(rf'data-figure="{key}">([^<]*)<', preview)
    assert found, key
    return found.group(1).strip()


def _check(preview: str, db: dict) -> None:
    assert _figure(preview, "children") == str(db["children"]) == "5"
    assert _figure(preview, "activities") == str(db["activities"])
    assert _figure(preview, "competitions") == str(db["competitions"])
    assert _figure(preview, "meetings") == str(db["meetings"]) == "1"
    assert _figure(preview, "tutoring_sessions") == str(db["tutoring_sessions"]) == "2"
    assert _figure(preview, "tutoring_minutes") == str(db["tutoring_minutes"]) == "70"
    assert _figure(preview, "study_pairs") == str(db["study_pairs"])
    assert _figure(preview, "activities_evidenced").startswith(f"1/{db['activities']}")
    for kind, _label in CareContact.Kind.choices:
        done = db["covered"].get(kind, 0)
        pct = round(100 * done / db["children"])
        shown = re.search(rf'data-coverage="{kind}">([^<]*)<', preview).group(1)
        assert shown.strip() == f"{done}/{db['children']} · {pct}%", kind
        assert f'value="{pct}"' in preview
        contacts = re.search(rf'data-contacts="{kind}">([^<]*)<', preview).group(1)
        assert contacts.strip().startswith(f"{db['contacts'].get(kind, 0)} contact"), kind
    # The first 20 activity rows in sheet order, then how many more the workbook holds.
    assert re.findall(r'<div class="title">([^<]+)</div>', preview) == db["titles"][:20]
    assert f"and {db['activities'] - 20} more in the workbook." in preview
    assert "EV-" + "cd" * 6 in preview
    # The work summary: the DOCX headings, the filled sentences and the school's own paragraphs.
    assert "一、提高认识，高度重视" in preview and "七、材料积累不遗漏，对外宣传不放松" in preview
    assert "学校成立了留守儿童之家工作领导小组，校长任组长。" in preview and "每周开展两次辅导。" in preview
    assert (f"{db['study_pairs']} study pairs, {db['tutoring_sessions']} tutoring sessions "
            f"({db['tutoring_minutes']} minutes)") in preview


def test_the_school_page_and_the_review_screen_preview_the_package(en, tree, compiled_summary):
    sub = compiled_summary
    db = _db_figures(tree.gupei, sub.period.start_on, sub.period.end_on)
    assert db["activities"] == 23 and db["competitions"] == 6
    en.force_login(tree.gupei_clerk)
    detail = en.get(reverse("submission_detail", kwargs={"pk": sub.pk}))
    assert detail.status_code == 200
    _check(_preview(detail.content.decode()), db)

    en.force_login(tree.bureau_admin)
    review = en.get(reverse("submission_review", kwargs={"pk": sub.pk}))
    assert review.status_code == 200
    _check(_preview(review.content.decode()), db)


def test_a_teacher_and_another_school_never_see_the_preview(en, tree, compiled_summary):
    url = reverse("submission_review", kwargs={"pk": compiled_summary.pk})
    en.force_login(tree.gupei_teacher)
    response = en.get(url)
    assert response.status_code == 403 and b"package-preview" not in response.content
    assert en.get(reverse("submission_detail", kwargs={"pk": compiled_summary.pk})).status_code == 403
    en.force_login(tree.menzhuang_admin)
    assert en.get(url).status_code == 404


def test_without_a_compiled_package_the_page_says_so(en, tree):
    sub = submission_of(fresh_report(tree, [tree.gupei]), tree.gupei, 1)
    en.force_login(tree.gupei_clerk)
    body = en.get(reverse("submission_detail", kwargs={"pk": sub.pk})).content.decode()
    assert "No compiled package yet" in body and 'data-figure="children"' not in body
