"""Reads of the minors'-data paperwork: who is under 14, the consent register, guardian requests
and their due dates, the school's data officer, and what the school holds about one child."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils import timezone

from schools.models import CareContact, Child
from schools.selectors import PROXY, child_fields
from tenancy.models import Membership, School
from tenancy.selectors import permissions_by_school

from .models import ConsentRecord, DataOfficer, GuardianRequest

# The 儿童个人信息网络保护规定 covers children under this age: their guardian must consent.
CONSENT_AGE = 14
# Start-page window: an open request due within this many days is work for today.
DUE_SOON_DAYS = 7


def today() -> dt.date:
    return timezone.localdate()


def manageable_school_ids(user) -> list[int]:
    """Schools where the user keeps the children's archive (manage_children): only they run the
    paperwork and read the requests."""
    return sorted(sid for sid, perms in permissions_by_school(user).items() if "manage_children" in perms)


# ---------------------------------------------------------------- the under-14 rule
def birthday_cutoff(on: dt.date) -> dt.date:
    """Children born after this day are under CONSENT_AGE on `on` (29 February counts as 1 March)."""
    try:
        return on.replace(year=on.year - CONSENT_AGE)
    except ValueError:
        return on.replace(year=on.year - CONSENT_AGE, day=28)


def is_under_consent_age(child: Child, on: dt.date | None = None) -> bool:
    """Under 14 on `on`. An unknown birth date counts as under 14: a primary-school child almost
    always is, and the guardian's consent is then asked for rather than assumed unneeded."""
    if child.birth_date is None:
        return True
    return child.birth_date > birthday_cutoff(on or today())


def under_consent_age_q(on: dt.date) -> Q:
    """The same rule as is_under_consent_age, for a query of children."""
    return Q(birth_date__isnull=True) | Q(birth_date__gt=birthday_cutoff(on))


def needs_guardian_consent(child: Child, on: dt.date | None = None) -> bool:
    """Under 14 with no decision recorded: "待取得监护人同意"."""
    return child.consent == Child.Consent.PENDING and is_under_consent_age(child, on)


# ---------------------------------------------------------------- the consent register
@dataclass
class ConsentOverview:
    given: int = 0
    refused: int = 0
    pending: int = 0
    under_age_pending: list[Child] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.given + self.refused + self.pending


def consent_overview(school: School, on: dt.date | None = None) -> ConsentOverview:
    """Counts of the active, unpurged children by consent state, and the children under 14
    still waiting for their guardian's consent (two queries)."""
    on = on or today()
    active = Child.objects.filter(school=school, status=Child.Status.ACTIVE, purged_at__isnull=True)
    out = ConsentOverview()
    for row in active.values("consent").annotate(n=Count("id")).order_by():
        setattr(out, row["consent"], row["n"])
    out.under_age_pending = list(active.filter(under_consent_age_q(on), consent=Child.Consent.PENDING)
                                 .order_by("grade", "class_name", "name", "id"))
    return out


def under_age_pending_counts(school_ids: list[int], on: dt.date | None = None) -> dict[int, int]:
    """{school id: active children under 14 without a consent decision} (one query)."""
    rows = (Child.objects.filter(under_consent_age_q(on or today()), school_id__in=school_ids,
                                 status=Child.Status.ACTIVE, purged_at__isnull=True, consent=Child.Consent.PENDING)
            .values("school_id").annotate(n=Count("id")).order_by())
    return {r["school_id"]: r["n"] for r in rows}


def consent_history(child: Child) -> list[ConsentRecord]:
    return list(ConsentRecord.objects.filter(child=child).select_related("recorded_by")
                .order_by("-decided_on", "-id"))


def latest_consent(child: Child) -> ConsentRecord | None:
    return ConsentRecord.objects.filter(child=child).order_by("-decided_on", "-id").first()


# ---------------------------------------------------------------- guardian requests
def requests_for_school(school: School, *, open_only: bool = False) -> list[GuardianRequest]:
    qs = GuardianRequest.objects.filter(school=school).select_related("child", "handled_by")
    if open_only:
        qs = qs.filter(status=GuardianRequest.Status.OPEN)
    return list(qs.order_by("status", "due_on", "id"))


def is_overdue(req: GuardianRequest, on: dt.date | None = None) -> bool:
    return req.status == GuardianRequest.Status.OPEN and req.due_on < (on or today())


def days_left(req: GuardianRequest, on: dt.date | None = None) -> int:
    return (req.due_on - (on or today())).days


@dataclass
class RequestsDue:
    overdue: int = 0
    due_soon: int = 0  # due today or within DUE_SOON_DAYS, not yet overdue
    next_due: dt.date | None = None


def requests_due(school_ids: list[int], on: dt.date | None = None) -> dict[int, RequestsDue]:
    """{school id: open requests overdue / due within DUE_SOON_DAYS} for the start page (one query)."""
    on = on or today()
    horizon = on + dt.timedelta(days=DUE_SOON_DAYS)
    out: dict[int, RequestsDue] = {}
    rows = GuardianRequest.objects.filter(school_id__in=school_ids, status=GuardianRequest.Status.OPEN,
                                          due_on__lte=horizon).values_list("school_id", "due_on")
    for school_id, due_on in rows:
        due = out.setdefault(school_id, RequestsDue())
        if due_on < on:
            due.overdue += 1
        else:
            due.due_soon += 1
            due.next_due = min(due.next_due or due_on, due_on)
    return out


# ---------------------------------------------------------------- the data officer
def data_officer(school: School) -> DataOfficer | None:
    return DataOfficer.objects.filter(school=school).select_related("user").first()


def staff_of_school(school: School):
    """The users who hold a role at the school: who may be named the data officer."""
    from tenancy.models import User

    ids = Membership.objects.filter(school=school).values("user_id")
    return User.objects.filter(id__in=ids, is_active=True).order_by("display_name", "username")


# ---------------------------------------------------------------- what the school holds about a child
# The printable copy for the guardian: the child's record masked as for the child's proxy parent
# (schools.selectors.child_fields at PROXY level: every field, the national ID masked), so the
# copy follows the archive's own masking rules.
COPY_FIELDS = (
    "name", "gender", "birth_date", "id_number", "grade", "class_name", "left_behind_kind", "parents_work_place",
    "guardian_name", "guardian_relation", "guardian_phone", "second_contact_name", "second_contact_phone",
    "home_village", "health_notes", "wellbeing_notes", "consent", "consent_date", "consent_method", "status",
    "status_since",
)


@dataclass
class HeldAboutChild:
    child: Child
    facts: list[tuple[str, object]]
    status_history: list
    contacts: list[CareContact]
    consents: list[ConsentRecord]


def held_about_child(child: Child) -> HeldAboutChild:
    data = child_fields(child, PROXY)
    facts = []
    for name in COPY_FIELDS:
        if name not in data:
            continue
        value = data[name]
        model_field = Child._meta.get_field("id_number_masked" if name == "id_number" else name)
        if model_field.choices and value:
            value = dict(model_field.choices).get(value, value)
        facts.append((str(model_field.verbose_name), value))
    contacts = list(CareContact.objects.filter(child=child).select_related("made_by")
                    .order_by("-happened_on", "-id"))
    return HeldAboutChild(child=child, facts=facts, status_history=list(child.status_history.all()),
                          contacts=contacts, consents=consent_history(child))
