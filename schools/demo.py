"""Demo data for the school's home: a believable school year for every demo school. Idempotent.

The calendar follows the date the seed runs on (`ctx["today"]`, default today): see demo_semesters.
Deterministic (a fixed random seed per school) and fast: rows are bulk-created; only evidence goes
through services.evidence_upload, so demo photos are processed, hashed and checked for reuse like
real ones. A school that already has children is left alone. Includes, on purpose: gaps in the
four contacts, rule documents missing at some schools, one rule document copied word for word
from Gupei by Menzhuang and one photo reused across schools (both flagged to the bureau).
"""
from __future__ import annotations

import datetime as dt
import io
import random

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw

from jobs.beat import sync_periodic_tasks
from tenancy import services as tenancy_services
from tenancy.models import Membership, User
from tenancy.roles import Role
from tenancy.scoping import district_scope, tenant_scope

from . import crypto, services
from .models import (
    Activity,
    ActivityParticipant,
    ActivitySite,
    CareContact,
    Child,
    ChildStatusChange,
    Equipment,
    LeadershipMember,
    ProxyAssignment,
    RuleKind,
    Semester,
    StaffProfile,
    StudyPair,
    ThemeSchedule,
    TrainingAttendance,
    TrainingMeeting,
    TutoringSession,
    WorkRecordEntry,
)

SEED = 20260223
# A semester counts as "current" in the demo once it has run this long, so "this semester" always
# holds the facts the issues describe (five meetings at Gupei, study pairs, photos).
MIN_DAYS_INTO_SEMESTER = 14
CHILDREN_PER_SCHOOL = {"gupei": 150, "menzhuang": 120}
GRADE_NAMES = "一二三四五六"
SURNAMES = "王李张刘陈杨黄赵周吴徐孙朱马胡郭林何高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余杜叶程魏苏吕丁任沈姚卢"
GIVEN = "子涵浩宇欣怡梓轩雨桐若汐一诺思远佳怡俊杰晨曦雅琪家豪文博诗琪明轩语嫣天佑可馨皓然心怡子墨晓雯"
VILLAGES = ["小王庄", "前李村", "后张村", "大郢", "沙岗", "石坝", "魏岗", "新桥", "杨湾", "河东"]
WORK_PLACES = ["江苏南京", "浙江宁波", "上海", "江苏苏州", "广东东莞", "浙江杭州", "江苏无锡", "北京"]
GUARDIANS = [("祖母", "奶奶"), ("祖父", "爷爷"), ("外祖母", "外婆"), ("外祖父", "外公"), ("母亲", "妈妈"),
             ("父亲", "爸爸"), ("姑姑", "姑姑")]
THEMES = {1: "心理健康辅导", 2: "学习辅导与作业答疑", 3: "亲情电话·视频通话", 4: "文体活动", 5: "安全与法治教育"}
COMPETITIONS = ["跳绳比赛", "乒乓球比赛", "书画比赛", "读书演讲比赛"]
# Per-kind chance a child got that contact in a semester, before the school's own diligence.
COVERAGE = {
    "past": {"home_visit": 0.95, "talk": 0.97, "guardian_contact": 0.96, "letter": 0.9},
    "current": {"home_visit": 0.78, "talk": 0.88, "guardian_contact": 0.85, "letter": 0.6},
}
# Schools missing one or two of the nine rule documents.
MISSING_RULES = {
    "menzhuang": [RuleKind.COUNSELLING],
    "jianxi": [RuleKind.ACCOUNTABILITY, RuleKind.HEALTH_EDUCATION],
    "qiaotou": [RuleKind.ASSESSMENT],
    "gupei-weigang": [RuleKind.CONSTRUCTION_PLAN, RuleKind.COUNSELLING],
}
EXTRA_TEACHERS = ["张老师", "李老师", "杨老师", "黄老师", "何老师"]
GUPEI_MEETINGS = [
    "代理家长职责与工作记录簿填写", "留守儿童心理健康识别与疏导", "家访技巧与安全注意事项",
    "与监护人沟通的方法", "学期末留守儿童工作总结与交流",
]


