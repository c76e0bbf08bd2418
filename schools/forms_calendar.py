"""The form of the district's calendar page (validation only; services.semester_* do the writes)."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tenancy.dates import sane_date

DATE = {"widget": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}


class SemesterForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=64, help_text=_("For example 2026 春季学期"))
    start = forms.DateField(label=_("First day"), validators=[sane_date], **DATE)
    end = forms.DateField(label=_("Last day"), validators=[sane_date], **DATE)

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            self.add_error("end", _("The last day must come after the first day."))
        return data
