"""Usernames are unique regardless of case, on every path that makes an account: the staff page, the
API's memberships endpoint, the service itself, and the database underneath them."""
from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from tenancy import services
from tenancy.models import Membership, User
from tenancy.roles import Role
from tests.support.api import client_for


def test_service_refuses_a_username_differing_only_in_case(tree):
    with pytest.raises(ValidationError) as caught:
        services.user_create(username="Gupei_Admin", password=None)
    assert "username" in caught.value.message_dict
    assert User.objects.filter(username__iexact="gupei_admin").count() == 1


def test_api_refuses_a_username_differing_only_in_case(tree):
    """The probe's case: the API created Gupei_Admin beside gupei_admin (the web form refused it)."""
    before = (User.objects.count(), Membership.objects.count())
    response = client_for(tree.gupei_admin).post(reverse("api:v1:memberships-list"), {
        "role": Role.TEACHER, "school": tree.gupei.id, "username": "Gupei_Admin", "password": "Qiaotou-2026-ok",
    }, format="json")
    assert response.status_code == 400, response.content
    assert "username" in response.json()
    assert (User.objects.count(), Membership.objects.count()) == before
    # An exact match is an existing colleague and still gets the role (the API's documented behaviour).
    response = client_for(tree.gupei_admin).post(reverse("api:v1:memberships-list"), {
        "role": Role.CLERK, "school": tree.gupei.id, "username": "gupei_teacher",
    }, format="json")
    assert response.status_code == 201, response.content


def test_web_form_refuses_it_too(client, tree):
    client.force_login(tree.gupei_admin)
    response = client.post(reverse("school_staff", kwargs={"pk": tree.gupei.pk}), {
        "username": "GUPEI_TEACHER", "display_name": "x", "role": Role.TEACHER, "password": "Qiaotou-2026-ok",
    })
    assert response.status_code == 200
    assert "username" in response.context["add_form"].errors


def test_database_refuses_it_whatever_the_path(tree):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="MENZHUANG_admin")
