"""The start page: what the signed-in user has to do today (today.work), then their schools."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from tenancy import selectors as tenancy_selectors
from tenancy.roles import SUBTREE_ROLES

from .work import todo_for


@login_required
def start(request):
    user = request.user
    todo = todo_for(user)
    oversees = bool(tenancy_selectors.roles_of(user) & {r.value for r in SUBTREE_ROLES})
    schools = list(tenancy_selectors.school_summaries(user)) if oversees else []
    top_depth = min((s.depth for s in schools), default=0)
    for s in schools:
        s.indent = s.depth - top_depth
    own_school = None if oversees else tenancy_selectors.nav_for(user).get("nav_school")
    return render(request, "today/start.html", {
        "todo": todo, "schools": schools, "own_school": own_school,
        "has_role": bool(tenancy_selectors.memberships_of(user)),
    })
