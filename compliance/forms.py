"""Web forms of the compliance UI. They parse input; the services validate the domain rules,
check permissions and write."""
from __future__ import annotations

import datetime as dt

from django import forms
from django.core.validators import MaxValueValidator
from django.utils.translation import gettext_lazy as _

from tenancy.dates import sane_date
from tenancy.models import School

from .models import ChecklistVersion

MAX_YAML_BYTES = 512 * 1024


class ChecklistUploadForm(forms.Form):
    file = forms.FileField(label=_("Checklist YAML file"),
                           help_text=_("Imported as the checklist's draft; nothing is saved if it has errors."))

    def clean_file(self):
        f = self.cleaned_data["file"]
        if f.size > MAX_YAML_BYTES:
            raise forms.ValidationError(_("The file is larger than 512 KB."))
        try:
            return f.read().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise forms.ValidationError(_("The file is not UTF-8 text.")) from exc


class AssessmentCreateForm(forms.Form):
    checklist_version = forms.ModelChoiceField(label=_("Checklist version"), queryset=ChecklistVersion.objects.none())
    title = forms.CharField(label=_("Title"), max_length=200)
    semester_label = forms.CharField(label=_("Semester"), max_length=64, help_text=_("For example 2026年春季学期"))
    semester_start = forms.DateField(label=_("Semester start"), widget=forms.DateInput(attrs={"type": "date"}),
                                     validators=[sane_date])
    semester_end = forms.DateField(label=_("Semester end"), widget=forms.DateInput(attrs={"type": "date"}),
                                   validators=[sane_date])
    root_school = forms.ModelChoiceField(
        label=_("Schools"), queryset=School.objects.none(), required=False,
        empty_label=_("The whole district"), help_text=_("Or a township centre school and its village schools."))

    def __init__(self, *args, versions, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["checklist_version"].queryset = versions
        self.fields["checklist_version"].label_from_instance = lambda v: f"{v.title_zh} v{v.number}"
        self.fields["root_school"].queryset = schools

    def clean(self):
        data = super().clean()
        start, end = data.get("semester_start"), data.get("semester_end")
        if start and end and end < start:
            self.add_error("semester_end", _("The semester cannot end before it starts."))
        return data


class ManualScoreForm(forms.Form):
    score = forms.DecimalField(label=_("Score"), min_value=0, max_digits=6, decimal_places=2, required=False,
                               help_text=_("Leave empty to withdraw the score."))
    comment = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 3}), required=False,
                              max_length=2000)
    evidence_ids = forms.CharField(label=_("Evidence ids"), required=False,
                                   help_text=_("Numbers separated by commas, e.g. 12, 15"))

    def __init__(self, *args, points=None, **kwargs):
        super().__init__(*args, **kwargs)
        if points is not None:
            self.fields["score"].max_value = points
            self.fields["score"].widget.attrs.update({"max": str(points), "step": "0.5"})
            self.fields["score"].validators.append(MaxValueValidator(points))
            self.fields["score"].help_text = _("From 0 to %(p)s. Leave empty to withdraw the score.") % {"p": points}

    def clean_evidence_ids(self):
        raw = self.cleaned_data["evidence_ids"].replace("，", ",")
        out = []
        for part in filter(None, (p.strip() for p in raw.split(","))):
            if not part.isdigit():
                raise forms.ValidationError(_("“%(v)s” is not an evidence id (a number).") % {"v": part})
            out.append(int(part))
        return out


WEEKDAYS = [
    ("1", _("Monday")), ("2", _("Tuesday")), ("3", _("Wednesday")), ("4", _("Thursday")), ("5", _("Friday")),
    ("6", _("Saturday")), ("0", _("Sunday")), ("*", _("Every day")),
]


class ExportScheduleForm(forms.Form):
    """A weekly (or daily) time, stored as a django-celery-beat crontab."""

    day_of_week = forms.ChoiceField(label=_("Day"), choices=WEEKDAYS, initial="1")
    at = forms.TimeField(label=_("Time"), initial=dt.time(7, 0), widget=forms.TimeInput(attrs={"type": "time"},
                                                                                        format="%H:%M"))
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)


class LockConfirmForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I understand that after locking nothing in this assessment can change."), required=True)


class DistrictSettingsForm(forms.Form):
    """The district's compliance settings on the checklists page (the bureau admin's)."""

    district = forms.IntegerField(widget=forms.HiddenInput)
    count_unapproved_submissions = forms.BooleanField(
        required=False, label=_("Count reports the centre school has not approved yet"),
        help_text=_("On: a village school's report counts as sent as soon as it is sent to its centre school. "
                    "Off: it counts only once the centre school has approved it."))
