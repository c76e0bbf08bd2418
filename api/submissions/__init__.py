"""API for submissions: the reporting calendar, submissions and their lifecycle,
package versions (compile, download), narratives, the bureau's matrix and similarity flags,
notifications and the consolidated district exports.

Lifecycle actions are resources, so every one runs through the generic isolation test:
- compile = POST /package-versions/ {submission};
- submit / accept / return / unlock = POST /submission-events/ {submission, action, comment};
- a narrative is PUT /narratives/<id>/ (or POSTed the first time);
- a district export is POST /district-exports/ {period}.
Downloads and the matrix are extra GET routes on the same viewsets (same queryset, same checks)."""
from .routes import extra_patterns, register

__all__ = [
    "extra_patterns", "register",
]
