"""Forms of the home pages (site, rules, activities, proxy parents, study support).

They only validate input and offer choices limited to what the user may pick; the services do the
writes and the permission checks (schools/services.py).
"""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tenancy.dates import sane_date
from tenancy.forms import ClientIdMixin
from tenancy.models import Membership, User
from tenancy.roles import Role

from .models import Activity, Equipment, RuleKind

DATE = {"widget": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}


def _date(label, required=True):
    return forms.DateField(label=label, required=required, validators=[sane_date], **DATE)


def _text(label, required=False, rows=3):
    return forms.CharField(label=label, required=required, widget=forms.Textarea(attrs={"rows": rows}))


def staff_users(school, roles=None):
    """Users holding a role on the school (optionally only some roles)."""
    qs = Membership.objects.filter(school=school)
    if roles:
        qs = qs.filter(role__in=roles)
    return User.objects.filter(id__in=qs.values("user_id")).order_by("username")


class _ChildChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.class_name} · {obj.name}"


class _UserChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or str(obj)


class _UsersChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or str(obj)


# ---------------------------------------------------------------- the home
class SiteForm(forms.Form):
    room = forms.CharField(label=_("Room"), max_length=100)
    opened_on = _date(_("Opened on"))
    area_m2 = forms.DecimalField(label=_("Area (m²)"), max_digits=7, decimal_places=1, min_value=0.1)
    opening_hours = forms.CharField(label=_("Opening hours"), max_length=200, required=False)
    notes = _text(_("Notes"))


class EquipmentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Equipment.Kind.choices)
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1)
    acquired_on = _date(_("Date"))


class LeadershipForm(forms.Form):
    person_name = forms.CharField(label=_("Name"), max_length=64, required=False,
                                  help_text=_("Or choose a staff member below."))
    user = _UserChoice(queryset=User.objects.none(), label=_("Staff member"), required=False)
    title = forms.CharField(label=_("Title"), max_length=64)
    is_leader = forms.BooleanField(label=_("Group leader"), required=False)
    order = forms.IntegerField(label=_("Order"), min_value=0, initial=0, required=False)

    def __init__(self, *args, school, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = staff_users(school)

    def clean(self):
        data = super().clean()
        if not data.get("person_name") and not data.get("user"):
            raise forms.ValidationError(_("Give a name or choose a staff member."))
        data["order"] = data.get("order") or 0
        return data


class RuleVersionForm(ClientIdMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Rule document"), choices=RuleKind.choices)
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    adopted_on = _date(_("Adopted on"))
    uploaded_file = forms.FileField(
        label=_("Document (PDF, Word .docx or Excel .xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.docx,.xlsx"}))


# ---------------------------------------------------------------- activities
class ActivityForm(ClientIdMixin, forms.Form):
    date = _date(_("Date"))
    kind = forms.ChoiceField(label=_("Kind"), choices=Activity.Kind.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    description = _text(_("Description"), rows=2)
    text_record = _text(_("Text record"), rows=5)
    participants = forms.ModelMultipleChoiceField(queryset=None, required=False, label=_("Participants"),
                                                  widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, children, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["participants"].queryset = children
        self.children = children

    def placings(self, data) -> dict[int, tuple[int | None, str]]:
        """Placings of competition participants, from `placing_<child id>` / `award_<child id>`."""
        out = {}
        for child in self.cleaned_data.get("participants") or []:
            raw = (data.get(f"placing_{child.pk}") or "").strip()
            label = (data.get(f"award_{child.pk}") or "").strip()[:32]
            placing = int(raw) if raw.isdigit() and int(raw) > 0 else None
            out[child.pk] = (placing, label)
        return out

    def clean(self):
        data = super().clean()
        if data.get("kind") != Activity.Kind.COMPETITION:
            return data
        for key, value in self.data.items():
            if key.startswith("placing_") and value.strip() and not value.strip().isdigit():
                raise forms.ValidationError(_("A placing is a whole number (1 = first place)."))
        return data


class ThemeForm(forms.Form):
    def __init__(self, *args, themes: dict, **kwargs):
        super().__init__(*args, **kwargs)
        names = [_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday")]
        for day, name in enumerate(names, start=1):
            self.fields[f"weekday_{day}"] = forms.CharField(label=name, max_length=100, required=False,
                                                            initial=themes.get(day, ""))


# ---------------------------------------------------------------- proxy parents
class ProxyFlagForm(forms.Form):
    user = _UserChoice(queryset=User.objects.none(), label=_("Staff member"))
    is_proxy_parent = forms.BooleanField(label=_("Proxy parent"), required=False)
    title = forms.CharField(label=_("Title"), max_length=64, required=False)

    def __init__(self, *args, school, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = staff_users(school, [Role.SCHOOL_ADMIN, Role.TEACHER, Role.CLERK])


class AssignmentForm(forms.Form):
    child = _ChildChoice(queryset=None, label=_("Child"))
    proxy_parent = _UserChoice(queryset=User.objects.none(), label=_("Proxy parent"))
    starts_on = _date(_("From"))

    def __init__(self, *args, school, children, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["child"].queryset = children
        self.fields["proxy_parent"].queryset = staff_users(school, [Role.TEACHER, Role.SCHOOL_ADMIN])


class AssignmentEndForm(forms.Form):
    ends_on = _date(_("To"))


class _DatesForm(forms.Form):
    """Correcting a record's dates: an empty "to" means it is still running."""

    starts_on = _date(_("From"))
    ends_on = _date(_("To"), required=False)

    def clean(self):
        data = super().clean()
        start, end = data.get("starts_on"), data.get("ends_on")
        if start and end and end < start:
            self.add_error("ends_on", _("The end cannot be before the start."))
        return data


class AssignmentEditForm(_DatesForm):
    pass


class StudyPairEditForm(_DatesForm):
    subject = forms.CharField(label=_("Subject"), max_length=32, required=False)


class MeetingForm(ClientIdMixin, forms.Form):
    date = _date(_("Date"))
    topic = forms.CharField(label=_("Topic"), max_length=200)
    attendees = _UsersChoice(queryset=User.objects.none(), label=_("Attendees"), required=False,
                             widget=forms.CheckboxSelectMultiple)
    minutes = _text(_("Minutes"), rows=5)

    def __init__(self, *args, school, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attendees"].queryset = staff_users(school)


class WorkRecordForm(ClientIdMixin, forms.Form):
    date = _date(_("Date"))
    child = _ChildChoice(queryset=None, label=_("About child"), required=False,
                         help_text=_("Optional; only children assigned to you."))
    text = _text(_("Entry"), required=True, rows=4)

    def __init__(self, *args, children, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["child"].queryset = children


class StudyPairForm(forms.Form):
    teacher = _UserChoice(queryset=User.objects.none(), label=_("Teacher"))
    child = _ChildChoice(queryset=None, label=_("Child"))
    starts_on = _date(_("From"))
    subject = forms.CharField(label=_("Subject"), max_length=32, required=False)

    def __init__(self, *args, school, children, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["teacher"].queryset = staff_users(school, [Role.TEACHER, Role.SCHOOL_ADMIN])
        self.fields["child"].queryset = children


class TutoringForm(ClientIdMixin, forms.Form):
    date = _date(_("Date"))
    minutes = forms.IntegerField(label=_("Minutes"), min_value=1, max_value=600)
    notes = _text(_("Notes"))
