"""Log in, log out, change password, and django-axes' lock-out page, through the real views."""
from __future__ import annotations

from django.conf import settings
from django.urls import reverse

PASSWORD = "Demo2026!"


def _login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_login_page_renders(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert "登录" in response.content.decode()


def test_login_success_goes_home(client, tree):
    response = _login(client, "bureau_admin", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200


def test_login_failure_shows_translated_error(client, tree):
    response = _login(client, "bureau_admin", "wrong")
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_logout_needs_post(client, tree):
    client.force_login(tree.gupei_admin)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert client.get(reverse("home")).status_code == 302  # back to the login page


def test_password_change(client, tree):
    assert _login(client, "gupei_teacher", PASSWORD).status_code == 302
    response = client.get(reverse("password_change"))
    assert response.status_code == 200 and "修改密码" in response.content.decode()
    response = client.post(reverse("password_change"), {
        "old_password": PASSWORD, "new_password1": "Liushou-2026-new", "new_password2": "Liushou-2026-new",
    })
    assert response.status_code == 302 and response["Location"] == reverse("password_change_done")
    assert "密码已修改" in client.get(reverse("password_change_done")).content.decode()
    client.post(reverse("logout"))
    assert _login(client, "gupei_teacher", PASSWORD).status_code == 200  # old one refused
    assert _login(client, "gupei_teacher", "Liushou-2026-new").status_code == 302


def test_password_change_requires_login(client, db):
    response = client.get(reverse("password_change"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_repeated_failures_lock_the_account_out(client, tree):
    limit = settings.AXES_FAILURE_LIMIT
    for _attempt in range(limit - 1):
        assert _login(client, "gupei_admin", "wrong").status_code == 200
    locked = _login(client, "gupei_admin", "wrong")
    assert locked.status_code == 429
    body = locked.content.decode()
    assert "账号已锁定" in body
    assert f"连续失败 {limit} 次" in body
    assert "30 分钟后再试" in body  # AXES_COOLOFF_TIME = 0.5 h
    # Even the right password is refused while locked out, and no session is created.
    again = _login(client, "gupei_admin", PASSWORD)
    assert again.status_code == 429
    assert "_auth_user_id" not in client.session
    # Another account from the same device is not affected (the address has its own, higher limit).
    assert _login(client, "gupei_teacher", PASSWORD).status_code == 302


def test_lockout_page_in_english(client, tree):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        response = _login(client, "menzhuang_admin", "wrong")
    assert response.status_code == 429
    body = response.content.decode()
    assert "Account locked" in body and "Too many failed login attempts" in body


def test_production_hashes_passwords_with_argon2(tree, settings):
    """Tests hash with MD5 for speed; the shared settings (used in production) use argon2."""
    from django.contrib.auth.hashers import make_password

    from config.settings import base

    assert base.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    settings.PASSWORD_HASHERS = base.PASSWORD_HASHERS
    tree.gupei_admin.set_password(PASSWORD)
    assert tree.gupei_admin.password.startswith("argon2$")
    assert make_password("x").startswith("argon2$")
