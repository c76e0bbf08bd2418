"""How one delivery leaves: an e-mail, or a post to a DingTalk or WeCom group robot.

The robots' documented formats:
- DingTalk custom robot: POST {"msgtype": "markdown", "markdown": {"title", "text"}} to the
  webhook (…/robot/send?access_token=…). With 加签, the URL also carries `timestamp` (ms) and
  `sign` = urlencode(base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}"))). With a
  keyword, the message must contain the keyword.
- WeCom (企业微信) group robot: POST {"msgtype": "markdown", "markdown": {"content"}} to
  …/cgi-bin/webhook/send?key=….
Both answer HTTP 200 with {"errcode": 0} when they took the message; anything else is a failure
and the delivery stays pending for a retry.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.parse

import requests
from django.conf import settings
from django.core.mail import EmailMessage

TIMEOUT = (3, 10)  # connect, read (seconds): a silent receiver must not hold a worker


class DeliveryError(Exception):
    """The channel did not take the message (down, refused, or an error code)."""


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode())


def dingtalk_url(url: str, secret: str, timestamp_ms: int | None = None) -> str:
    if not secret:
        return url
    ts = timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)
    return f"{url}{'&' if '?' in url else '?'}timestamp={ts}&sign={dingtalk_sign(secret, ts)}"


def absolute_link(link: str) -> str:
    base = getattr(settings, "NOTICES_SITE_URL", "").rstrip("/")
    return f"{base}{link}" if link.startswith("/") and base else link


def markdown(title: str, text: str, link: str, keyword: str = "", link_label: str = "") -> tuple[str, str]:
    """(title, markdown body): a card that names the event and links back to the platform."""
    if keyword and keyword not in title and keyword not in text:
        title = f"【{keyword}】{title}"
    body = f"#### {title}\n\n{text}"
    url = absolute_link(link)
    if url:
        body += f"\n\n[{link_label or url}]({url})"
    return title, body


def dingtalk_payload(title: str, body: str) -> dict:
    return {"msgtype": "markdown", "markdown": {"title": title, "text": body}}


def wecom_payload(body: str) -> dict:
    return {"msgtype": "markdown", "markdown": {"content": body}}


def post_robot(url: str, payload: dict) -> None:
    try:
        response = requests.post(url, data=json.dumps(payload, ensure_ascii=False).encode(),
                                 headers={"Content-Type": "application/json; charset=utf-8"}, timeout=TIMEOUT,
                                 allow_redirects=False)
    except requests.RequestException as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
    if response.status_code != 200:
        raise DeliveryError(f"HTTP {response.status_code}")
    try:
        errcode = response.json().get("errcode", 0)
    except ValueError as exc:
        raise DeliveryError("the robot answered something that is not JSON") from exc
    if errcode != 0:
        raise DeliveryError(f"errcode {errcode}: {str(response.json().get('errmsg', ''))[:200]}")


def send_email(to: str, subject: str, text: str, link: str) -> None:
    url = absolute_link(link)
    body = f"{text}\n\n{url}" if url else text
    try:
        EmailMessage(subject=subject, body=body, to=[to]).send()
    except Exception as exc:  # smtplib and socket errors alike: retried later
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
