"""Isolation cases of the account pages with a parameter: the confirmation and the revocation of one of
the user's own API tokens. A token is a person's, not a school's: the page of a school's admin's token
is theirs alone, so everyone else (their own school's teacher and clerk, the overseers, the inspector)
gets 404 like an outsider."""
from __future__ import annotations

from tenancy.models import ApiToken, Membership
from tenancy.roles import Role
from tests.support.access_log import Logged
from tests.web.pages import Page, register


def _admins_token(t, school):
    """A token of the school's admin (the walk's owner of `school`)."""
    admin = Membership.objects.filter(school=school, role=Role.SCHOOL_ADMIN).order_by("id").first().user
    return {"pk": ApiToken.objects.create(user=admin, name="isolation")[0].pk}


def _revoked(t, school, kwargs, data, user):
    """A revoke is logged on every school where the token's owner holds a role."""
    school_ids = sorted({m.school_id for m in Membership.objects.filter(user=user) if m.school_id})
    return [Logged(sid, "delete", "tenancy.apitoken", str(kwargs["pk"]), user.pk) for sid in school_ids]


NOT_THEIRS = dict(teacher_status=404, clerk_status=404, overseer_status=404, inspector_status=404)

register(Page("api_token_revoke", _admins_token, **NOT_THEIRS))
register(Page("api_token_revoke", _admins_token, method="post", owner_status=302, logs=_revoked, **NOT_THEIRS))
