"""Isolation case for the user's own API tokens (/api/v1/tokens/): everyone sees and revokes their own
tokens only; anyone else's token id is 404, whatever the role (the bureau's included)."""
from __future__ import annotations

from tenancy.models import ApiToken, Membership
from tests.support.access_log import logged_per_school

from .harness import FAR, OTHER_DISTRICT_ROLES, READ_ONLY_EXCEPTIONS, ROLES, Case, register

# A token is its holder's own, not a school's data: the read-only inspector revokes its own too.
READ_ONLY_EXCEPTIONS.setdefault("tokens", "revoking its own API tokens")

USERS = [role for role in ROLES if role != "anonymous"]


def _label(role: str) -> str:
    """The label of a role's own token (the other district's labels start with FAR, as the harness requires)."""
    return f"{FAR}_{role}" if role in OTHER_DISTRICT_ROLES else role


def _tokens(tree):
    """One token per user of the tree (beside the one each client authenticates with), labelled by role,
    and one of a user in another district."""
    out = {_label(role): ApiToken.objects.create(user=getattr(tree, role), name=f"{role} script")[0] for role in USERS}
    from tenancy import services
    from tenancy.roles import Role

    far = services.user_create(username="far_token_holder", password=None)
    services.membership_grant(user=far, role=Role.SCHOOL_ADMIN, school=tree.far_school)
    out["far"] = ApiToken.objects.create(user=far)[0]
    return out


def _logs(action, token, user):
    """A token belongs to a person: its revocation is logged on every school where they hold a role."""
    school_ids = sorted({m.school_id for m in Membership.objects.filter(user=user) if m.school_id})
    return logged_per_school(school_ids, action, user, "tenancy.apitoken", token.pk)


register(Case(
    basename="tokens",
    make=_tokens,
    sees={role: {_label(role)} for role in USERS},
    write_ok={"destroy": {role: {_label(role)} for role in USERS}},
    snapshot=lambda token: (token.digest, token.expiry),
    logs=_logs,
))
