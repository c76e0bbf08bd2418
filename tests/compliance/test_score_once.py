"""A double click on an inspector's score is one history entry: the same score sent again writes
nothing, and two submissions at once (two connections) wait for each other."""
from __future__ import annotations

import pytest

from compliance import services
from compliance.models import ManualScore, ManualScoreChange
from tenancy.scoping import tenant_scope
from tests.support.concurrency import run_at_once


def _count(tree, assessment):
    with tenant_scope([tree.gupei.id]):
        return (ManualScore.objects.filter(assessment=assessment).count(),
                ManualScoreChange.objects.filter(assessment=assessment).count())


def test_the_same_score_sent_twice_is_one_history_entry(tree, assessment):
    kw = dict(assessment=assessment, school=tree.gupei, item_code="M1", score=3, comment="已开放",
              actor=tree.bureau_inspector)
    services.manual_score_set(**kw)
    services.manual_score_set(**kw)
    assert _count(tree, assessment) == (1, 1)
    services.manual_score_set(**{**kw, "score": 4})  # a real change is still recorded
    assert _count(tree, assessment) == (1, 2)


@pytest.mark.django_db(transaction=True)
def test_two_submissions_at_once_are_one_score_and_one_entry(tree, assessment):
    run_at_once(lambda: services.manual_score_set(assessment=assessment, school=tree.gupei, item_code="M1", score=2,
                                                  comment="双击", actor=tree.bureau_inspector))
    assert _count(tree, assessment) == (1, 1)