def _pdf(text: str) -> bytes:
    """A minimal, valid PDF whose content varies with `text` (so each school's file differs)."""
    body = text.encode("utf-8").hex()
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
    ]
    stream = f"BT /F1 12 Tf 72 770 Td <{body}> Tj ET"
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{i} 0 obj\n{obj}\nendobj\n".encode())
    offsets.append(out.tell())
    out.write(f"4 0 obj\n<< /Length {len(stream)} >>\nstream\n{stream}\nendstream\nendobj\n".encode())
    xref = out.tell()
    out.write(b"xref\n0 5\n0000000000 65535 f \n")
    for off in offsets:
        out.write(f"{off:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def _photo(rng: random.Random) -> bytes:
    """A small JPEG 'photo': a sky, ground and a few figures, different for each call."""
    w, h = 160, 120
    img = Image.new("RGB", (w, h), (rng.randrange(120, 200), rng.randrange(160, 230), 255))
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, rng.randrange(60, 90), w, h], fill=(rng.randrange(60, 140), rng.randrange(120, 180), 60))
    for _ in range(rng.randrange(3, 8)):
        x, y = rng.randrange(w - 20), rng.randrange(30, h - 30)
        colour = tuple(rng.randrange(256) for _ in range(3))
        draw.ellipse([x, y, x + 10, y + 10], fill=(240, 200, 170))
        draw.rectangle([x - 2, y + 10, x + 12, y + 30], fill=colour)
    for _ in range(3):
        x0, y0 = rng.randrange(w), rng.randrange(h)
        draw.line([x0, y0, rng.randrange(w), rng.randrange(h)], fill=tuple(rng.randrange(256) for _ in range(3)), width=3)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def _weekday_on_or_after(day: dt.date, weekday: int) -> dt.date:
    return day + dt.timedelta(days=(weekday - day.weekday()) % 7)


def spring(year: int) -> tuple[str, dt.date, dt.date]:
    """Monday on/after 20 Feb to the Sunday on/after 1 Jul (2026: 02-23 … 07-05)."""
    return (f"{year} 春季学期", _weekday_on_or_after(dt.date(year, 2, 20), 0),
            _weekday_on_or_after(dt.date(year, 7, 1), 6))


def autumn(year: int) -> tuple[str, dt.date, dt.date]:
    """1 Sep to the Sunday on/after 20 Jan (2026: 09-01 … 2027-01-24)."""
    return f"{year} 秋季学期", dt.date(year, 9, 1), _weekday_on_or_after(dt.date(year + 1, 1, 20), 6)


def progress_year(today: dt.date) -> int:
    """The year of the submissions demo's spring progress report: its 11 fortnights (April–August)
    must all be over and due, so the latest year whose 30 September has passed."""
    return today.year if today >= dt.date(today.year, 9, 30) else today.year - 1


def demo_semesters(today: dt.date) -> list[tuple[str, dt.date, dt.date]]:
    """(name, start, end), oldest first: from the spring semester of the reporting year
    (progress_year) to the current one, which is the latest that started at least
    MIN_DAYS_INTO_SEMESTER days ago (so between semesters, the one that just ended). The last
    two are the previous and the current semester; 2–4 semesters in all."""
    out = []
    for year in range(progress_year(today), today.year + 1):
        for semester in (spring(year), autumn(year)):
            if semester[1] + dt.timedelta(days=MIN_DAYS_INTO_SEMESTER) <= today:
                out.append(semester)
    return out


def _ensure_semesters(district, today) -> list[Semester]:
    out = []
    for name, start, end in demo_semesters(today):
        semester = Semester.objects.filter(district=district, name=name).first()
        if semester is None:
            semester = services.semester_create(actor=None, district=district, name=name, start=start, end=end)
        out.append(semester)
    return out


def _teachers(school, users: dict) -> list[User]:
    """The school's teachers: the demo login (if any) plus a few extra staff without a password."""
    teachers = [u for u in users.values()
                if Membership.objects.filter(user=u, school=school, role=Role.TEACHER).exists()]
    for i, name in enumerate(EXTRA_TEACHERS[: 4 if school.code in CHILDREN_PER_SCHOOL else 3]):
        username = f"{school.code.replace('-', '_')}_t{i + 2}"
        user = User.objects.filter(username=username).first() or tenancy_services.user_create(
            username=username, password=None, display_name=f"{school.name[:2]} {name}")
        tenancy_services.membership_grant(user=user, role=Role.TEACHER, school=school)
        teachers.append(user)
    return teachers


def _dates_between(rng, start, end, k):
    span = max(0, (end - start).days)
    return sorted(start + dt.timedelta(days=rng.randrange(span + 1)) for _ in range(k))


