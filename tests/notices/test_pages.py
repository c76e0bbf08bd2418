"""The pages of notices: the inbox with its header badge, the channel choices, the group robots
(each admin sees and removes only their own; secrets and tokens are never shown back)."""
from __future__ import annotations

import re

from django.conf import settings
from django.urls import reverse

from notices.models import Channel, Kind, Preference, Robot
from notices.services import robot_create
from tenancy.scoping import tenant_scope
from tests.support.scopes import every_tenant

from .helpers import returned

URL = "https://oapi.dingtalk.com/robot/send?access_token=topsecrettoken"


def _robot(tree, school, actor):
    with tenant_scope([school.id]):
        return robot_create(actor=actor, district_id=school.district_id, school_id=school.id, channel="dingtalk",
                            name="群", webhook_url=URL, secret="SECverysecret1234", kinds=[Kind.OVERDUE])


def test_the_header_shows_the_unread_count(client, tree, report):
    returned(tree, report)
    client.force_login(tree.gupei_clerk)
    response = client.get(reverse("notice_settings"))
    unread = response.context["notices_unread"]
    assert unread == 2  # the compile the clerk asked for, and the return
    # The 通知 tab of the bottom bar carries the badge.
    badge = re.search(r'data-tab="notifications".*?<span class="tab-badge" aria-label="([^"]*)">(\d+)</span>',
                      response.content.decode(), re.S)
    assert badge and badge.group(2) == "2" and badge.group(1) == "2 unread"
    client.post(reverse("notifications_mark_read"), {"all": "1"})
    body = client.get(reverse("notifications")).content.decode()
    assert "tab-badge" not in body
    client.force_login(tree.gupei_teacher)  # not concerned by the return
    assert "tab-badge" not in client.get(reverse("notifications")).content.decode()


def test_email_choices_are_saved_per_kind(client, tree):
    client.force_login(tree.gupei_clerk)
    page = client.get(reverse("notice_settings"))
    assert page.status_code == 200 and page.context["robot_form"] is None  # a clerk sets up no robot
    data = {k.value: "on" for k in Kind if k != Kind.SUBMISSION_ACCEPTED}
    assert client.post(reverse("notice_settings"), data).status_code == 302
    chosen = dict(Preference.objects.filter(user=tree.gupei_clerk, channel=Channel.EMAIL).values_list("kind", "enabled"))
    assert chosen[Kind.SUBMISSION_ACCEPTED] is False and chosen[Kind.SUBMISSION_RETURNED] is True


def test_a_school_admin_adds_and_removes_the_schools_robot(client, tree):
    client.force_login(tree.gupei_admin)
    data = {"place": f"{tree.district.id}:{tree.gupei.id}", "channel": "dingtalk", "name": "古沛报送群",
            "webhook_url": URL, "secret": "SECverysecret1234", "keyword": "", "kinds": [Kind.SUBMISSION_RETURNED]}
    assert client.post(reverse("notice_robot_add"), data).status_code == 302
    with tenant_scope([tree.gupei.id]):
        robot = Robot.objects.get(school=tree.gupei)
    body = client.get(reverse("notice_settings")).content.decode()
    assert "古沛报送群" in body and "topsecrettoken" not in body and "SECverysecret1234" not in body
    bad = client.post(reverse("notice_robot_add"), data | {"webhook_url": "http://10.0.0.1/hook?x=1"})
    assert bad.status_code == 400 and not bad.context["robot_form"].is_valid() or bad.context["robot_form"].errors
    # Another school's admin cannot remove it (as if it did not exist), its own admin can.
    client.force_login(tree.menzhuang_admin)
    assert client.post(reverse("notice_robot_remove"), {"robot": robot.pk}).status_code == 404
    client.force_login(tree.other_admin)
    assert client.post(reverse("notice_robot_remove"), {"robot": robot.pk}).status_code == 404
    with every_tenant():
        assert Robot.objects.filter(pk=robot.pk).exists()
    client.force_login(tree.gupei_admin)
    assert client.post(reverse("notice_robot_remove"), {"robot": robot.pk}).status_code == 302
    with every_tenant():
        assert not Robot.objects.filter(pk=robot.pk).exists()


def test_other_tenants_robots_are_not_listed(client, tree):
    _robot(tree, tree.menzhuang, tree.menzhuang_admin)
    client.force_login(tree.gupei_admin)
    assert client.get(reverse("notice_settings")).context["robots"] == []
    client.force_login(tree.bureau_admin)  # district robots only: a school's robot is its admin's
    assert client.get(reverse("notice_settings")).context["robots"] == []
    client.force_login(tree.gupei_teacher)  # no place to add one: the add page is not there
    assert client.post(reverse("notice_robot_add"), {}).status_code == 404


def test_the_settings_page_is_in_chinese(client, tree):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    client.force_login(tree.gupei_admin)
    body = client.get(reverse("notice_settings"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    for zh in ("通知设置", "电子邮件", "群机器人", "报送被退回", "添加机器人", "加签密钥（钉钉）"):
        assert zh in body
    for en in ("Notice settings", "Group robots", "A submission was returned", "Webhook address"):
        assert en not in body
