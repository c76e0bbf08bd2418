"""Notices: the in-app inbox, each user's channel choices, the group robots, and one delivery row
per (event, channel, recipient) so an event is never sent twice.

Texts name schools and reports, never a child (services.notify refuses to be given one).
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tenancy.models import District, DistrictOwnedModel, School


class Kind(models.TextChoices):
    SUBMISSION_RETURNED = "submission_returned", _("A submission was returned")
    SUBMISSION_ACCEPTED = "submission_accepted", _("A submission was accepted")
    SUBMISSION_UNLOCKED = "submission_unlocked", _("A submission was unlocked")
    DUE_SOON = "due_soon", _("A report is due soon")
    OVERDUE = "overdue", _("A report is overdue")
    COMPILE_FAILED = "compile_failed", _("A compile failed")
    COMPILE_DONE = "compile_done", _("A compile is ready")
    EXPORT_READY = "export_ready", _("An export is ready")
    FLAG_RAISED = "flag_raised", _("A flag concerns the school")
    UNLOCK_REQUESTED = "unlock_requested", _("A school asked for an unlock")
    UNLOCK_REFUSED = "unlock_refused", _("An unlock request was refused")
    ROLE_GRANTED = "role_granted", _("A role was granted")
    ROLE_REVOKED = "role_revoked", _("A role was revoked")
    # The approval route along the org tree (village school → centre school → bureau).
    TO_APPROVE = "to_approve", _("A village school's report waits for the centre school")
    CENTRE_APPROVED = "centre_approved", _("A centre school approved a report")
    APPROVAL_WITHDRAWN = "approval_withdrawn", _("A centre school withdrew its approval")
    BREACH_RECORDED = "breach_recorded", _("A data breach was recorded")


# Kinds about a school's reporting, which a school's or district's group robot may carry. The
# others concern one person (their role, their own export) and go to that person only.
ROBOT_KINDS = (Kind.SUBMISSION_RETURNED, Kind.SUBMISSION_ACCEPTED, Kind.SUBMISSION_UNLOCKED, Kind.DUE_SOON,
               Kind.OVERDUE, Kind.COMPILE_FAILED, Kind.FLAG_RAISED, Kind.UNLOCK_REQUESTED, Kind.UNLOCK_REFUSED,
               Kind.TO_APPROVE, Kind.CENTRE_APPROVED, Kind.APPROVAL_WITHDRAWN)


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    DINGTALK = "dingtalk", _("DingTalk group robot")
    WECOM = "wecom", _("WeCom group robot")


class Notification(DistrictOwnedModel):
    """An in-app notice for one user, in the district whose business it is about: another
    district's scope never reaches it; within the district the selector shows each user their own."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="notifications",
                                 verbose_name=_("district"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices, blank=True, default="")
    event_key = models.CharField(max_length=120, blank=True, default="")
    text = models.CharField(_("text"), max_length=300)
    link = models.CharField(_("link"), max_length=300, blank=True)
    is_read = models.BooleanField(_("read"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "is_read", "-created_at"], name="notification_inbox")]
        constraints = [
            models.UniqueConstraint(fields=["event_key", "user"], condition=~Q(event_key=""),
                                    name="notification_once_per_event"),
        ]


class Preference(models.Model):
    """A user's choice for one kind on one channel (in-app is always on). No row: the default
    (NOTICES_EMAIL_DEFAULT). Personal, not tenant data: it names no school."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notice_preferences")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    channel = models.CharField(max_length=12, choices=[(Channel.EMAIL.value, Channel.EMAIL.label)])
    enabled = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind", "channel"], name="notice_preference_once")]


class Robot(DistrictOwnedModel):
    """A DingTalk or WeCom group robot of a school (school set) or of the whole district (school
    empty), set up by that school's or district's admin. It carries the ROBOT_KINDS it is set to."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="notice_robots",
                                 verbose_name=_("district"))
    school = models.ForeignKey(School, on_delete=models.CASCADE, null=True, blank=True, related_name="notice_robots",
                               verbose_name=_("school"))
    channel = models.CharField(_("type"), max_length=12,
                               choices=[(Channel.DINGTALK.value, Channel.DINGTALK.label),
                                        (Channel.WECOM.value, Channel.WECOM.label)])
    name = models.CharField(_("name"), max_length=60)
    webhook_url = models.CharField(_("webhook URL"), max_length=500)
    # DingTalk "加签" secret (SEC…); empty when the robot's security setting is a keyword.
    secret = models.CharField(_("signing secret"), max_length=200, blank=True)
    keyword = models.CharField(_("keyword"), max_length=30, blank=True)
    kinds = models.JSONField(default=list)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("group robot")
        verbose_name_plural = _("group robots")
        ordering = ["school_id", "id"]

    def masked_secret(self) -> str:
        return f"••••{self.secret[-4:]}" if self.secret else ""

    def masked_url(self) -> str:
        # The webhook's token is a credential too: show where it goes, not the token.
        head, sep, _tail = self.webhook_url.partition("?")
        return f"{head}?••••" if sep else head


class Delivery(DistrictOwnedModel):
    """One message of one event to one recipient on one channel (an e-mail to a user, a post to a
    robot). Unique per (event, channel, target): notifying the same event again adds nothing.
    Pending until the channel accepted it; a refusal or an outage leaves it pending for a retry."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+", verbose_name=_("district"))
    event_key = models.CharField(max_length=120)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    channel = models.CharField(max_length=12, choices=Channel.choices)
    target = models.CharField(max_length=40)  # "user:<id>" or "robot:<id>"
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    robot = models.ForeignKey(Robot, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries")
    title = models.CharField(max_length=120)
    text = models.TextField()
    link = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event_key", "channel", "target"], name="delivery_once_per_event"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]
