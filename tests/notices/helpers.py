"""A submission of Gupei waiting for the bureau's review, and reads of what notices wrote."""
from __future__ import annotations

from datetime import date

from notices.models import Delivery, Notification
from submissions import services
from tenancy.scoping import tenant_scope
from tests.support.scopes import every_tenant
from tests.support.submissions import at, compile_, get_sub


def submitted(tree, report, school=None, actor=None):
    school, actor = school or tree.gupei, actor or tree.gupei_clerk
    services.periods_open(today=date(2026, 4, 15))
    with tenant_scope([school.id]):
        sub = get_sub(tree, report, school, 1)
        compile_(sub, actor)
        return services.submission_submit(actor=actor, submission=sub, now=at(date(2026, 4, 15)))


def returned(tree, report, reason="请补充三月份活动照片"):
    sub = submitted(tree, report)
    with tenant_scope([tree.gupei.id]):
        return services.submission_return(actor=tree.bureau_admin, submission=sub, comment=reason)


def notices(**filters) -> list[Notification]:
    with every_tenant():
        return list(Notification.objects.filter(**filters).order_by("id"))


def deliveries(**filters) -> list[Delivery]:
    with every_tenant():
        return list(Delivery.objects.filter(**filters).order_by("id"))
