"""The audit report's figures: the one place that composes them. The XLSX, the DOCX and the HTML
view all render what `audit_report` returns, so the three cannot disagree.

Every figure is counted from the records by one query, and carries the SQL that produced it (the
statement PostgreSQL ran, captured with its parameters): an auditor can run it again. No figure,
row or statement names a child: children are counted, never listed (the statements filter on
schools, dates and codes only).

Runs in a system scope over the district's schools (the bureau's view of its own district).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncMinute
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from compliance.models import ComplianceExport
from privacy.models import ConsentRecord, GuardianRequest
from schools.models import CareContact, Child, Evidence, TrainingAttendance
from submissions.models import DistrictExport
from tenancy.models import AccessLog, District, Membership, School, User
from tenancy.replica import read_connection, replica_reads
from tenancy.roles import Role
from tenancy.scoping import system_scope

from ..models import AuditPack, Breach, BreachNotice

# The sections of the report, in order: (key, title).
SECTIONS = [
    ("data", gettext_noop("Data held and the children it concerns")),
    ("access", gettext_noop("Who read sensitive records")),
    ("roles", gettext_noop("The approvals behind the roles")),
    ("exports", gettext_noop("Exports made")),
    ("consent", gettext_noop("Guardian consent")),
    ("requests", gettext_noop("Guardian requests")),
    ("purges", gettext_noop("Retention purges")),
    ("security", gettext_noop("Security events")),
    ("breaches", gettext_noop("Data breaches and notices to guardians")),
    ("care", gettext_noop("Follow-up cases and referrals")),
    ("findings", gettext_noop("Open findings")),
]

# The kinds of a child's data, by the Child fields that hold them (their verbose names are listed).
CATEGORIES = [
    ("identity", gettext_noop("Identity"), ["birth_date", "id_number_masked", "gender", "household_registration", "home_village"]),
    ("guardianship", gettext_noop("Guardianship and family"),
     ["guardian_name", "guardian_relation", "guardian_phone", "second_contact_name", "second_contact_phone",
      "custody_type", "guardianship_assessment", "parents_work_place", "parents_last_contact_on"]),
    ("health", gettext_noop("Health and wellbeing"), ["health_status", "disability", "illness", "health_notes", "wellbeing_notes"]),
    ("economic", gettext_noop("Family income and assistance"), ["income_source", "assistance"]),
]


@dataclass
class Figure:
    key: str
    label: str
    value: int
    sql: str
    finding: bool = False  # an open finding: more than zero needs action


@dataclass
class Table:
    key: str
    label: str
    header: list[str]
    rows: list[list]
    sql: str


@dataclass
class Section:
    key: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@contextmanager
def _captured():
    """The SQL statements run inside the block, as PostgreSQL received them (parameters bound)."""
    statements: list[str] = []

    def wrapper(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        statements.append(reader.ops.last_executed_query(context["cursor"], sql, params))
        return result

    reader = read_connection()  # the replica inside audit_report's replica_reads() block
    with reader.execute_wrapper(wrapper):
        yield statements


def _run(compute: Callable):
    """(value, the SQL that produced it)."""
    with _captured() as statements:
        value = compute()
    return value, ";\n".join(statements)


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


@dataclass
class Window:
    district: District
    year: int
    start: dt.datetime  # the year's first instant (local time)
    end: dt.datetime  # the first instant after what the report covers: the year's end, or now
    as_of: dt.date  # the day the counts "held" are taken on: 31 December, or today in the year itself
    school_ids: list[int]

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, 1, 1)


def window(district: District, year: int, now: dt.datetime | None = None) -> Window:
    now = now or timezone.now()
    tz = timezone.get_current_timezone()
    start = dt.datetime(year, 1, 1, tzinfo=tz)
    year_end = dt.datetime(year + 1, 1, 1, tzinfo=tz)
    end = min(year_end, now)
    as_of = min(dt.date(year, 12, 31), timezone.localdate(now))
    with system_scope("the audit report counts the district's schools"):
        ids = list(School.objects.filter(district_id=district.pk).order_by("id").values_list("id", flat=True))
    return Window(district, year, start, end, as_of, ids)


class _Builder:
    def __init__(self, w: Window):
        self.w = w

    def count(self, section: Section, key: str, label: str, qs: QuerySet, *, finding: bool = False) -> int:
        value, sql = _run(qs.count)
        section.figures.append(Figure(key, label, value, sql, finding))
        return value

    def total(self, section: Section, key: str, label: str, qs: QuerySet, column: str) -> int:
        value, sql = _run(lambda: qs.aggregate(n=Sum(column))["n"] or 0)
        section.figures.append(Figure(key, label, int(value), sql))
        return int(value)

    def table(self, section: Section, key: str, label: str, header: list[str], qs: QuerySet,
              row: Callable[[dict], list]) -> list[dict]:
        values, sql = _run(lambda: list(qs))
        section.tables.append(Table(key, label, header, [row(v) for v in values], sql))
        return values

    # ------------------------------------------------------------ the record sets
    def children(self) -> QuerySet:
        """Children whose records the district's schools held at the report's end."""
        w = self.w
        return (Child.objects.filter(school__district_id=w.district.pk, created_at__lt=w.end)
                .filter(Q(purged_at__isnull=True) | Q(purged_at__gte=w.end)).order_by())

    def under_14(self) -> QuerySet:
        return self.children().filter(birth_date__gt=_years_before(self.w.as_of, 14))

    def in_year(self, qs: QuerySet, column: str) -> QuerySet:
        return qs.filter(**{f"{column}__gte": self.w.start, f"{column}__lt": self.w.end})

    def days_in_year(self, qs: QuerySet, column: str) -> QuerySet:
        return qs.filter(**{f"{column}__gte": self.w.first_day, f"{column}__lte": self.w.as_of})

    def log(self) -> QuerySet:
        return self.in_year(AccessLog.objects.filter(school__district_id=self.w.district.pk), "at").order_by()

    def staff(self) -> QuerySet:
        """Memberships that open the district's data: its bureau roles and its schools' roles."""
        d = self.w.district.pk
        return Membership.objects.filter(Q(district_id=d) | Q(school__district_id=d)).filter(created_at__lt=self.w.end)

    def staff_user_ids(self) -> QuerySet:
        return self.staff().values("user_id")


def _person(name: str, username: str) -> str:
    return name or username or "—"


def _role_labels() -> dict[str, str]:
    return {value: str(label) for value, label in Role.choices}


def _data(b: _Builder) -> Section:
    s = Section("data", _(dict(SECTIONS)["data"]))
    children = b.children()
    b.count(s, "children_held", _("Children whose records were held at the report's end"), children)
    under = _years_before(b.w.as_of, 14)
    adult = _years_before(b.w.as_of, 18)
    b.count(s, "children_under_14", _("of them under 14 (on the report's end date)"), children.filter(birth_date__gt=under))
    b.count(s, "children_14_to_18", _("of them 14 to 18"), children.filter(birth_date__lte=under, birth_date__gt=adult))
    b.count(s, "children_birth_unknown", _("of them with no birth date on record"), children.filter(birth_date__isnull=True))
    for key, title, fields in CATEGORIES:
        q = Q()
        for name in fields:
            f = Child._meta.get_field(name)
            if f.get_internal_type() in ("DateField",):
                q |= Q(**{f"{name}__isnull": False})
            elif name == "assistance":
                q |= ~Q(assistance=[])
            else:
                q |= ~Q(**{name: ""})
        names = "、".join(str(Child._meta.get_field(n).verbose_name) for n in fields)
        b.count(s, f"category_{key}", _("%(category)s (%(fields)s): children with such data")
                % {"category": _(title), "fields": names}, children.filter(q))
    b.count(s, "contacts", _("Contacts with children recorded in the year (home visits, talks, guardian contacts, letters)"),
            b.days_in_year(CareContact.objects.filter(school__district_id=b.w.district.pk), "happened_on").order_by())
    b.count(s, "photos", _("Photos uploaded in the year"),
            b.in_year(Evidence.objects.filter(school__district_id=b.w.district.pk, kind=Evidence.Kind.PHOTO),
                      "created_at").order_by())
    return s


def _access(b: _Builder) -> Section:
    s = Section("access", _(dict(SECTIONS)["access"]))
    views = b.log().filter(action=AccessLog.Action.VIEW)
    b.count(s, "sensitive_reads", _("Reads of sensitive records"), views)
    b.count(s, "sensitive_readers", _("People who read sensitive records"), views.values("user_id").distinct())
    roles = _role_labels()
    held: dict[int, set[str]] = {}
    memberships, roles_sql = _run(lambda: list(b.staff().values("user_id", "role")))
    for m in memberships:
        held.setdefault(m["user_id"], set()).add(roles.get(m["role"], m["role"]))
    b.table(s, "reads_by_user", _("Reads by person and role"), [_("Person"), _("Roles"), _("Reads")],
            views.values("user_id", "user__username", "user__display_name").annotate(n=Count("id"))
            .order_by("-n", "user_id"),
            lambda v: [_person(v["user__display_name"], v["user__username"]) if v["user_id"] else _("the system"),
                       "、".join(sorted(held.get(v["user_id"], set()))) or "—", v["n"]])
    s.tables[-1].sql += ";\n" + roles_sql  # the roles column comes from the memberships
    from tenancy.access_log_text import kind_of

    b.table(s, "reads_by_kind", _("Reads by kind of record"), [_("Kind of record"), _("Reads")],
            views.values("object_type").annotate(n=Count("id")).order_by("-n", "object_type"),
            lambda v: [kind_of(v["object_type"]), v["n"]])
    return s


def _roles(b: _Builder) -> Section:
    s = Section("roles", _(dict(SECTIONS)["roles"]))
    staff = b.staff()
    b.count(s, "memberships", _("Roles held on the district and its schools at the report's end"), staff)
    b.count(s, "memberships_granted", _("Roles granted in the year"), b.in_year(staff, "created_at"))
    b.count(s, "memberships_no_grantor", _("Roles with no recorded grantor (set up by the system)"),
            staff.filter(granted_by__isnull=True))
    roles = _role_labels()
    b.table(s, "grants", _("Roles and who granted them"), [_("Person"), _("Role"), _("Where"), _("Granted by"), _("Granted on")],
            staff.values("user__username", "user__display_name", "role", "district__name", "school__name",
                         "granted_by__username", "granted_by__display_name", "created_at").order_by("created_at", "id"),
            lambda v: [_person(v["user__display_name"], v["user__username"]), roles.get(v["role"], v["role"]),
                       v["school__name"] or v["district__name"] or "",
                       _person(v["granted_by__display_name"], v["granted_by__username"])
                       if v["granted_by__username"] else _("the system"),
                       timezone.localtime(v["created_at"]).strftime("%Y-%m-%d")])
    return s


def _exports(b: _Builder) -> Section:
    s = Section("exports", _(dict(SECTIONS)["exports"]))
    exports = b.log().filter(action=AccessLog.Action.EXPORT)
    b.count(s, "export_log_rows", _("Export entries in the access log (one per school or record in each file)"), exports)
    # An archive export writes one row per child in one INSERT; its rows share the person, the
    # school and the minute (two exports by one person within a minute count as one).
    b.count(s, "archive_exports", _("Exports of a school's children's archive"),
            exports.filter(object_type="schools.child").annotate(minute=TruncMinute("at"))
            .values("user_id", "school_id", "minute").distinct())
    b.count(s, "archive_records_exported", _("Children's records in those exports"),
            exports.filter(object_type="schools.child"))
    jobs = [
        ("compliance_exports", _("Compliance exports run"),
         b.in_year(ComplianceExport.objects.filter(assessment__district_id=b.w.district.pk), "created_at").order_by()),
        ("district_exports", _("District exports run"),
         b.in_year(DistrictExport.objects.filter(district_id=b.w.district.pk), "created_at").order_by()),
        ("audit_packs", _("Audit packs built"),
         b.in_year(AuditPack.objects.filter(district_id=b.w.district.pk), "created_at").order_by()),
    ]
    rows, sqls = [], []
    for key, label, qs in jobs:
        b.count(s, key, label, qs)
        by_whom, sql = _run(lambda qs=qs: list(qs.values("requested_by__username", "requested_by__display_name")
                                               .annotate(n=Count("id")).order_by("-n", "requested_by__username")))
        sqls.append(sql)
        rows += [[label, _person(v["requested_by__display_name"], v["requested_by__username"])
                  if v["requested_by__username"] else _("the system"), v["n"]] for v in by_whom]
    s.tables.append(Table("export_jobs_by_user", _("Export jobs by who asked for them"),
                          [_("Kind of export"), _("Person"), _("Runs")], rows, ";\n".join(sqls)))
    from tenancy.access_log_text import kind_of

    b.table(s, "exports_by_user", _("Exports by person and kind"), [_("Person"), _("Kind of record"), _("Entries")],
            exports.values("user_id", "user__username", "user__display_name", "object_type").annotate(n=Count("id"))
            .order_by("-n", "user_id", "object_type"),
            lambda v: [_person(v["user__display_name"], v["user__username"]) if v["user_id"] else _("the system"),
                       kind_of(v["object_type"]), v["n"]])
    return s


def _consent(b: _Builder) -> Section:
    s = Section("consent", _(dict(SECTIONS)["consent"]))
    children = b.children()
    for value, label in Child.Consent.choices:
        b.count(s, f"child_consent_{value}", _("Children with consent %(state)s") % {"state": label},
                children.filter(consent=value))
    records = b.days_in_year(ConsentRecord.objects.filter(school__district_id=b.w.district.pk), "decided_on").order_by()
    for value, label in ConsentRecord.Decision.choices:
        b.count(s, f"consent_records_{value}", _("Consent decisions recorded in the year: %(decision)s")
                % {"decision": label}, records.filter(decision=value))
    return s


def _requests(b: _Builder) -> Section:
    s = Section("requests", _(dict(SECTIONS)["requests"]))
    requests = GuardianRequest.objects.filter(school__district_id=b.w.district.pk).order_by()
    received = b.days_in_year(requests, "received_on")
    b.count(s, "requests_received", _("Guardian requests received in the year"), received)
    for value, label in GuardianRequest.Kind.choices:
        b.count(s, f"requests_{value}", _("of them: %(kind)s") % {"kind": label}, received.filter(kind=value))
    closed = b.days_in_year(requests, "closed_on")
    b.count(s, "requests_done", _("Requests closed as done in the year"), closed.filter(status=GuardianRequest.Status.DONE))
    b.count(s, "requests_refused", _("Requests refused in the year"), closed.filter(status=GuardianRequest.Status.REFUSED))
    b.count(s, "requests_closed_late", _("Requests closed after their due date"),
            closed.filter(closed_on__gt=F("due_on")))
    b.count(s, "requests_open", _("Requests still open at the report's end"),
            requests.filter(received_on__lte=b.w.as_of).filter(Q(closed_on__isnull=True) | Q(closed_on__gt=b.w.as_of)))
    return s


def _purges(b: _Builder) -> Section:
    s = Section("purges", _(dict(SECTIONS)["purges"]))
    d = b.w.district.pk
    b.count(s, "children_purged", _("Children's records purged in the year"),
            b.in_year(Child.objects.filter(school__district_id=d), "purged_at").order_by())
    b.count(s, "purge_log_rows", _("Purges in the access log (the nightly purge job)"),
            b.log().filter(action=AccessLog.Action.PURGE))
    return s


def _security(b: _Builder) -> Section:
    from axes.models import AccessAttempt

    s = Section("security", _(dict(SECTIONS)["security"]))
    usernames = User.objects.filter(id__in=b.staff_user_ids()).values("username")
    b.count(s, "lockouts", _("Sign-in lockouts of the district's staff (too many wrong passwords)"),
            b.in_year(AccessAttempt.objects.filter(username__in=usernames,
                                                   failures_since_start__gte=settings.AXES_FAILURE_LIMIT),
                      "attempt_time").order_by())
    b.count(s, "failed_sign_ins", _("Accounts with wrong passwords recorded"),
            b.in_year(AccessAttempt.objects.filter(username__in=usernames), "attempt_time").order_by())
    totp = b.log().filter(object_type="otp_totp.totpdevice")
    b.count(s, "two_factor_enrolled", _("Two-factor enrolments"), totp.filter(action=AccessLog.Action.CREATE))
    b.count(s, "two_factor_failed", _("Wrong two-factor codes"), totp.filter(action=AccessLog.Action.VERIFY,
                                                                              detail__ok=False))
    tokens = b.log().filter(object_type="tenancy.apitoken")
    b.count(s, "tokens_issued", _("API tokens issued"), tokens.filter(action=AccessLog.Action.CREATE))
    b.count(s, "tokens_revoked", _("API token revocations"), tokens.filter(action=AccessLog.Action.DELETE))
    s.notes.append(_("Two-factor and token events of bureau accounts, which belong to no school, are in the "
                     "server's security log, not in these counts."))
    return s


def _breaches(b: _Builder) -> Section:
    s = Section("breaches", _(dict(SECTIONS)["breaches"]))
    breaches = b.days_in_year(Breach.objects.filter(district_id=b.w.district.pk), "occurred_on").order_by()
    b.count(s, "breaches", _("Data breaches recorded"), breaches)
    b.total(s, "breach_children", _("Children affected"), breaches, "children_affected")
    notices = BreachNotice.objects.filter(breach__in=breaches.values("id")).order_by()
    b.count(s, "breach_notices", _("Notice batches to guardians"), notices)
    b.total(s, "breach_guardians_notified", _("Guardians notified"), notices, "guardians_notified")
    methods = dict(BreachNotice.Method.choices)
    b.table(s, "breach_list", _("Breaches"), [_("Happened on"), _("School"), _("Data involved"), _("Children affected"),
                                              _("Measures taken"), _("Notices")],
            breaches.values("occurred_on", "school__name", "data_involved", "children_affected", "measures")
            .annotate(n=Count("notices")).order_by("occurred_on", "id"),
            lambda v: [v["occurred_on"].isoformat(), v["school__name"] or _("district-wide"), v["data_involved"],
                       v["children_affected"], v["measures"], v["n"]])
    b.table(s, "breach_notice_methods", _("Notices by method"), [_("Method"), _("Batches"), _("Guardians")],
            notices.values("method").annotate(n=Count("id"), g=Sum("guardians_notified")).order_by("method"),
            lambda v: [str(methods.get(v["method"], v["method"])), v["n"], v["g"] or 0])
    return s


def _findings(b: _Builder) -> Section:
    s = Section("findings", _(dict(SECTIONS)["findings"]))
    d, as_of = b.w.district.pk, b.w.as_of
    b.count(s, "overdue_requests", _("Guardian requests past their due date and still open"),
            GuardianRequest.objects.filter(school__district_id=d, received_on__lte=as_of, due_on__lt=as_of)
            .filter(Q(closed_on__isnull=True) | Q(closed_on__gt=as_of)).order_by(), finding=True)
    b.count(s, "under_14_without_consent", _("Children under 14 whose guardian's consent is not on record"),
            b.under_14().exclude(consent=Child.Consent.GIVEN).filter(status=Child.Status.ACTIVE), finding=True)
    retention = dt.timedelta(days=settings.CHILD_DATA_RETENTION_DAYS)
    b.count(s, "past_retention", _("Children who left more than the retention period ago and are not purged"),
            b.children().exclude(status=Child.Status.ACTIVE).filter(status_since__lt=as_of - retention), finding=True)
    trained = TrainingAttendance.objects.filter(school__district_id=d, meeting__date__gte=b.w.first_day,
                                                meeting__date__lte=as_of).values("user_id")
    b.count(s, "untrained_staff", _("Teachers with access to children's records and no training attended in the year"),
            User.objects.filter(is_active=True, memberships__role=Role.TEACHER, memberships__school__district_id=d,
                                memberships__created_at__lt=b.w.end)
            .exclude(id__in=trained).distinct(), finding=True)
    b.count(s, "breaches_without_notice", _("Breaches with no notice to guardians recorded"),
            b.days_in_year(Breach.objects.filter(district_id=d), "occurred_on").filter(notices__isnull=True).order_by(),
            finding=True)
    return s


def care_section_hook(b: _Builder) -> Section | None:
    """The follow-up of children at risk (the `care` app), kept in its own module for size."""
    from .care_figures import care_section

    return care_section(b)


BUILDERS = [_data, _access, _roles, _exports, _consent, _requests, _purges, _security, _breaches, _findings]


def audit_report(district: District, year: int, *, now: dt.datetime | None = None,
                 progress: Callable[[int, str], None] | None = None) -> dict:
    """The year's report for the district, as plain data (stored on the pack as built, rendered
    by the XLSX, the DOCX and the HTML view). `progress(percent, step)` is told after each section."""
    w = window(district, year, now)
    b = _Builder(w)
    sections = []
    with system_scope("the audit report reads every record of the district", school_ids=w.school_ids,
                      district_ids=[district.pk]), replica_reads(reason="privacy audit figures"):
        for i, build in enumerate([*BUILDERS, care_section_hook]):
            section = build(b)
            if section is None:
                continue
            sections.append(section)
            if progress is not None:
                progress(10 + int(60 * (i + 1) / len(BUILDERS)), section.title)
    return {
        "district": district.name, "year": year, "as_of": w.as_of.isoformat(),
        "period": [w.first_day.isoformat(), w.as_of.isoformat()],
        "sections": [
            {"key": sec.key, "title": sec.title, "notes": sec.notes,
             "figures": [f.__dict__ for f in sec.figures],
             "tables": [t.__dict__ for t in sec.tables]}
            for sec in sections
        ],
    }


def figure_values(report: dict) -> dict[str, int]:
    """key -> value of every figure of a report (what the tests compare with the database)."""
    return {f["key"]: f["value"] for sec in report["sections"] for f in sec["figures"]}


def all_figures(report: dict) -> list[tuple[str, dict]]:
    """(section title, figure) in report order: the XLSX's and the appendix's rows."""
    return [(sec["title"], f) for sec in report["sections"] for f in sec["figures"]]


def all_tables(report: dict) -> list[tuple[str, dict]]:
    return [(sec["title"], t) for sec in report["sections"] for t in sec["tables"]]


def open_findings(report: dict) -> list[dict]:
    return [f for sec in report["sections"] for f in sec["figures"] if f.get("finding") and f["value"]]
