"""Forms of the archive pages (dashboard, tracker, children, import). Validation of shape only:
the rules (consent, ID numbers, dates inside a semester) live in schools.services."""
from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tenancy.dates import past_date, sane_date
from tenancy.forms import ClientIdMixin

from .models import CareContact, Child
from .phones import NotAPhone, normalise_phone

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class TrackerFilterForm(forms.Form):
    semester = forms.TypedChoiceField(label=_("Semester"), coerce=int, required=False)
    class_name = forms.ChoiceField(label=_("Class"), required=False)
    proxy = forms.TypedChoiceField(label=_("Proxy parent"), coerce=int, required=False)

    def __init__(self, *args, semesters=(), classes=(), proxies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["semester"].choices = [(s.pk, s.name) for s in semesters]
        self.fields["class_name"].choices = [("", _("All classes"))] + [(c, c) for c in classes]
        self.fields["proxy"].choices = [("", _("All proxy parents"))] + [
            (u.pk, getattr(u, "display_name", "") or u.username) for u in proxies]


class ContactRecordForm(ClientIdMixin, forms.Form):
    """One tap on the tracker: `cell` is "<child id>:<kind>" (the button pressed)."""

    cell = forms.RegexField(regex=r"^\d+:[a-z_]+$")
    happened_on = forms.DateField(label=_("Date of the contact"), widget=DATE_WIDGET, validators=[sane_date])
    notes = forms.CharField(label=_("Notes"), required=False, max_length=2000)

    def clean_cell(self):
        child_id, kind = self.cleaned_data["cell"].split(":", 1)
        if kind not in CareContact.Kind.values:
            raise forms.ValidationError(_("Unknown kind of contact."))
        return int(child_id), kind


class ContactFilterForm(forms.Form):
    """Filters of the contacts list; choices are what the user may see (an unknown value is invalid)."""

    semester = forms.TypedChoiceField(label=_("Semester"), coerce=int, required=False, empty_value=None)
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    class_name = forms.ChoiceField(label=_("Class"), required=False)
    child = forms.TypedChoiceField(label=_("Child"), coerce=int, required=False, empty_value=None)
    made_by = forms.TypedChoiceField(label=_("Made by"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args, semesters=(), classes=(), children=(), makers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["semester"].choices = [("", _("All semesters"))] + [(s.pk, s.name) for s in semesters]
        self.fields["kind"].choices = [("", _("All kinds"))] + list(CareContact.Kind.choices)
        self.fields["class_name"].choices = [("", _("All classes"))] + [(c, c) for c in classes]
        self.fields["child"].choices = [("", _("All children"))] + list(children)
        self.fields["made_by"].choices = [("", _("Anyone"))] + [
            (u.pk, getattr(u, "display_name", "") or u.username) for u in makers]


class ContactForm(forms.Form):
    """Edit a contact (the child stays: a contact about the wrong child is deleted and recorded again)."""

    kind = forms.ChoiceField(label=_("Kind"), choices=CareContact.Kind.choices)
    happened_on = forms.DateField(label=_("Date of the contact"), widget=DATE_WIDGET, validators=[sane_date])
    notes = forms.CharField(label=_("Notes"), required=False, max_length=2000,
                            widget=forms.Textarea(attrs={"rows": 5}))
    # The teacher's 关注 flag (the reason is required with it: services.concern_values).
    concern = forms.BooleanField(label=_("This child needs attention"), required=False)
    concern_reason = forms.CharField(label=_("reason for attention"), required=False, max_length=200,
                                     widget=forms.TextInput(attrs={"placeholder": _("e.g. low mood, grades falling")}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["happened_on"].widget.attrs["max"] = timezone.localdate().isoformat()


class ChildFilterForm(forms.Form):
    q = forms.CharField(label=_("Search by name"), required=False, max_length=64)
    class_name = forms.ChoiceField(label=_("Class"), required=False)
    grade = forms.TypedChoiceField(label=_("Grade"), coerce=int, required=False,
                                   choices=[("", _("All grades"))] + [(g, str(g)) for g in range(1, 10)])
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("Any status"))] + list(Child.Status.choices))

    def __init__(self, *args, classes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["class_name"].choices = [("", _("All classes"))] + [(c, c) for c in classes]


class ChildForm(ClientIdMixin, forms.Form):
    """Create or edit a child. On edit an empty ID number keeps the stored one. `confirm_duplicate`
    is offered once the archive already has a child of the same name and birth date."""

    name = forms.CharField(label=pgettext_lazy("person", "name"), max_length=64)
    gender = forms.ChoiceField(label=_("gender"), choices=Child.Gender.choices)
    birth_date = forms.DateField(label=_("birth date"), required=False, widget=DATE_WIDGET, validators=[past_date])
    id_number = forms.CharField(label=_("ID number"), required=False, max_length=18,
                                widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}))
    grade = forms.IntegerField(label=_("grade"), min_value=1, max_value=9)
    class_name = forms.CharField(label=_("class"), max_length=32)
    left_behind_kind = forms.ChoiceField(label=_("left-behind situation"), choices=Child.LeftBehindKind.choices)
    parents_work_place = forms.CharField(label=_("where the parents work"), max_length=200, required=False)
    guardian_name = forms.CharField(label=_("guardian"), max_length=64, required=False)
    guardian_relation = forms.CharField(label=_("guardian's relation"), max_length=32, required=False)
    guardian_phone = forms.CharField(label=_("guardian's phone"), max_length=32, required=False,
                                     widget=forms.TextInput(attrs={"inputmode": "tel"}))
    second_contact_name = forms.CharField(label=_("second contact"), max_length=64, required=False)
    second_contact_phone = forms.CharField(label=_("second contact's phone"), max_length=32, required=False,
                                           widget=forms.TextInput(attrs={"inputmode": "tel"}))
    home_village = forms.CharField(label=_("home village"), max_length=100, required=False)
    health_notes = forms.CharField(label=_("health notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    wellbeing_notes = forms.CharField(label=_("wellbeing notes"), required=False,
                                      widget=forms.Textarea(attrs={"rows": 3}))
    consent_date = forms.DateField(label=_("consent date"), required=False, widget=DATE_WIDGET,
                                  validators=[past_date])
    consent_method = forms.CharField(label=_("consent method"), max_length=100, required=False)
    # The civil-affairs register's fields (民政登记信息); their cross-field rules are schools.register's.
    custody_type = forms.ChoiceField(label=_("custody type"), required=False,
                                     choices=[("", "—"), *Child.CustodyType.choices])
    guardianship_assessment = forms.ChoiceField(label=_("guardianship assessment"), required=False,
                                                choices=[("", "—"), *Child.Assessment.choices])
    guardian_since = forms.DateField(label=_("guardian since"), required=False, widget=DATE_WIDGET,
                                     validators=[past_date],
                                     help_text=_("Filled in with today when the guardian changes, unless you "
                                                 "give the day."))
    parents_last_contact_on = forms.DateField(label=_("parents last in touch on"), required=False,
                                              widget=DATE_WIDGET, validators=[past_date])
    income_source = forms.ChoiceField(label=_("family's main income"), required=False,
                                      choices=[("", "—"), *Child.IncomeSource.choices])
    assistance = forms.MultipleChoiceField(label=_("assistance received"), required=False,
                                           choices=Child.Assistance.choices,
                                           widget=forms.CheckboxSelectMultiple(attrs={"class": "check"}))
    health_status = forms.ChoiceField(label=_("health"), required=False, choices=[("", "—"), *Child.Health.choices])
    disability = forms.CharField(label=_("disability"), max_length=100, required=False)
    illness = forms.CharField(label=_("illness"), max_length=100, required=False)
    household_registration = forms.CharField(label=_("household registration"), max_length=100, required=False)

    def __init__(self, *args, editing: bool = False, refused: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not editing and self.data.get("confirm_duplicate"):
            self.offer_duplicate_confirmation()
        if editing:
            self.fields["id_number"].help_text = _("Leave empty to keep the stored ID number.")
        if refused:
            # After a refusal only the minimum is kept: do not even offer the other fields.
            from .services import REFUSAL_BLOCKED
            for name in REFUSAL_BLOCKED:
                self.fields.pop(name, None)

    def register_fields(self) -> list:
        """The bound fields of the 民政登记信息 section (in the register's order), shown apart."""
        from .register import REGISTER_FIELDS
        return [self[name] for name in ("custody_type", *REGISTER_FIELDS[1:]) if name in self.fields]

    def main_fields(self) -> list:
        from .register import REGISTER_FIELDS
        return [f for f in self.visible_fields() if f.name not in REGISTER_FIELDS]

    def _clean_phone(self, name: str) -> str:
        try:
            return normalise_phone(self.cleaned_data.get(name, ""))
        except NotAPhone as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_guardian_phone(self) -> str:
        return self._clean_phone("guardian_phone")

    def clean_second_contact_phone(self) -> str:
        return self._clean_phone("second_contact_phone")

    def offer_duplicate_confirmation(self) -> None:
        self.fields["confirm_duplicate"] = forms.BooleanField(
            label=_("This is another child with the same name and birth date: add it anyway"), required=False)

    def service_fields(self, *, editing: bool) -> dict:
        data = dict(self.cleaned_data)
        if editing:
            data.pop("confirm_duplicate", None)
            if not data.get("id_number"):
                data.pop("id_number", None)
        return data


class ChildStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=Child.Status.choices)
    since = forms.DateField(label=_("Since"), widget=DATE_WIDGET, initial=timezone.localdate, validators=[sane_date])
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class ConsentRefusalForm(forms.Form):
    on = forms.DateField(label=_("Date of the refusal"), widget=DATE_WIDGET, initial=timezone.localdate,
                         validators=[past_date])
    method = forms.CharField(label=_("How it was given"), max_length=100, required=False)
    confirm = forms.BooleanField(
        label=_("I understand that the sensitive fields are deleted now and cannot be stored again."))


class ImportUploadForm(forms.Form):
    file = forms.FileField(label=_("XLSX or CSV file"),
                           widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}))
