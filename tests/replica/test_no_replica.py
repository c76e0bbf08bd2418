"""Without a replica (no DATABASE_REPLICA_URL, or routing off as in the rest of the suite) every
read stays on the primary, as before; the router never sends a write or a migration elsewhere."""
from __future__ import annotations

from django.db import connections
from django.test.utils import CaptureQueriesContext

from config.db_router import ReplicaRouter
from submissions import selectors
from submissions.models import Submission
from tenancy.models import School
from tenancy.replica import has_replica, read_alias, replica_reads
from tenancy.scoping import tenant_scope
from tests.support.submissions import district_ids, report  # noqa: F401  (fixture)


def test_no_replica_alias_reads_the_primary(settings, monkeypatch, tree, report):  # noqa: F811
    # As without DATABASE_REPLICA_URL: the alias replica_reads would use is not configured (the
    # DATABASES dict itself is Django's connection registry and stays as it is).
    monkeypatch.setattr("tenancy.replica.REPLICA", "unconfigured")
    settings.REPLICA_READS = True
    assert not has_replica()
    with tenant_scope(district_ids(tree)):
        with replica_reads(reason="test") as alias:
            assert alias == "default" and read_alias() == "default"
        with CaptureQueriesContext(connections["default"]) as primary:
            matrix = selectors.completeness_matrix(user=tree.bureau_admin, report_type=report)
    assert any(Submission._meta.db_table in q["sql"] for q in primary.captured_queries)
    assert {r.school.pk for r in matrix.rows} == {tree.gupei.pk, tree.menzhuang.pk, tree.village_a.pk}


def test_routing_off_reads_the_primary(settings, tree):
    settings.REPLICA_READS = False  # the suite's default, also when CI configures the alias
    assert not has_replica()
    with tenant_scope([tree.gupei.id]), replica_reads(reason="test") as alias:
        assert alias == "default"


def test_the_router_writes_and_migrates_only_the_primary():
    r = ReplicaRouter()
    assert r.db_for_write(School) == "default"
    assert r.db_for_read(School) == "default"  # outside a replica_reads() block
    assert r.allow_migrate("replica", "tenancy") is False
    assert r.allow_migrate("default", "tenancy") is None
