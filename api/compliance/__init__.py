"""API for compliance: checklists (YAML in and out), assessments, live scores, snapshots,
manual item scores with their audit trail, and exports.

Every endpoint is a ScopedViewSet with the standard actions only, so the generic isolation test
runs all of them; state changes are modelled as writes on the resource:
- publish a draft: PATCH /compliance/checklists/{id}/ {"status": "published"};
- a new draft version: POST /compliance/checklists/ {"based_on": id} (or {"district", "yaml"} to import);
- lock an assessment: PATCH /compliance/assessments/{id}/ {"status": "locked"};
- take a snapshot now: POST /compliance/snapshots/ {"assessment": id};
- run an export now: POST /compliance/exports/ {"assessment": id}.
Two GET-only paths sit outside the router: a checklist's YAML file and an export's workbook.

Reads come from compliance.selectors / tenancy.selectors, writes from compliance.services."""
from .routes import extra_patterns, register

__all__ = [
    "extra_patterns", "register",
]
