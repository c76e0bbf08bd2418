"""Page input of the minors'-data paperwork; messages shown to users."""
from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenancy.dates import past_date
from tenancy.forms import ClientIdMixin

from .models import ConsentRecord, GuardianRequest

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
METHODS = ["纸质签字", "当面口头", "电话", "微信", "家长会签字"]


class ConsentRecordForm(ClientIdMixin, forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=ConsentRecord.Decision.choices,
                                 widget=forms.RadioSelect)
    guardian_name = forms.CharField(label=_("Guardian"), max_length=64)
    guardian_relation = forms.CharField(label=_("Guardian's relation"), max_length=32, required=False)
    method = forms.CharField(label=_("How it was given"), max_length=100,
                             help_text=_("e.g. signed paper, in person, phone, WeChat"),
                             widget=forms.TextInput(attrs={"list": "consent-methods"}))
    decided_on = forms.DateField(label=_("Date of the decision"), widget=DATE_WIDGET, initial=timezone.localdate,
                                 validators=[past_date])
    limits = forms.CharField(label=_("What the refusal limits"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=_("Left empty, the fields the archive no longer keeps are listed."))
    confirm = forms.BooleanField(label=_("For a refusal or withdrawal: I understand that the sensitive fields are "
                                         "deleted now."), required=False)

    def clean(self):
        data = super().clean()
        if data.get("decision") in (ConsentRecord.Decision.REFUSED, ConsentRecord.Decision.WITHDRAWN) \
                and not data.get("confirm"):
            self.add_error("confirm", _("Tick the confirmation to record a refusal."))
        return data

    def service_fields(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "confirm"}


class GuardianRequestForm(ClientIdMixin, forms.Form):
    child = forms.TypedChoiceField(label=_("Child"), coerce=int)
    kind = forms.ChoiceField(label=_("Request"), choices=GuardianRequest.Kind.choices, widget=forms.RadioSelect)
    requester_name = forms.CharField(label=_("Requested by"), max_length=64)
    requester_relation = forms.CharField(label=_("Relation to the child"), max_length=32, required=False)
    received_on = forms.DateField(label=_("Received on"), widget=DATE_WIDGET, initial=timezone.localdate,
                                  validators=[past_date])
    due_on = forms.DateField(label=_("Due on"), widget=DATE_WIDGET, required=False,
                             help_text=_("Left empty: the legal time limit after the day it was received."))

    def __init__(self, *args, children=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["child"].choices = [("", "—")] + [(c.pk, f"{c.name}（{c.class_name}）") for c in children]


class CloseForm(forms.Form):
    status = forms.ChoiceField(label=_("Result"), widget=forms.RadioSelect, choices=[
        (GuardianRequest.Status.DONE, _("done")), (GuardianRequest.Status.REFUSED, _("refused"))])
    outcome = forms.CharField(label=_("Outcome"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class DeleteConfirmForm(forms.Form):
    outcome = forms.CharField(label=_("Outcome"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
                              initial=_("The child's personal data was deleted at the guardian's request."))
    confirm = forms.BooleanField(label=_("I understand that the child's personal data is deleted now and cannot be "
                                         "restored."))


class DataOfficerForm(forms.Form):
    user = forms.TypedChoiceField(label=_("Staff member"), coerce=int, required=False, empty_value=None)
    name = forms.CharField(label=_("Or a name"), max_length=64, required=False,
                           help_text=_("For someone without an account on the platform."))
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    appointed_on = forms.DateField(label=_("Appointed on"), widget=DATE_WIDGET, initial=timezone.localdate,
                                   validators=[past_date])

    def __init__(self, *args, staff=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [("", "—")] + [(u.pk, str(u)) for u in staff]
