"""Forms of the audit pages: build a pack, record a breach, record a notice to guardians."""
from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenancy.forms import ClientIdMixin

from .models import BreachNotice

DATE = forms.DateInput(attrs={"type": "date"})


class PackForm(ClientIdMixin, forms.Form):
    year = forms.TypedChoiceField(label=_("Year"), coerce=int)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        this = timezone.localdate().year
        self.fields["year"].choices = [(y, str(y)) for y in range(this, this - 6, -1)]
        self.fields["year"].initial = this - 1 if timezone.localdate().month <= 3 else this


class BreachForm(ClientIdMixin, forms.Form):
    occurred_on = forms.DateField(label=_("Happened on"), widget=DATE)
    discovered_on = forms.DateField(label=_("Discovered on"), widget=DATE)
    data_involved = forms.CharField(label=_("Data involved"), max_length=300,
                                    help_text=_("Kinds of data, e.g. guardians' phone numbers. Do not name any child."))
    children_affected = forms.IntegerField(label=_("Children affected"), min_value=0, max_value=100000)
    description = forms.CharField(label=_("What happened"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    measures = forms.CharField(label=_("Measures taken"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, schools=None, **kwargs):
        super().__init__(*args, **kwargs)
        if schools is not None:  # a district breach names the affected schools
            self.fields["affected_schools"] = forms.TypedMultipleChoiceField(
                label=_("Affected schools"), coerce=int, choices=[(s.pk, s.name) for s in schools],
                widget=forms.CheckboxSelectMultiple)


class NoticeForm(ClientIdMixin, forms.Form):
    method = forms.ChoiceField(label=_("How the guardians were told"), choices=BreachNotice.Method.choices)
    sent_on = forms.DateField(label=_("Sent on"), widget=DATE)
    guardians_notified = forms.IntegerField(label=_("Guardians notified"), min_value=1, max_value=100000)
    text = forms.CharField(label=_("Text of the notice"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4}))