ILLNESSES = ["哮喘", "先天性心脏病（已手术）", "癫痫（服药控制）"]
DISABILITIES = ["听力残疾三级", "肢体残疾四级", "视力残疾三级"]
CONCERN_REASONS = ["情绪低落，成绩明显下滑", "多次提到想去找父母，夜里睡不好"]


def _register_values(child: Child, school, today: dt.date, enrolled: dt.date, reg: random.Random, *,
                     no_one: bool, new_guardian: bool) -> None:
    """The civil-affairs register's fields of one demo child, consistent with schools.register's
    rules: mostly 较好/一般, a few 差, `no_one` 无人监护; `new_guardian` took over within 30 days."""
    if child.left_behind_kind == "both":
        child.custody_type = "both_away"
        if child.guardian_relation in ("母亲", "父亲"):  # both parents are away: the entrusted guardian is not one
            child.guardian_relation, child.guardian_name = "祖母", child.guardian_name[:1] + "奶奶"
    elif reg.random() < 0.3:
        child.custody_type = "one_away_other_unable"
    child.guardian_since = (today - dt.timedelta(days=reg.randrange(3, 28)) if new_guardian
                            else enrolled - dt.timedelta(days=reg.randrange(30, 900)))
    if child.consent == "refused":
        return  # only the minimum is kept
    child.guardianship_assessment = "none" if no_one else reg.choices(["good", "fair", "poor"], weights=[55, 37, 8])[0]
    # Most parents call every week or two; a few have not been in touch for months.
    child.parents_last_contact_on = today - dt.timedelta(
        days=reg.randrange(150, 320) if no_one or reg.random() < 0.05 else reg.randrange(1, 40))
    child.income_source = reg.choices(["migrant_work", "farming", "business", "subsidy", "other"],
                                      weights=[70, 15, 5, 7, 3])[0]
    if child.income_source == "subsidy" or reg.random() < 0.08:
        child.assistance = reg.choice([["dibao"], ["dibao", "medical"], ["temporary"], ["housing"]])
    child.health_status = reg.choices(["healthy", "ill", "disabled"], weights=[92, 5, 3])[0]
    if child.health_status == "ill":
        child.illness = reg.choice(ILLNESSES)
    elif child.health_status == "disabled":
        child.disability = reg.choice(DISABILITIES)
    if reg.random() < 0.97:  # a few records still miss it: the archive's completeness shows them
        child.household_registration = f"安徽省明光市{school.township}{reg.choice(VILLAGES)}"


def seed(ctx: dict) -> None:
    # The demo is one district's: its calendar, checklists and reporting are district-owned rows.
    with district_scope(ctx["district"]):
        _seed(ctx)


def _seed(ctx: dict) -> None:
    district, schools, users = ctx["district"], ctx["schools"], ctx["users"]
    today = ctx.setdefault("today", timezone.localdate())
    semesters = _ensure_semesters(district, today)
    shared = {}  # bytes other schools copy (the reuse the bureau should see)
    for code in sorted(schools, key=lambda c: (c != "gupei", c)):  # Gupei first: Menzhuang copies from it
        school = schools[code]
        with tenant_scope([school.id]):
            if Child.objects.filter(school=school).exists():
                continue
            _seed_school(school, users, semesters, today, random.Random(f"{SEED}-{code}"), shared)
    sync_periodic_tasks()


