"""tenancy.idempotency: a key is claimed in the create's own transaction, so two requests with the
same key at once (two connections) write one row, and the second gets the first's result."""
from __future__ import annotations

import time
import uuid

import pytest
from django.core.exceptions import ValidationError

from schools import services as school_services
from schools.models import Child
from tenancy import idempotency
from tenancy.scoping import tenant_scope
from tests.support.concurrency import run_at_once

FIELDS = dict(gender="female", grade=3, class_name="三(1)班", left_behind_kind="both")


def _create(tree, key, name="同一个", delay=0.0):
    def create():
        time.sleep(delay)  # the second request arrives while the first is still writing
        return school_services.child_create(actor=tree.gupei_admin, school=tree.gupei, name=name, **FIELDS)

    with tenant_scope([tree.gupei.id]):
        return idempotency.create_once(user=tree.gupei_admin, key=key, digest=name, target=tree.gupei,
                                       create=create, model=Child)


@pytest.mark.django_db(transaction=True)
def test_the_same_key_at_once_from_two_connections_writes_one_child(tree):
    key = str(uuid.uuid4())
    outcomes = run_at_once(lambda: _create(tree, key, delay=0.5))
    assert sorted(o.replayed for o in outcomes) == [False, True]
    assert outcomes[0].obj.pk == outcomes[1].obj.pk
    with tenant_scope([tree.gupei.id]):
        assert Child.objects.filter(school=tree.gupei).count() == 1


def test_the_same_key_for_another_request_is_refused(tree):
    key = str(uuid.uuid4())
    _create(tree, key)
    with pytest.raises(idempotency.KeyReused):
        _create(tree, key, name="另一个")
    with tenant_scope([tree.gupei.id]):
        assert Child.objects.filter(school=tree.gupei).count() == 1


def test_a_refused_create_frees_its_key_in_the_same_transaction(tree):
    key = str(uuid.uuid4())
    with tenant_scope([tree.gupei.id]):
        with pytest.raises(ValidationError):
            idempotency.create_once(user=tree.gupei_admin, key=key, digest="x", target=tree.gupei, model=Child,
                                    create=lambda: school_services.child_create(
                                        actor=tree.gupei_admin, school=tree.gupei, name="坏",
                                        **{**FIELDS, "grade": 12}))
        # The request's transaction goes on (a 400 commits): the key is free for the corrected create.
        again = idempotency.create_once(user=tree.gupei_admin, key=key, digest="x", target=tree.gupei, model=Child,
                                        create=lambda: school_services.child_create(
                                            actor=tree.gupei_admin, school=tree.gupei, name="好", **FIELDS))
        assert not again.replayed and again.obj.name == "好"
