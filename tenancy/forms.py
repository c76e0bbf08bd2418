"""Web UI forms. They validate input; the services do the writes and the permission checks."""
from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import idempotency, services
from .dates import sane_date
from .models import AccessLog, User
from .roles import SCHOOL_ROLES, Role

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class ClientIdMixin:
    """A create form: a hidden `client_id` (a UUID made when the form is rendered) comes back with
    the POST, so the same submission sent twice (a double click, a retried request) is one create
    (tenancy.idempotency.form_create_once). It is taken out of cleaned_data into `client_key`, so
    the services never see it. List it before forms.Form."""

    fields: dict
    data: Any
    cleaned_data: dict

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client_id"] = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64,
                                                   initial=new_client_id)
        self.client_key: str | None = None

    def clean(self):
        data = super().clean()  # type: ignore[misc]
        try:
            self.client_key = idempotency.normalise_key(data.pop("client_id", None))
        except forms.ValidationError:
            self.client_key = None  # a mangled id makes this an ordinary create, not a refusal
        return data

    def renew_client_id(self) -> None:
        """Show a fresh id after a refusal that used the old one up."""
        if self.data is not None and hasattr(self.data, "copy"):
            self.data = self.data.copy()
            self.data["client_id"] = new_client_id()


def new_client_id() -> str:
    return str(uuid.uuid4())


def grantable_role_choices(actor, school) -> list[tuple[str, StrOrPromise]]:
    """Only the school roles the actor may grant on this school, in the roles' own order."""
    return [
        (value, label) for value, label in Role.choices
        if value in SCHOOL_ROLES and services.can_grant(actor, value, school=school)
    ]


class StaffAddForm(forms.Form):
    username = forms.CharField(
        label=_("Username"), max_length=150, validators=[UnicodeUsernameValidator()],
        help_text=_("Used to log in. Letters, digits and @/./+/-/_ only."),
    )
    display_name = forms.CharField(label=_("Name shown to others"), max_length=64)
    role = forms.ChoiceField(label=_("Role"))
    password = forms.CharField(
        label=_("Initial password"), strip=False, widget=forms.PasswordInput(render_value=False),
        help_text=_("Tell the staff member in person; they should change it after logging in."),
    )

    def __init__(self, *args, actor, school, **kwargs):
        super().__init__(*args, **kwargs)
        # No preselected role: a stray tap must not make someone a school admin.
        cast(forms.ChoiceField, self.fields["role"]).choices = [
            ("", _("Choose a role…")), *grantable_role_choices(actor, school)]


class RoleGrantForm(forms.Form):
    user = forms.ModelChoiceField(queryset=User.objects.none(), label=_("Staff member"))
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args, actor, school, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["user"]).queryset = (
            User.objects.filter(memberships__school=school).distinct())
        cast(forms.ChoiceField, self.fields["role"]).choices = grantable_role_choices(actor, school)


class AccessLogFilterForm(forms.Form):
    action = forms.ChoiceField(label=_("Action"), required=False)
    user = forms.ModelChoiceField(queryset=User.objects.none(), label=_("Who"), required=False,
                                  empty_label=_("Everyone"))
    date_from = forms.DateField(label=_("From"), required=False, validators=[sane_date],
                                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    date_to = forms.DateField(label=_("To"), required=False, validators=[sane_date],
                              widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(self, *args, users, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["action"]).choices = [("", _("All actions")), *AccessLog.Action.choices]
        cast(forms.ModelChoiceField, self.fields["user"]).queryset = users


def error_text(exc) -> str:
    """A refused write as one message line: a PermissionDenied's text (or a default), else the
    ValidationError's messages."""
    if isinstance(exc, PermissionDenied):
        return str(exc) or gettext("You are not allowed to do this.")
    return " ".join(exc.messages)


def add_service_errors(form, exc) -> None:
    """Put a service's ValidationError on the form: field errors on their fields when the form has
    them, the rest (and plain messages) as non-field errors. Shared by every page that calls a service."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)