def _seed_school(school, users, semesters, today, rng: random.Random, shared: dict) -> None:
    admin = next((u for u in users.values()
                  if Membership.objects.filter(user=u, school=school, role=Role.SCHOOL_ADMIN).exists()), None)
    clerk = next((u for u in users.values()
                  if Membership.objects.filter(user=u, school=school, role=Role.CLERK).exists()), None)
    teachers = _teachers(school, users)
    first, current = semesters[0], semesters[-1]
    # The school year the children were enrolled in: 1 September before the first semester.
    enrolled = dt.date(first.start.year if first.start.month >= 8 else first.start.year - 1, 9, 1)
    diligence = rng.uniform(0.8, 1.05)

    # -------- the home: site, equipment, leadership
    ActivitySite.objects.create(school=school, room=rng.choice(["多媒体教室", "四楼原图书室", "留守儿童活动室"]),
                                opened_on=dt.date(2019, 9, 1), area_m2=rng.choice([60, 72, 90, 120]),
                                opening_hours="周一至周五 15:40–17:00")
    Equipment.objects.bulk_create([
        Equipment(school=school, kind=kind, quantity=q, acquired_on=dt.date(2020, 3, 1), description=d)
        for kind, q, d in [("computer", rng.randrange(4, 12), "学生电脑"), ("tv", 1, "液晶电视"),
                           ("family_phone", rng.randrange(1, 3), "亲情电话"), ("books", rng.randrange(800, 3000), "图书"),
                           ("sports", rng.randrange(10, 40), "跳绳、乒乓球拍等")]
    ])
    members = [LeadershipMember(school=school, user=admin, person_name="" if admin else "校长", title="校长",
                                is_leader=True, order=0)]
    for i, title in enumerate(["教导主任", "总务主任", "少先队辅导员"], start=1):
        members.append(LeadershipMember(school=school, person_name=rng.choice(SURNAMES) + "老师", title=title, order=i))
    members += [LeadershipMember(school=school, user=t, title="班主任", order=10 + i) for i, t in enumerate(teachers)]
    LeadershipMember.objects.bulk_create(members)
    StaffProfile.objects.bulk_create([StaffProfile(school=school, user=t, is_proxy_parent=True, title="班主任")
                                      for t in teachers])

    # -------- children
    n = CHILDREN_PER_SCHOOL.get(school.code, rng.randrange(60, 121))
    per_grade = (1, 2) if n >= 100 else (1,)
    classes = [(g, f"{GRADE_NAMES[g - 1]}({k})班") for g in range(1, 7) for k in per_grade]
    children = []
    # The register's values come from their own generator, so the rest of the demo stays as it was.
    reg = random.Random(f"{SEED}-register-{school.code}")
    no_one, new_guardian = set(reg.sample(range(n), 2)), set(reg.sample(range(n), 2))
    for i in range(n):
        grade, class_name = classes[i % len(classes)]
        birth = dt.date(today.year - 6 - grade, rng.randrange(1, 13), rng.randrange(1, 29))
        number = crypto.with_checksum(f"341182{birth:%Y%m%d}{i:03d}")
        relation, guardian = rng.choice(GUARDIANS)
        kind = rng.choices(["both", "father", "mother"], weights=[6, 3, 1])[0]
        refused = rng.random() < 0.02
        pending = not refused and rng.random() < 0.04
        child = Child(
            school=school, name=rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.choice([1, 2]))),
            gender=rng.choice(["male", "female"]), grade=grade, class_name=class_name, left_behind_kind=kind,
            status_since=enrolled, guardian_name=rng.choice(SURNAMES) + guardian,
            guardian_relation=relation,
        )
        if refused:
            child.consent, child.consent_date, child.consent_method = (
                "refused", enrolled + dt.timedelta(days=9), "监护人口头拒绝")
        else:
            child.birth_date = birth
            child.id_number_ciphertext = crypto.encrypt(number)
            child.id_number_hash = crypto.identity_hash(number)
            child.id_number_masked = crypto.mask_id_number(number)
            child.parents_work_place = rng.choice(WORK_PLACES)
            child.guardian_phone = f"13{rng.randrange(0, 10)}{rng.randrange(10**8):08d}"
            child.home_village = school.township + rng.choice(VILLAGES)
            child.health_notes = rng.choice(["", "", "", "过敏性鼻炎", "近视", "哮喘（随身带药）"])
            child.wellbeing_notes = rng.choice(["", "", "性格内向，需多关注", "想念父母，情绪低落时多谈心", "活泼开朗"])
            if not pending:
                child.consent, child.consent_date, child.consent_method = (
                    "given", enrolled + dt.timedelta(days=rng.randrange(1, 19)), rng.choice(["纸质签字", "家长会签字", "微信确认后补签"]))
        _register_values(child, school, today, enrolled, reg, no_one=i in no_one, new_guardian=i in new_guardian)
        children.append(child)
    # A few left during the year (their data is purged a year after they leave).
    for child in rng.sample(children, 4):
        child.status, child.status_since = rng.choice(
            [("transferred", first.start + dt.timedelta(days=21)), ("no_longer", first.start + dt.timedelta(days=98)),
             ("graduated", enrolled - dt.timedelta(days=62))])
    children = Child.objects.bulk_create(children)
    history = [ChildStatusChange(school=school, child=c, status="active", since=enrolled, note="建档")
               for c in children]
    history += [ChildStatusChange(school=school, child=c, status=c.status, since=c.status_since)
                for c in children if c.status != "active"]
    ChildStatusChange.objects.bulk_create(history)
    active = [c for c in children if c.status == "active"]

    # -------- proxy parents: one teacher per class; the demo teacher gets 四(1)班
    class_names = [name for _g, name in classes]
    login_teacher = teachers[0] if teachers and teachers[0].has_usable_password() else None
    owner = {}
    others = [t for t in teachers if t != login_teacher] or teachers
    for i, name in enumerate(class_names):
        owner[name] = others[i % len(others)]
    if login_teacher is not None:
        owner["四(1)班"] = login_teacher
    ProxyAssignment.objects.bulk_create([
        ProxyAssignment(school=school, child=c, proxy_parent=owner[c.class_name], starts_on=enrolled,
                        ends_on=None if c.status == "active" else max(enrolled, c.status_since - dt.timedelta(days=1)))
        for c in children
    ])
    services._sync_child_permissions([c.id for c in children], today)

    # -------- the four contacts, with gaps (later in the list = lazier class)
    contacts = []
    for semester in semesters:
        end = min(semester.end, today)
        if end < semester.start:
            continue
        for c in children:
            if c.status != "active" and c.status_since <= semester.start:
                continue
            last = min(end, c.status_since) if c.status != "active" else end
            for kind, p in COVERAGE["current" if semester is current else "past"].items():
                p = p * diligence * (0.85 if class_names.index(c.class_name) % 4 == 3 else 1.0)
                if rng.random() < p:
                    times = 2 if kind == "talk" and rng.random() < 0.3 else 1
                    for day in _dates_between(rng, semester.start, last, times):
                        contacts.append(CareContact(
                            school=school, child=c, kind=kind, happened_on=day, semester=semester,
                            made_by=owner[c.class_name], notes=rng.choice(["", "情况良好", "学习有进步", "情绪稳定"])))
    # A proxy parent's 关注 flag on one or two of this semester's talks.
    talks = [c for c in contacts if c.semester == current and c.kind == "talk" and c.child.status == "active"]
    for contact, reason in zip(reg.sample(talks, min(2, len(talks))), CONCERN_REASONS, strict=False):
        contact.concern, contact.concern_reason = True, reason
    CareContact.objects.bulk_create(contacts)

    # -------- theme schedule, weekly activities with photos, competitions
    ThemeSchedule.objects.bulk_create([ThemeSchedule(school=school, semester=s, weekday=d, theme=t)
                                       for s in semesters for d, t in THEMES.items()])
    activities, photo_plan = [], []
    for semester in semesters:
        end = min(semester.end, today)
        week_start = semester.start - dt.timedelta(days=semester.start.weekday())
        week = 0
        while week_start <= end:
            weekday = 1 + week % 5
            day = week_start + dt.timedelta(days=weekday - 1)
            if semester.start <= day <= end:
                documented = rng.random()
                activities.append(Activity(
                    school=school, date=day, semester=semester, kind="theme_activity", title=THEMES[weekday],
                    description=f"第{week + 1}周 {THEMES[weekday]}",
                    text_record="" if documented < 0.08 else f"{day:%m月%d日}，{THEMES[weekday]}活动顺利开展，留守儿童积极参与。",
                    created_by=clerk))
                # Photos for the current semester (and a sample of earlier ones); some gaps.
                n_photos = 0 if documented > 0.9 else rng.choice([1, 1, 1, 2])
                if semester is not current and rng.random() < 0.75:
                    n_photos = 0  # last semester's photos mostly stayed in a WeChat folder
                photo_plan.append(n_photos)
            week_start += dt.timedelta(days=7)
            week += 1
        for title in rng.sample(COMPETITIONS, 2):
            day = _dates_between(rng, semester.start + dt.timedelta(days=20), max(semester.start + dt.timedelta(days=21), end), 1)[0]
            if day > end:
                continue
            activities.append(Activity(school=school, date=day, semester=semester, kind="competition", title=title,
                                       text_record=f"{title}圆满结束，评出一、二、三等奖。", created_by=clerk))
            photo_plan.append(1)
    activities = Activity.objects.bulk_create(activities)
    participants = []
    for act in activities:
        group = rng.sample(active, min(len(active), rng.randrange(8, 20)))
        for rank, c in enumerate(group):
            placing = rank + 1 if act.kind == "competition" and rank < 3 else None
            participants.append(ActivityParticipant(
                school=school, activity=act, child=c, placing=placing,
                placing_label=["一等奖", "二等奖", "三等奖"][rank] if placing else ""))
    ActivityParticipant.objects.bulk_create(participants)
    for act, n_photos in zip(activities, photo_plan):
        for k in range(n_photos):
            data = _photo(rng)
            if school.code == "gupei" and "photo" not in shared and act.semester_id == current.id:
                shared["photo"] = data
            services.evidence_upload(actor=None, school=school, attach_to=act, caption=act.title,
                                     uploaded_file=SimpleUploadedFile(f"IMG_{act.id}_{k}.jpg", data))
    if school.code == "menzhuang" and "photo" in shared:
        # Menzhuang's last activity carries Gupei's photo: flagged to the bureau as reused evidence.
        target = next((a for a in reversed(activities) if a.semester_id == current.id), activities[-1])
        services.evidence_upload(actor=None, school=school, attach_to=target, caption=target.title,
                                 uploaded_file=SimpleUploadedFile("IMG_shared.jpg", shared["photo"]))

    # -------- training meetings and the work record book
    n_meetings = 5 if school.code == "gupei" else rng.randrange(1, 4)
    meeting_days = _dates_between(rng, current.start + dt.timedelta(days=3), min(current.end, today), n_meetings)
    meetings = TrainingMeeting.objects.bulk_create([
        TrainingMeeting(school=school, date=day, semester=current, topic=GUPEI_MEETINGS[i % len(GUPEI_MEETINGS)],
                        minutes=f"会议由校长主持，全体代理家长参加，学习{GUPEI_MEETINGS[i % len(GUPEI_MEETINGS)]}。",
                        created_by=admin)
        for i, day in enumerate(meeting_days)
    ])
    TrainingAttendance.objects.bulk_create([TrainingAttendance(school=school, meeting=m, user=t)
                                            for m in meetings for t in teachers])
    entries = []
    for t in teachers:
        mine = [c for c in active if owner[c.class_name] == t]
        for day in _dates_between(rng, current.start, min(current.end, today), 6):
            about = rng.choice(mine) if mine and rng.random() < 0.7 else None
            entries.append(WorkRecordEntry(school=school, proxy_parent=t, date=day, semester=current, child=about,
                                           text=rng.choice(["与孩子谈心，了解近况。", "给监护人打电话沟通学习情况。",
                                                            "辅导作业，孩子进步明显。", "组织班级留守儿童视频通话。"])))
    WorkRecordEntry.objects.bulk_create(entries)

    # -------- study pairs and tutoring
    pairs = StudyPair.objects.bulk_create([
        StudyPair(school=school, teacher=rng.choice(teachers), child=c, starts_on=current.start + dt.timedelta(days=6),
                  subject=rng.choice(["语文", "数学", "英语"]))
        for c in rng.sample(active, max(1, len(active) // 5))
    ])
    TutoringSession.objects.bulk_create([
        TutoringSession(school=school, pair=p, date=day, semester=current, minutes=rng.choice([20, 30, 40]),
                        notes=rng.choice(["", "复习计算", "阅读理解", "背诵课文"]))
        for p in pairs
        for day in _dates_between(rng, current.start + dt.timedelta(days=7), min(current.end, today), rng.randrange(2, 6))
    ])

    # -------- the nine rule documents, one or two missing at some schools
    missing = MISSING_RULES.get(school.code, [])
    for kind, label in RuleKind.choices:
        if kind in missing:
            continue
        if kind == RuleKind.MANAGEMENT and school.code == "menzhuang" and "management" in shared:
            data = shared["management"]  # copied word for word from Gupei: flagged as reused
        else:
            data = _pdf(f"{school.name} {label} {first.start.year}")
            if school.code == "gupei" and kind == RuleKind.MANAGEMENT:
                shared["management"] = data
        services.rule_document_version_add(
            actor=None, school=school, kind=kind, title=f"{school.name}{str(label).split('(')[-1].rstrip(')')}",
            uploaded_file=SimpleUploadedFile(f"{kind}.pdf", data), adopted_on=first.start + dt.timedelta(days=5))
