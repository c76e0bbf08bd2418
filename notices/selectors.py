"""Reads of notices: a user's inbox and choices, who hears of a school's business, which robots
a user manages."""
from __future__ import annotations

from django.conf import settings
from django.db.models import Q, QuerySet

from tenancy.models import District, Membership, School
from tenancy.roles import Role
from tenancy.selectors import memberships_of

from .models import Channel, Kind, Notification, Preference, Robot


def notifications_for(*, user, unread_only: bool = False) -> QuerySet[Notification]:
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    qs = Notification.objects.filter(user=user)
    return qs.filter(is_read=False) if unread_only else qs


def notifications_unread_count(*, user) -> int:
    return notifications_for(user=user, unread_only=True).count()


def email_default() -> bool:
    return getattr(settings, "NOTICES_EMAIL_DEFAULT", True)


def email_choices(*, user) -> dict[str, bool]:
    """{kind: e-mail on?} for every kind, with the default where the user chose nothing."""
    chosen = dict(Preference.objects.filter(user=user, channel=Channel.EMAIL).values_list("kind", "enabled"))
    return {k.value: chosen.get(k.value, email_default()) for k in Kind}


def email_wanted(users, kind: str) -> list:
    """The users (with an address) who get e-mail for this kind (one query for the batch)."""
    users = [u for u in users if u.email]
    if not users:
        return []
    chosen = dict(Preference.objects.filter(user__in=users, kind=kind, channel=Channel.EMAIL)
                  .values_list("user_id", "enabled"))
    return [u for u in users if chosen.get(u.id, email_default())]


def staff_by_school(school_ids, roles) -> dict[int, list]:
    """The batched form: for each school, the active users holding one of `roles` on it, each once,
    by id (the people a school's notices and reminders go to)."""
    out: dict[int, dict[int, object]] = {}
    for m in (Membership.objects.filter(school_id__in=set(school_ids), role__in=list(roles), user__is_active=True)
              .select_related("user").order_by("user_id")):
        assert m.school_id is not None  # filtered on school_id__in
        out.setdefault(m.school_id, {}).setdefault(m.user_id, m.user)
    return {sid: list(users.values()) for sid, users in out.items()}


def school_staff(school_id: int, roles) -> list:
    """Active users holding one of `roles` on the school itself, each once, by id."""
    return staff_by_school([school_id], roles).get(school_id, [])


def district_staff(district_id: int, roles) -> list:
    out: dict[int, object] = {}
    for m in (Membership.objects.filter(district_id=district_id, role__in=list(roles), user__is_active=True)
              .select_related("user").order_by("user_id")):
        out.setdefault(m.user_id, m.user)
    return list(out.values())


def robot_places(*, user) -> list[tuple[District, School | None]]:
    """Where the user may set up group robots: each school they are the admin of, and each district
    they are the bureau admin of (the rule, for the page and the service alike)."""
    places: list[tuple[District, School | None]] = []
    for m in memberships_of(user):
        if m.role == Role.BUREAU_ADMIN and m.district is not None:
            places.append((m.district, None))
        elif m.role == Role.SCHOOL_ADMIN and m.school is not None:
            places.append((m.school.district, m.school))
    return places


def robots_managed_by(*, user) -> QuerySet[Robot]:
    places = robot_places(user=user)
    if not places:
        return Robot.objects.none()
    q = Q()
    for district, school in places:
        q |= Q(district=district, school=school) if school is not None else Q(district=district, school__isnull=True)
    return Robot.objects.filter(q).select_related("school")


def robots_for_event(*, district_id: int, school_id: int | None, kind: str) -> list[Robot]:
    """The district's robots and (for a school's event) the school's, that carry this kind."""
    q = Q(school__isnull=True)
    if school_id is not None:
        q |= Q(school_id=school_id)
    return [r for r in Robot.objects.filter(q, district_id=district_id).order_by("id") if kind in r.kinds]
