from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import path

from . import views, views_security

urlpatterns = [
    # Authentication. django-axes wraps the login (lock-out page: registration/locked_out.html).
    path("login/", auth_views.LoginView.as_view(
        redirect_authenticated_user=True, extra_context={"axes_failure_limit": settings.AXES_FAILURE_LIMIT},
    ), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),  # POST only (Django 5)
    path("password/change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password/change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    # Two-factor authentication (TOTP): the account's security page, enrolment and the code step.
    # 更多: every link that is not a tab, the account, the language and logging out.
    path("more/", views.more, name="nav_more"),
    path("account/security/", views_security.security, name="account_security"),
    path("account/two-factor/setup/", views_security.two_factor_setup, name="two_factor_setup"),
    path("account/two-factor/verify/", views_security.two_factor_verify, name="two_factor_verify"),
    path("account/tokens/<int:pk>/revoke/", views_security.api_token_revoke, name="api_token_revoke"),
    # School pages: every one looks the school up among those the user can see (else 404).
    # tests/web/test_page_isolation.py fails until a new pattern with a pk has a case there.
    path("schools/<int:pk>/", views.school_detail, name="school_detail"),
    path("schools/<int:pk>/staff/", views.school_staff, name="school_staff"),
    path("schools/<int:pk>/staff/grant/", views.school_staff_grant, name="school_staff_grant"),
    path("schools/<int:pk>/staff/<int:membership_pk>/revoke/", views.school_membership_revoke,
         name="school_membership_revoke"),
    path("schools/<int:pk>/access-log/", views.school_access_log, name="school_access_log"),
]
