"""Every write of notices: notify (the one entry point every app calls), sending the deliveries,
the user's channel choices, the group robots, marking read."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jobs.outbox import job_enqueue
from tenancy.models import School
from tenancy.services import access_log_record, access_log_record_many

from . import channels, selectors
from .models import ROBOT_KINDS, Channel, Delivery, Kind, Notification, Preference, Robot

log = logging.getLogger(__name__)

DELIVER_TASK = "notices.deliver"
MAX_ATTEMPTS = 12  # then the delivery is marked failed (and stays listed with its last error)


def backoff(attempts: int) -> timedelta:
    base = getattr(settings, "NOTICES_RETRY_BASE_SECONDS", 30)
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 3600))


@transaction.atomic
def notify(*, event_key: str, kind: str, district_id: int, text: str, users=(), school_id: int | None = None,
           link: str = "", title: str = "") -> int:
    """Tell `users` (in-app, and by e-mail where they want it) and the group robots of the school
    and district that carry this kind, about one event. The text names schools and reports, never a
    child. Idempotent per event_key: notifying the same event again adds nothing. Sending is a
    Celery task through the outbox, after commit. Returns how many people were told in-app."""
    if kind not in Kind.values:
        raise ValueError(f"unknown notice kind {kind!r}")
    if not event_key:
        raise ValueError("a notice needs an event key")
    text = text.strip()[:300]
    title = (title or str(Kind(kind).label))[:120]
    link = link if link.startswith("/") else ""
    people = list({u.pk: u for u in users if u is not None and u.is_active}.values())
    written = Notification.objects.bulk_create(
        [Notification(district_id=district_id, user=u, kind=kind, event_key=event_key, text=text, link=link)
         for u in people], ignore_conflicts=True)
    common = {"district_id": district_id, "event_key": event_key, "kind": kind, "title": title, "text": text,
              "link": link}
    deliveries = [Delivery(channel=Channel.EMAIL, target=f"user:{u.pk}", user=u, **common)
                  for u in selectors.email_wanted(people, kind)]
    if kind in ROBOT_KINDS:
        deliveries += [Delivery(channel=r.channel, target=f"robot:{r.pk}", robot=r, **common)
                       for r in selectors.robots_for_event(district_id=district_id, school_id=school_id, kind=kind)]
    if deliveries:
        Delivery.objects.bulk_create(deliveries, ignore_conflicts=True)
        job_enqueue(DELIVER_TASK, district_id, event_key)
    return len(written)


def deliveries_send(*, event_key: str, now: datetime | None = None) -> tuple[int, int]:
    """Send the event's pending deliveries (in the caller's scope). A delivery is locked while it
    is sent (SKIP LOCKED: a second worker passes it by) and marked sent only once the channel took
    it, so it is sent once. A failure leaves it pending with its error and attempt count. Returns
    (sent, still pending)."""
    now = now or timezone.now()
    sent = pending = 0
    ids = list(Delivery.objects.filter(event_key=event_key, status=Delivery.Status.PENDING)
               .order_by("id").values_list("id", flat=True))
    for delivery_id in ids:
        with transaction.atomic():
            d = (Delivery.objects.select_for_update(skip_locked=True, of=("self",))
                 .filter(pk=delivery_id, status=Delivery.Status.PENDING).select_related("user", "robot").first())
            if d is None:
                continue
            d.attempts += 1
            try:
                _send(d)
            except channels.DeliveryError as exc:
                d.last_error = str(exc)[:300]
                d.next_attempt_at = now + backoff(d.attempts)
                if d.attempts >= MAX_ATTEMPTS:
                    d.status = Delivery.Status.FAILED
                else:
                    pending += 1
                log.warning("notice delivery %s (%s) failed, attempt %d: %s", d.pk, d.channel, d.attempts,
                            d.last_error)
            else:
                d.status, d.sent_at, d.last_error = Delivery.Status.SENT, timezone.now(), ""
                sent += 1
            d.save(update_fields=["attempts", "status", "sent_at", "last_error", "next_attempt_at"])
    return sent, pending


def _send(d: Delivery) -> None:
    if d.channel == Channel.EMAIL:
        if d.user is None or not d.user.email:
            raise channels.DeliveryError("the user has no e-mail address")
        channels.send_email(d.user.email, d.title, d.text, d.link)
        return
    robot = d.robot
    if robot is None:
        raise channels.DeliveryError("the robot was removed")
    title, body = channels.markdown(d.title, d.text, d.link, keyword=robot.keyword, link_label=_("Open in the platform"))
    if robot.channel == Channel.DINGTALK:
        channels.post_robot(channels.dingtalk_url(robot.webhook_url, robot.secret), channels.dingtalk_payload(title, body))
    else:
        channels.post_robot(robot.webhook_url, channels.wecom_payload(body))


def deliveries_due(*, now: datetime | None = None) -> list[tuple[int, str]]:
    """(district id, event key) of the pending deliveries whose next attempt is due (the beat
    job's safety net under the task's own retries), in the caller's scope."""
    now = now or timezone.now()
    rows = (Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
            .values_list("district_id", "event_key").distinct())
    return sorted(set(rows))


