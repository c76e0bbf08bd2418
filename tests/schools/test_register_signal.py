"""schools.signals.child_register_changed: sent after commit by create, update and import."""
from __future__ import annotations

import datetime as dt

from schools import services
from schools.signals import child_register_changed
from tenancy.scoping import tenant_scope
from tests.schools.test_import_commit import preview, row


class Heard:
    def __init__(self):
        self.calls = []

    def __call__(self, sender, **kwargs):
        self.calls.append(kwargs)


def listen():
    heard = Heard()
    child_register_changed.connect(heard, weak=False)
    return heard


def test_create_update_and_import_announce_after_commit(tree, django_capture_on_commit_callbacks):
    heard = listen()
    try:
        with tenant_scope([tree.menzhuang.id]):
            with django_capture_on_commit_callbacks(execute=False) as pending:
                child = services.child_create(actor=tree.menzhuang_admin, school=tree.menzhuang, name="王小花",
                                              gender="female", grade=3, class_name="三(1)班",
                                              left_behind_kind="both", birth_date=dt.date(2017, 1, 2))
            # Nothing is sent before the transaction commits.
            assert heard.calls == [] and len(pending) == 1
            pending[0]()
            assert heard.calls[0]["child_id"] == child.id and heard.calls[0]["school_id"] == tree.menzhuang.id
            assert heard.calls[0]["actor"] == tree.menzhuang_admin
            assert {"name", "birth_date", "left_behind_kind"} <= heard.calls[0]["changed"]

            with django_capture_on_commit_callbacks(execute=True):
                services.child_update(actor=tree.menzhuang_admin, child=child, guardian_name="王奶奶",
                                      guardian_relation="祖母", guardian_phone="13700000001")
            assert {"guardian_name", "guardian_relation", "guardian_phone"} <= heard.calls[1]["changed"]

            with django_capture_on_commit_callbacks(execute=True):
                services.child_update(actor=tree.menzhuang_admin, child=child, guardian_name="王奶奶")
            assert len(heard.calls) == 2  # nothing changed, nothing to tell

            with django_capture_on_commit_callbacks(execute=True):
                created = services.children_import_commit(actor=tree.menzhuang_admin, school=tree.menzhuang,
                                                          preview=preview(row(i) for i in range(2)))
            assert [c["child_id"] for c in heard.calls[2:]] == [c.id for c in created]
            assert "id_number" in heard.calls[2]["changed"]
    finally:
        child_register_changed.disconnect(heard)
