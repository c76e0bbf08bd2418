"""Forms of the submissions pages. They only shape input; the services decide what is allowed."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tenancy.dates import sane_date
from tenancy.forms import ClientIdMixin

from .models import ApprovalRoute
from .narrative import MAX_SECTION_CHARS, SECTIONS


class NarrativeForm(forms.Form):
    """One text area per section of the work summary (introduction, 一 … 七, closing)."""

    # The narrative version the edit started from: a save over someone else's newer save is refused.
    version = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def __init__(self, *args, sections: dict | None = None, version: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].initial = version
        sections = sections or {}
        for key, title in SECTIONS:
            self.fields[key] = forms.CharField(
                label=title, required=False, max_length=MAX_SECTION_CHARS, initial=sections.get(key, ""),
                widget=forms.Textarea(attrs={"rows": 6, "class": "narrative-text"}),
                # Keep the school's own line breaks and spacing; the service trims the ends.
                strip=False,
            )

    def sections(self) -> dict:
        return {key: self.cleaned_data.get(key, "") for key, _title in SECTIONS}


class AcceptForm(forms.Form):
    comment = forms.CharField(label=_("Comment (optional)"), required=False, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 2}))


class ReturnForm(forms.Form):
    comment = forms.CharField(label=_("What the school needs to change"), max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 3}),
                              error_messages={"required": _("Say what the school needs to change.")})


class SubmitForm(forms.Form):
    note = forms.CharField(label=_("Why nothing needed to change"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=_("The bureau returned this report and it is being sent back unchanged: "
                                       "tell the bureau why."))


class UnlockRequestForm(forms.Form):
    reason = forms.CharField(label=_("Why is the report late?"), max_length=1000,
                             widget=forms.Textarea(attrs={"rows": 3}),
                             error_messages={"required": _("Say why the report is late, so the bureau can decide.")})


class UnlockForm(forms.Form):
    until = forms.DateField(label=_("Unlocked until"), required=False, validators=[sane_date],
                            widget=forms.DateInput(attrs={"type": "date"}),
                            help_text=_("Leave empty for the default of a week."))
    comment = forms.CharField(label=_("Comment (optional)"), required=False, max_length=2000)


class BulkDecisionForm(ClientIdMixin, forms.Form):
    """The centre school's bulk approve / return: the confirm page's POST carries the client_id, so
    a double tap decides once (one ApprovalBatch)."""

    action = forms.ChoiceField(choices=[("approve", _("approve")), ("return", _("return"))])
    comment = forms.CharField(required=False, max_length=2000)


class RouteForm(forms.Form):
    """A report type's approval route, as the bureau names the two ways on the page."""

    route = forms.ChoiceField(
        label=_("Approval route"), widget=forms.RadioSelect,
        choices=[(ApprovalRoute.DIRECT, _("Straight to the bureau")),
                 (ApprovalRoute.VIA_CENTRE, _("Through the centre school"))],
        error_messages={"required": _("Choose an approval route."),
                        "invalid_choice": _("Choose one of the two approval routes.")},
    )
