from . import selectors


def tenancy(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"my_roles": selectors.roles_of(user), "is_bureau_user": selectors.is_bureau_user(user)}
