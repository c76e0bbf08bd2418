"""Evidence files (photos and documents) and the flags of a photo used again."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from tenancy.models import SchoolOwnedModel


# ---------------------------------------------------------------- evidence
def evidence_folder(school_id: int) -> str:
    """Where a school's evidence files live (a download refuses a stored name outside it)."""
    return f"evidence/{school_id}"


class Evidence(SchoolOwnedModel):
    """One uploaded photo or document, written only by services.evidence_upload.

    Files live under evidence/<school_id>/<sha256>… (deterministic, so a retried upload reuses the
    same file). An item is attached to at most one record; a rule document version points at its
    document from the other side.
    """

    class Kind(models.TextChoices):
        PHOTO = "photo", _("photo")
        DOCUMENT = "document", _("document")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    file = models.FileField(_("file"), max_length=255)
    thumbnail = models.FileField(_("thumbnail"), max_length=255, blank=True)
    sha256 = models.CharField(max_length=64)
    phash = models.CharField(_("perceptual hash"), max_length=64, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField(_("size in bytes"))
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("uploaded by"))
    created_at = models.DateTimeField(auto_now_add=True)
    activity = models.ForeignKey("Activity", on_delete=models.CASCADE, null=True, blank=True,
                                 related_name="evidence")
    training_meeting = models.ForeignKey("TrainingMeeting", on_delete=models.CASCADE, null=True, blank=True,
                                         related_name="evidence")
    care_contact = models.ForeignKey("CareContact", on_delete=models.CASCADE, null=True, blank=True,
                                     related_name="evidence")

    objects = ScopedManager(school="school")

    ATTACHMENTS = ("activity", "training_meeting", "care_contact")

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(activity__isnull=True, training_meeting__isnull=True)
                    | Q(activity__isnull=True, care_contact__isnull=True)
                    | Q(training_meeting__isnull=True, care_contact__isnull=True)
                ),
                name="evidence_attached_to_at_most_one",
            ),
        ]
        indexes = [
            models.Index(fields=["school", "sha256"], name="evidence_school_sha"),
            models.Index(fields=["school", "activity", "kind"], name="evidence_school_activity"),
            models.Index(fields=["school", "training_meeting"], name="evidence_school_meeting"),
            models.Index(fields=["school", "care_contact"], name="evidence_school_contact"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.sha256[:12]}"

    @property
    def attached_to(self):
        for name in self.ATTACHMENTS:
            if getattr(self, f"{name}_id"):
                return getattr(self, name)
        return None


class ReusedEvidenceFlag(SchoolOwnedModel):
    """The same (or a near-identical) file was already used elsewhere: by another record of the
    same school, or by another school of the district. Owned by the uploading school, so the
    bureau (whose scope is the whole district) sees it. The match in another school is named by
    ids only (no FK): a foreign key would make deleting the other school's row depend on rows
    that school cannot see under row-level security.
    """

    class Reason(models.TextChoices):
        SAME_FILE = "sha256", _("identical file")
        SIMILAR_PHOTO = "phash", _("near-identical photo")

    evidence = models.ForeignKey(Evidence, on_delete=models.CASCADE, related_name="reuse_flags")
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    distance = models.PositiveSmallIntegerField(_("hash distance"), default=0)
    matched_school = models.ForeignKey("tenancy.School", on_delete=models.CASCADE, related_name="+",
                                       verbose_name=_("school of the earlier use"))
    matched_evidence_id = models.BigIntegerField()
    matched_object_type = models.CharField(max_length=64, blank=True)
    matched_object_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(school="school")

    class Meta:
        verbose_name = _("reused evidence flag")
        verbose_name_plural = _("reused evidence flags")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["evidence", "matched_evidence_id"], name="reuse_flag_unique_pair"),
        ]
        indexes = [models.Index(fields=["school", "-created_at"], name="reuseflag_school_at")]

    @property
    def cross_school(self) -> bool:
        return self.matched_school_id != self.school_id
