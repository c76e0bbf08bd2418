"""The township admin's start page: a period whose village schools are all approved and that has no
township package yet is work to do, linked to the centre's township page; not while a village
still waits, and no more once the package exists."""
from __future__ import annotations

from django.utils import timezone

from submissions import services
from submissions.compile.township import compile_township
from tenancy.scoping import tenant_scope
from tests.support.scopes import user_scope
from tests.support.township import township_report
from today.work import todo_for


def _items(user):
    with user_scope(user):
        page = todo_for(user, timezone.localdate())
    return {i.key: i for s in page.sections for i in s.items}


def test_ready_periods_are_the_township_admins_work(tree):
    pending = township_report(tree.gupei, [tree.village_a, tree.village_b], children=False, approve=("gupei-a",))
    assert "township_package" not in _items(tree.gupei_township), "village B still waits"
    ready = township_report(tree.gupei, [tree.village_a, tree.village_b], children=False)
    item = _items(tree.gupei_township)["township_package"]
    assert item.count == 1 and item.url.endswith(f"/schools/{tree.gupei.pk}/township/?period={ready.period.pk}")
    assert "township_package" not in _items(tree.gupei_admin), "the centre's admin does not compile"
    with tenant_scope([tree.gupei.id, tree.village_a.id, tree.village_b.id]):
        package = services.township_package_request(actor=tree.gupei_township, centre=tree.gupei,
                                                    period=ready.period, enqueue=False)
    compile_township(school_id=tree.gupei.id, package_id=package.pk)
    assert "township_package" not in _items(tree.gupei_township)
    assert pending.period.pk != ready.period.pk
