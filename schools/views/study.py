"""Study support: teacher-child pairs and their tutoring sessions."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from tenancy.views import school_page

from .. import forms_home as forms
from .. import selectors, services
from ..models import Child, StudyPair, TutoringSession
from ._common import _call, _edit_page, _perms, _post_or_none, _readers_to, _submit, _today
from .proxy import _assignable_children


# ---------------------------------------------------------------- study support
@school_page("view_home")
def study_pairs(request, school):
    perms = _perms(request, school)
    can_manage = "manage_children" in perms
    action = request.POST.get("action") if request.method == "POST" else None
    form = forms.StudyPairForm(request.POST if action == "create" else None, school=school,
                               children=_assignable_children(request, school) if can_manage else Child.objects.none(),
                               initial={"starts_on": _today()})
    if action:
        if not can_manage:
            raise PermissionDenied
        if action == "create":
            if form.is_valid() and _call(form, lambda: services.study_pair_create(
                    actor=request.user, school=school, **form.cleaned_data)) is not None:
                messages.success(request, _("The pair was created."))
                return redirect("study_pairs", school.pk)
        elif action == "end":
            pair = get_object_or_404(StudyPair, pk=request.POST.get("pair"), school=school)
            try:
                services.study_pair_end(actor=request.user, pair=pair, request=request)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, _("The pair was ended."))
            return redirect("study_pairs", school.pk)
        else:
            raise Http404
    pairs = list(selectors.study_pairs_visible_to(request.user, school).order_by("ends_on", "-starts_on", "id"))
    return render(request, "schools/home/study_pairs.html", {
        "school": school, "pairs": pairs, "form": form, "can_manage": can_manage,
    })


def _pair_for(request, school, pk: int) -> tuple[StudyPair, bool]:
    """The pair and whether it is masked (an overseer sees that it exists and works: teacher, dates,
    minutes, not who the child is). 404 for anyone else who cannot see it."""
    visible = selectors.study_pairs_visible_to(request.user, school).filter(pk=pk).first()
    if visible is not None:
        return visible, False
    if "view_aggregates" in _perms(request, school):
        return get_object_or_404(StudyPair.objects.select_related("teacher"), pk=pk, school=school), True
    raise Http404


def _can_tutor(request, school, pair) -> bool:
    return pair.teacher_id == request.user.id or "manage_children" in _perms(request, school)


@school_page("view_home")
def study_pair_detail(request, school, pk: int):
    pair, masked = _pair_for(request, school, pk)
    can_record = _can_tutor(request, school, pair)
    form = forms.TutoringForm(request.POST if request.method == "POST" else None, initial={"date": _today()})
    if _submit(request, form, can_record, lambda: services.tutoring_session_record(
            actor=request.user, pair=pair, request=request, **form.cleaned_data), school=school) is not None:
        messages.success(request, _("The session was recorded."))
        return redirect("study_pair_detail", school.pk, pair.pk)
    return render(request, "schools/home/study_pair_detail.html", {
        "school": school, "pair": pair, "sessions": list(pair.sessions.order_by("-date", "-id")),
        "form": form, "can_record": can_record and not masked, "masked": masked,
        "can_manage": "manage_children" in _perms(request, school) and not masked,
    })


@school_page("view_home")
def study_pair_edit(request, school, pk: int):
    """Correct a pair's dates or subject; its sessions must stay inside the dates (the service checks)."""
    pair, masked = _pair_for(request, school, pk)
    detail = reverse("study_pair_detail", args=[school.pk, pair.pk])
    sent = _readers_to(request, not masked and "manage_children" in _perms(request, school), detail)
    if sent:
        return sent
    form = forms.StudyPairEditForm(_post_or_none(request),
                                   initial={f: getattr(pair, f) for f in services.STUDY_PAIR_FIELDS})
    return _edit_page(
        request, school, pair, form, title=_("Study pair: %(teacher)s → %(child)s") % {
            "teacher": pair.teacher, "child": pair.child.name},
        back=detail, can_manage=True, delete=False,
        update=lambda d: services.study_pair_update(actor=request.user, pair=pair, request=request, **d))


@school_page("view_home")
def tutoring_session_edit(request, school, pk: int, session_pk: int):
    """Correct or delete a tutoring session: the paired teacher or whoever manages the archive."""
    pair, masked = _pair_for(request, school, pk)
    session = get_object_or_404(TutoringSession, pk=session_pk, pair=pair, school=school)
    detail = reverse("study_pair_detail", args=[school.pk, pair.pk])
    sent = _readers_to(request, not masked and _can_tutor(request, school, pair), detail)
    if sent:
        return sent
    form = forms.TutoringForm(_post_or_none(request),
                              initial={f: getattr(session, f) for f in services.TUTORING_FIELDS})
    return _edit_page(
        request, school, session, form, title=_("Tutoring session"), back=detail, can_manage=True,
        update=lambda d: services.tutoring_session_update(actor=request.user, session=session, request=request, **d),
        delete=lambda: services.tutoring_session_delete(actor=request.user, session=session, request=request))
