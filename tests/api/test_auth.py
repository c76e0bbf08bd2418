"""Token authentication, sessions, lockout and the fail-closed check on who the scope is for."""
from __future__ import annotations

from django.test import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from tests.support.api import client_for

TOKEN_URL = reverse("api:v1:auth-token")
ME_URL = reverse("api:v1:me")


def _obtain(username, password, client=None):
    return (client or APIClient()).post(TOKEN_URL, {"username": username, "password": password}, format="json")


def test_token_obtain_and_use(tree):
    response = _obtain("gupei_admin", "Demo2026!")
    assert response.status_code == 200, response.content
    token = response.json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = client.get(ME_URL)
    assert me.status_code == 200
    assert me.json()["username"] == "gupei_admin"
    # The next login issues another token (one per device or script); both work until revoked or expired.
    again = _obtain("gupei_admin", "Demo2026!").json()["token"]
    assert again != token
    assert APIClient(HTTP_AUTHORIZATION=f"Token {again}").get(ME_URL).status_code == 200
    assert client.get(ME_URL).status_code == 200


def test_wrong_password_is_a_clear_400(tree):
    response = _obtain("gupei_admin", "wrong")
    assert response.status_code == 400
    assert "Unable to log in" in str(response.json()) or "无法" in str(response.json())
    assert "token" not in response.json()


def test_inactive_user_gets_no_token_and_old_token_stops_working(tree):
    client = client_for(tree.gupei_admin)
    tree.gupei_admin.is_active = False
    tree.gupei_admin.save()
    assert _obtain("gupei_admin", "Demo2026!").status_code == 400
    assert client.get(ME_URL).status_code == 401


@override_settings(AXES_FAILURE_LIMIT=3)
def test_lockout_after_repeated_failures_is_a_clear_429_not_a_500(tree):
    statuses = [_obtain("gupei_admin", "wrong").status_code for _ in range(3)]
    assert statuses == [400, 400, 429]
    # Even the right password is refused while locked out, with a message saying why.
    response = _obtain("gupei_admin", "Demo2026!")
    assert response.status_code == 429
    assert response["Content-Type"].startswith("application/json")
    detail = response.json()["detail"]
    assert "30" in detail  # the cool-off, in minutes
    # Another user is not affected.
    assert _obtain("menzhuang_admin", "Demo2026!").status_code == 200


def test_anonymous_gets_401_with_a_token_challenge(tree):
    response = APIClient().get(reverse("api:v1:schools-list"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_bad_token_is_401(tree):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get(ME_URL).status_code == 401


def test_session_authentication_works_for_the_api(tree):
    client = APIClient()
    client.force_login(tree.menzhuang_admin)  # a real session cookie: the middleware scopes it
    response = client.get(reverse("api:v1:schools-list"))
    assert response.status_code == 200
    assert [s["id"] for s in response.json()["results"]] == [tree.menzhuang.id]
    assert client.get(reverse("api:v1:schools-detail", args=[tree.gupei.id])).status_code == 404


def test_session_and_token_of_different_users_are_refused(tree):
    """The middleware scopes the session user; DRF would authenticate the token's user. The base
    class refuses rather than serve one user's request in another user's scope."""
    client = client_for(tree.bureau_admin)
    client.force_login(tree.menzhuang_admin)
    response = client.get(reverse("api:v1:schools-detail", args=[tree.gupei.id]))
    assert response.status_code == 401
    assert "scoped" in response.json()["detail"] or "令牌" in response.json()["detail"]


def test_token_revoke(tree):
    client = client_for(tree.gupei_admin)
    assert client.delete(TOKEN_URL).status_code == 204
    assert client.get(ME_URL).status_code == 401
    assert APIClient().delete(TOKEN_URL).status_code == 401
