"""Notices leave through a real Celery worker on a real broker: e-mail to a real SMTP server,
posts to local stand-ins of the DingTalk and WeCom robots that check the documented payload and
DingTalk's signature. A receiver that answers 500 or is down gets the notice later, once.

With WRITE_DOCS=1 the DingTalk card of a returned submission is written to
docs/screens/dingtalk_returned.json (what the group sees).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from django.test import override_settings

from notices import services as notices
from notices.models import Delivery, Kind
from submissions import services
from tenancy.scoping import tenant_scope
from tests.support.celery_worker import broker_reachable, celery_worker, server_broker_urls
from tests.support.robots import Robot as Receiver
from tests.support.robots import free_port
from tests.support.servers import require
from tests.support.smtp import smtp_server
from tests.support.waiting import wait_until

from .helpers import deliveries, submitted

ROOT = Path(__file__).resolve().parents[2]
SITE = "https://liushou.example.cn"
KEYWORD = "留守之家"


def _broker() -> str:
    urls = server_broker_urls()
    require(bool(urls), "notice delivery needs a broker server: set TEST_BROKER_URLS (Redis and/or RabbitMQ)")
    require(broker_reachable(urls[0]), f"broker {urls[0]} is not reachable")
    return urls[0]


def _robots(tree, ding: Receiver, wecom: Receiver):
    origins = {"dingtalk": [f"http://127.0.0.1:{ding.port}"], "wecom": [f"http://127.0.0.1:{wecom.port}"]}
    kinds = [Kind.SUBMISSION_RETURNED]
    with override_settings(NOTICES_ROBOT_ORIGINS=origins), tenant_scope([tree.gupei.id]):
        notices.robot_create(actor=tree.gupei_admin, district_id=tree.district.id, school_id=tree.gupei.id,
                             channel="dingtalk", name="古沛报送群", webhook_url=ding.url, secret=ding.secret,
                             keyword=KEYWORD, kinds=kinds)
        notices.robot_create(actor=tree.bureau_admin, district_id=tree.district.id, school_id=None,
                             channel="wecom", name="教育局群", webhook_url=wecom.url, kinds=kinds)


def _emails(tree):
    for u in (tree.gupei_admin, tree.gupei_clerk):
        u.email = f"{u.username}@example.cn"
        u.save(update_fields=["email"])


def _worker_env(smtp):
    return {"TEST_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend", "EMAIL_HOST": smtp.host,
            "EMAIL_PORT": str(smtp.port), "NOTICES_RETRY_BASE_SECONDS": "1", "NOTICES_SITE_URL": SITE}


def _all_sent():
    rows = deliveries(kind=Kind.SUBMISSION_RETURNED)
    return len(rows) == 4 and all(d.status == "sent" for d in rows) and rows


@pytest.mark.needs_broker
@pytest.mark.platform_language  # the cards are written in the platform language (zh-hans)
def test_a_returned_submission_reaches_email_dingtalk_and_wecom(transactional_db, tmp_path, tree, report):
    broker = _broker()
    sub = submitted(tree, report)  # before any address or robot exists: nothing to send yet
    ding = Receiver("dingtalk", token="ding-token", secret="SEC0123456789abcdef", keyword=KEYWORD).start()
    wecom = Receiver("wecom", token="wecom-key").start()
    try:
        _emails(tree)
        _robots(tree, ding, wecom)
        with smtp_server() as smtp, celery_worker(tmp_path, broker, extra_env=_worker_env(smtp)) as worker:
            with tenant_scope([tree.gupei.id]):  # committed on exit: the outbox publishes the task
                services.submission_return(actor=tree.bureau_admin, submission=sub, comment="请补充三月份活动照片")
            rows = wait_until(_all_sent, timeout=60, what="every delivery sent", detail=worker.log)
            assert sorted(m.rcpt_to[0] for m in smtp.messages) == ["gupei_admin@example.cn", "gupei_clerk@example.cn"]
            assert all("请补充三月份活动照片" in m.body and f"{SITE}/submissions/{sub.pk}/" in m.body
                       for m in smtp.messages)
            assert ding.refused == [] and wecom.refused == []  # signature, keyword and shape as documented
            assert len(ding.received) == len(wecom.received) == 1
            card = ding.received[0]["markdown"]
            assert KEYWORD in card["title"] and "请补充三月份活动照片" in card["text"]
            assert f"({SITE}/submissions/{sub.pk}/)" in card["text"]  # links back
            assert "请补充三月份活动照片" in wecom.received[0]["markdown"]["content"]
            assert all(d.attempts == 1 for d in rows)
            # The same event again (a redelivered task, a repeated notify): nothing is sent twice.
            event_key = rows[0].event_key
            with tenant_scope([tree.gupei.id]):
                notices.notify(event_key=event_key, kind=Kind.SUBMISSION_RETURNED, district_id=tree.district.id,
                               school_id=tree.gupei.id, users=[tree.gupei_admin, tree.gupei_clerk], text="x")
            assert worker.app.send_task("notices.deliver", args=[tree.district.id, event_key]).get(timeout=30) == 0
            assert len(smtp.messages) == 2 and len(ding.received) == len(wecom.received) == 1
        if os.environ.get("WRITE_DOCS") == "1":
            out = ROOT / "docs" / "screens" / "dingtalk_returned.json"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(ding.received[0], ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    finally:
        ding.stop()
        wecom.stop()


@pytest.mark.needs_broker
def test_a_receiver_down_or_failing_gets_the_notice_later_once(transactional_db, tmp_path, tree, report):
    broker = _broker()
    sub = submitted(tree, report)
    ding = Receiver("dingtalk", token="ding-token", secret="SECfeedface", keyword=KEYWORD, fail_next=2).start()
    wecom = Receiver("wecom", token="wecom-key", port=free_port())  # down: nothing listens on its port yet
    try:
        _robots(tree, ding, wecom)
        with smtp_server() as smtp, celery_worker(tmp_path, broker, extra_env=_worker_env(smtp)) as worker:
            with tenant_scope([tree.gupei.id]):
                services.submission_return(actor=tree.bureau_admin, submission=sub, comment="请补充照片")

            def wecom_failed_twice():
                rows = deliveries(kind=Kind.SUBMISSION_RETURNED, channel="wecom")
                return rows and rows[0].attempts >= 2 and rows[0]

            failed = wait_until(wecom_failed_twice, timeout=60, what="two failed attempts at WeCom", detail=worker.log)
            assert failed.status == Delivery.Status.PENDING and "Connection" in failed.last_error  # kept, not lost
            wecom.start()  # back up

            def both_sent():
                rows = deliveries(kind=Kind.SUBMISSION_RETURNED)
                return len(rows) == 2 and all(d.status == "sent" for d in rows) and rows

            rows = wait_until(both_sent, timeout=90, what="both robots reached", detail=worker.log)
            assert ding.requests == 3 and len(ding.received) == 1  # 500, 500, then taken: once
            assert len(wecom.received) == 1 and ding.refused == [] and wecom.refused == []
            assert {d.channel: d.attempts for d in rows}["dingtalk"] == 3
    finally:
        ding.stop()
        wecom.stop()