def deliveries_requeue(*, events) -> int:
    with transaction.atomic():
        for district_id, event_key in events:
            job_enqueue(DELIVER_TASK, district_id, event_key)
    return len(events)


# ---------------------------------------------------------------- the user's side
def notification_mark_read(*, user, notification_ids) -> int:
    return Notification.objects.filter(user=user, id__in=list(notification_ids), is_read=False).update(
        is_read=True, read_at=timezone.now())


@transaction.atomic
def email_choices_save(*, user, choices: dict[str, bool]) -> None:
    """The user's e-mail choice per kind (in-app is always on). Personal settings, no school's data."""
    unknown = set(choices) - set(Kind.values)
    if unknown:
        raise ValidationError(_("Unknown kind of notice."))
    for kind, enabled in choices.items():
        Preference.objects.update_or_create(user=user, kind=kind, channel=Channel.EMAIL,
                                            defaults={"enabled": bool(enabled)})


# ---------------------------------------------------------------- group robots
def _robot_hosts(channel: str) -> list[str]:
    default = {Channel.DINGTALK.value: ["https://oapi.dingtalk.com"],
               Channel.WECOM.value: ["https://qyapi.weixin.qq.com"]}
    return getattr(settings, "NOTICES_ROBOT_ORIGINS", default).get(channel, [])


def _validate_robot(*, channel: str, webhook_url: str, secret: str, keyword: str, kinds, name: str) -> None:
    errors = {}
    if channel not in (Channel.DINGTALK, Channel.WECOM):
        errors["channel"] = _("Choose DingTalk or WeCom.")
    else:
        # Only the robot service's own address: the platform must not post to anywhere an admin types.
        parts = urlsplit(webhook_url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in _robot_hosts(channel) or not parts.query:
            errors["webhook_url"] = _("Paste the robot's webhook address as the group settings show it.")
        if channel == Channel.WECOM and secret:
            errors["secret"] = _("WeCom robots have no signing secret; leave it empty.")
    if not name.strip():
        errors["name"] = _("Give the robot a name.")
    if not kinds or set(kinds) - {k.value for k in ROBOT_KINDS}:
        errors["kinds"] = _("Choose what the robot should post.")
    if errors:
        raise ValidationError(errors)


def _place_allowed(user, district_id: int, school_id: int | None) -> bool:
    return any(d.pk == district_id and (s.pk if s else None) == school_id
               for d, s in selectors.robot_places(user=user))


def _log_robot(actor, robot: Robot, action: str) -> None:
    if robot.school_id:
        access_log_record(user=actor, school_id=robot.school_id, action=action, obj=robot)
    else:
        ids = list(School.objects.filter(district_id=robot.district_id).values_list("id", flat=True))
        access_log_record_many(user=actor, school_ids=ids, action=action, object_type=robot._meta.label_lower,
                               object_id=robot.pk)


@transaction.atomic
def robot_create(*, actor, district_id: int, school_id: int | None, channel: str, name: str, webhook_url: str,
                 secret: str = "", keyword: str = "", kinds=()) -> Robot:
    if not _place_allowed(actor, district_id, school_id):
        raise PermissionDenied(_("You cannot set up robots here."))
    webhook_url, secret, keyword, kinds = webhook_url.strip(), secret.strip(), keyword.strip(), list(kinds)
    _validate_robot(channel=channel, webhook_url=webhook_url, secret=secret, keyword=keyword, kinds=kinds, name=name)
    robot = Robot.objects.create(district_id=district_id, school_id=school_id, channel=channel, name=name.strip(),
                                 webhook_url=webhook_url, secret=secret, keyword=keyword, kinds=kinds,
                                 created_by=actor)
    _log_robot(actor, robot, "create")
    return robot


@transaction.atomic
def robot_delete(*, actor, robot: Robot) -> None:
    if not _place_allowed(actor, robot.district_id, robot.school_id):
        raise PermissionDenied(_("You cannot remove this robot."))
    _log_robot(actor, robot, "delete")
    robot.delete()
