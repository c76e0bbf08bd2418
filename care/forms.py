"""Page input of the care app; messages shown to users."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tenancy.forms import ClientIdMixin

from .models import Referral


class DateInput(forms.DateInput):
    input_type = "date"


class CaseOpenForm(ClientIdMixin, forms.Form):
    child = forms.TypedChoiceField(label=_("child"), coerce=int)
    note = forms.CharField(label=_("Why does the child need a follow-up?"), max_length=300, required=False,
                           widget=forms.Textarea(attrs={"rows": 3}))
    due_on = forms.DateField(label=_("Follow up by"), required=False, widget=DateInput,
                             help_text=_("Empty: in two weeks."))

    def __init__(self, *args, children=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["child"].choices = [(c.pk, f"{c.name} · {c.class_name}") for c in children]


class CaseActionForm(ClientIdMixin, forms.Form):
    text = forms.CharField(label=_("What was done"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    done_on = forms.DateField(label=_("date"), required=False, widget=DateInput)


class CaseCloseForm(forms.Form):
    close_reason = forms.CharField(label=_("Why is the case closed?"), max_length=300,
                                   widget=forms.Textarea(attrs={"rows": 3}))
    confirm = forms.BooleanField(label=_("I confirm: the case is closed and cannot be reopened."),
                                 error_messages={"required": _("Tick the confirmation to close the case.")})


class ReferralForm(ClientIdMixin, forms.Form):
    child = forms.TypedChoiceField(label=_("child"), coerce=int)
    to = forms.ChoiceField(label=_("referred to"), choices=Referral.To.choices)
    made_on = forms.DateField(label=_("date"), required=False, widget=DateInput)
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    is_mandatory_report = forms.BooleanField(label=_("Mandatory report of suspected harm"), required=False)
    shares_data = forms.BooleanField(label=_("The child's data is shared with the agency"), required=False)
    consent_recorded_on = forms.DateField(label=_("Guardian's consent recorded on"), required=False,
                                          widget=DateInput)
    consent_given_by = forms.CharField(label=_("Consent given by (guardian's name)"), max_length=64,
                                       required=False)
    legal_ground = forms.ChoiceField(label=_("or the legal ground"), required=False,
                                     choices=[("", "—"), *Referral.LegalGround.choices])

    def __init__(self, *args, children=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["child"].choices = [(c.pk, f"{c.name} · {c.class_name}") for c in children]


class ReferralAnswerForm(forms.Form):
    answer = forms.CharField(label=_("answer"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    answered_on = forms.DateField(label=_("answered on"), required=False, widget=DateInput)


class RulesUploadForm(forms.Form):
    file = forms.FileField(label=_("Rules file (YAML)"))

    def clean_file(self):
        f = self.cleaned_data["file"]
        if f.size > 64 * 1024:
            raise forms.ValidationError(_("The file is larger than 64 KB."))
        try:
            return f.read().decode("utf-8")
        except UnicodeDecodeError:
            raise forms.ValidationError(_("The file must be UTF-8 text.")) from None
