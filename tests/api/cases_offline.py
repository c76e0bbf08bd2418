"""Isolation case for the offline snapshot: a phone receives only its user's own assigned children."""
from __future__ import annotations

from .cases_schools import assign, child, semester
from .harness import Case, register


def _children(tree):
    semester(tree)
    kids = {"a": child(tree.gupei), "a2": child(tree.gupei), "village": child(tree.village_a),
            "b": child(tree.menzhuang), "far": child(tree.far_school)}
    assign(tree, kids["a"])  # gupei_teacher is the proxy parent of "a" only
    return kids


register(Case(
    basename="offline",
    make=_children,
    # Not the school's whole list, not even for its admin or the bureau: only one's own children.
    sees={"gupei_teacher": {"a"}},
    singleton_ids=lambda body: {c["id"] for c in body["children"]},
))
