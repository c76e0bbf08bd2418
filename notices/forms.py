"""Inputs of the notices pages; messages shown to users."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ROBOT_KINDS, Channel, Kind


class MarkReadForm(forms.Form):
    ids = forms.TypedMultipleChoiceField(coerce=int, required=False, choices=())
    all = forms.BooleanField(required=False)

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ids"].choices = [(c, c) for c in choices]


class EmailChoicesForm(forms.Form):
    """One checkbox per kind: e-mail me about this."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for kind in Kind:
            self.fields[kind.value] = forms.BooleanField(label=kind.label, required=False)


class RobotForm(forms.Form):
    place = forms.ChoiceField(label=_("For"))
    channel = forms.ChoiceField(label=_("Type"), choices=[(Channel.DINGTALK.value, Channel.DINGTALK.label),
                                                          (Channel.WECOM.value, Channel.WECOM.label)])
    name = forms.CharField(label=_("Name"), max_length=60)
    webhook_url = forms.CharField(label=_("Webhook address"), max_length=500)
    secret = forms.CharField(label=_("Signing secret (DingTalk 加签)"), max_length=200, required=False,
                             widget=forms.PasswordInput(render_value=False))
    keyword = forms.CharField(label=_("Keyword"), max_length=30, required=False)
    kinds = forms.MultipleChoiceField(label=_("Posts"), choices=[(k.value, k.label) for k in ROBOT_KINDS],
                                      widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, places=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.places = {f"{d.pk}:{s.pk if s else ''}": (d, s) for d, s in places}
        self.fields["place"].choices = [(key, s.name if s else d.name) for key, (d, s) in self.places.items()]
        self.fields["kinds"].initial = [k.value for k in ROBOT_KINDS]


class RobotRemoveForm(forms.Form):
    robot = forms.TypedChoiceField(coerce=int, choices=())

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["robot"].choices = [(c, c) for c in choices]
