"""API tokens (tenancy/tokens.py, django-rest-knox): stored as digests, expiring, several per user;
each user lists and revokes their own (API and the web security page); all of a user's tokens stop
working when the password changes (any path), the account is deactivated or the last role goes."""
from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.forms import SetPasswordForm
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from tenancy import services
from tenancy.models import AccessLog, ApiToken, Membership
from tenancy.roles import Role
from tenancy.scoping import tenant_scope

TOKEN_URL = reverse("api:v1:auth-token")
ME_URL = reverse("api:v1:me")
LIST_URL = reverse("api:v1:tokens-list")
PASSWORD = "Demo2026!"


def obtain(username: str, password: str = PASSWORD, **extra) -> dict:
    response = APIClient().post(TOKEN_URL, {"username": username, "password": password, **extra}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def api(key: str) -> APIClient:
    return APIClient(HTTP_AUTHORIZATION=f"Token {key}")


def works(key: str) -> bool:
    status = api(key).get(ME_URL).status_code
    assert status in (200, 401), status
    return status == 200


# ---------------------------------------------------------------- issue, store, list, revoke
def test_issued_token_is_stored_as_a_digest_with_an_expiry(tree):
    body = obtain("gupei_admin", name="报表脚本")
    key = body["token"]
    token = ApiToken.objects.get(pk=body["id"])
    assert token.user_id == tree.gupei_admin.id and token.name == "报表脚本"
    assert token.digest != key and len(token.digest) == 128
    with connection.cursor() as cursor:  # the token itself is nowhere in the table
        cursor.execute("SELECT count(*) FROM tenancy_apitoken WHERE digest = %s OR token_key = %s OR name = %s",
                       [key, key, key])
        assert cursor.fetchone()[0] == 0
    lifetime = token.expiry - timezone.now()
    assert dt.timedelta(hours=24 * 7 - 1) < lifetime <= dt.timedelta(hours=24 * 7)
    assert dt.datetime.fromisoformat(body["expiry"]) == token.expiry
    assert works(key)


def test_several_tokens_listed_and_each_revoked_alone(tree):
    first, second = obtain("gupei_teacher", name="手机")["token"], obtain("gupei_teacher", name="平板")["token"]
    assert first != second and works(first) and works(second)
    rows = api(first).get(LIST_URL).json()["results"]
    assert [r["name"] for r in rows] == ["平板", "手机"]
    assert [r["current"] for r in rows] == [False, True]
    assert all(set(r) == {"id", "name", "key_prefix", "created", "expiry", "current"} for r in rows)
    assert {r["key_prefix"] for r in rows} == {first[:8], second[:8]}
    assert api(first).delete(reverse("api:v1:tokens-detail", args=[rows[0]["id"]])).status_code == 204
    assert works(first) and not works(second)
    # DELETE auth/token/ revokes the token in use.
    assert api(first).delete(TOKEN_URL).status_code == 204
    assert not works(first)
    assert not ApiToken.objects.filter(user=tree.gupei_teacher).exists()


def test_another_users_token_is_404_and_keeps_working(tree):
    mine, theirs = obtain("gupei_admin")["token"], obtain("menzhuang_admin")
    url = reverse("api:v1:tokens-detail", args=[theirs["id"]])
    assert api(mine).get(url).status_code == 404
    assert api(mine).delete(url).status_code == 404
    assert theirs["id"] not in {r["id"] for r in api(mine).get(LIST_URL).json()["results"]}
    assert works(theirs["token"])


def test_issue_and_revoke_are_access_logged_on_the_users_school(tree):
    body = obtain("gupei_clerk")
    api(body["token"]).delete(reverse("api:v1:tokens-detail", args=[body["id"]]))
    with tenant_scope([tree.gupei.id]):
        rows = list(AccessLog.objects.filter(user=tree.gupei_clerk, object_type="tenancy.apitoken")
                    .order_by("id").values_list("action", "object_id", "detail__event"))
    assert rows == [("create", str(body["id"]), "api_token_issued"), ("delete", str(body["id"]), "api_token_revoked")]


# ---------------------------------------------------------------- lifetime
def test_an_expired_token_is_refused_and_removed(tree):
    body = obtain("gupei_admin")
    ApiToken.objects.filter(pk=body["id"]).update(expiry=timezone.now() - dt.timedelta(seconds=1))
    assert not works(body["token"])
    assert not ApiToken.objects.filter(pk=body["id"]).exists()


def test_lifetime_follows_the_setting(tree, settings):
    from datetime import timedelta

    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_TTL": timedelta(hours=2)}
    token = ApiToken.objects.get(pk=obtain("gupei_admin")["id"])
    assert timedelta(hours=1, minutes=59) < token.expiry - timezone.now() <= timedelta(hours=2)


def test_ttl_setting_is_read_from_the_environment(monkeypatch):
    """API_TOKEN_TTL_HOURS (README's configuration table) becomes knox's TOKEN_TTL."""
    import importlib

    import config.settings.base as base

    monkeypatch.setenv("API_TOKEN_TTL_HOURS", "12")
    try:
        reloaded = importlib.reload(base)
        assert reloaded.REST_KNOX["TOKEN_TTL"] == dt.timedelta(hours=12)
        monkeypatch.setenv("API_TOKEN_TTL_HOURS", "0")
        with pytest.raises(Exception, match="at least 1"):
            importlib.reload(base)
    finally:
        monkeypatch.delenv("API_TOKEN_TTL_HOURS")
        importlib.reload(base)


# ---------------------------------------------------------------- revoked with the credentials
def test_web_password_change_revokes_every_token(client, tree):
    keys = [obtain("gupei_teacher")["token"], obtain("gupei_teacher")["token"]]
    client.force_login(tree.gupei_teacher)
    response = client.post(reverse("password_change"), {
        "old_password": PASSWORD, "new_password1": "Qiaotou-2027-ok", "new_password2": "Qiaotou-2027-ok"})
    assert response.status_code == 302
    assert not any(works(k) for k in keys)
    assert works(obtain("gupei_teacher", "Qiaotou-2027-ok")["token"])


def test_admin_reset_revokes_every_token(tree):
    """An administrator's reset (SetPasswordForm, as Django's admin and `changepassword` do)."""
    key = obtain("gupei_teacher")["token"]
    form = SetPasswordForm(tree.gupei_teacher, {"new_password1": "Qiaotou-2027-ok", "new_password2": "Qiaotou-2027-ok"})
    assert form.is_valid(), form.errors
    form.save()
    assert not works(key)


def test_saving_the_user_otherwise_keeps_the_tokens(tree):
    key = obtain("gupei_teacher")["token"]
    user = tree.gupei_teacher
    user.display_name = "刘老师"
    user.save()
    user.last_login = timezone.now()
    user.save(update_fields=["last_login"])
    assert works(key)


def test_deactivation_revokes_every_token(tree):
    key = obtain("gupei_teacher")["token"]
    tree.gupei_teacher.is_active = False
    tree.gupei_teacher.save(update_fields=["is_active"])
    assert not ApiToken.objects.filter(user=tree.gupei_teacher).exists()
    tree.gupei_teacher.is_active = True
    tree.gupei_teacher.save()
    assert not works(key), "reactivating the account does not bring an old token back"


def test_revoking_the_last_role_revokes_every_token(tree):
    teacher_key = obtain("gupei_teacher")["token"]
    clerk_key = obtain("gupei_clerk")["token"]
    services.membership_grant(user=tree.gupei_clerk, role=Role.TEACHER, school=tree.gupei)
    admin = api(obtain("gupei_admin")["token"])
    for user in (tree.gupei_teacher, tree.gupei_clerk):
        membership = Membership.objects.get(user=user, role=Role.TEACHER)
        assert admin.delete(reverse("api:v1:memberships-detail", args=[membership.pk])).status_code == 204
    assert not works(teacher_key), "the teacher held one role: its tokens end with it"
    assert works(clerk_key), "the clerk keeps a role, and so its tokens"


# ---------------------------------------------------------------- the web security page
def test_security_page_lists_own_tokens_and_revokes_after_confirming(client, tree):
    mine, other = obtain("gupei_teacher", name="手机"), obtain("menzhuang_teacher", name="别人的")
    client.force_login(tree.gupei_teacher)
    html = client.get(reverse("account_security"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "手机" in html and mine["token"][:8] in html
    assert mine["token"] not in html and "别人的" not in html and other["token"][:8] not in html
    url = reverse("api_token_revoke", args=[mine["id"]])
    assert f'href="{url}"' in html
    confirm = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert confirm.status_code == 200 and "Yes, revoke this token" in confirm.content.decode()
    assert works(mine["token"]), "opening the confirmation revokes nothing"
    response = client.post(url, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "The API token was revoked" in response.content.decode()
    assert not works(mine["token"])
    assert "No API tokens." in client.get(reverse("account_security"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    # Someone else's token: 404 on the page and on the action, and it keeps working.
    other_url = reverse("api_token_revoke", args=[other["id"]])
    assert client.get(other_url).status_code == 404 and client.post(other_url).status_code == 404
    assert works(other["token"])


def test_security_page_in_chinese(client, tree):
    obtain("gupei_teacher", name="手机")
    client.force_login(tree.gupei_teacher)
    html = client.get(reverse("account_security")).content.decode()
    assert "API 令牌" in html and "撤销…" in html
