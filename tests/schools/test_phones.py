"""One phone rule for the forms, the API (through the service) and the import: a mainland mobile
number or a landline with its area code; "123" is not a phone number."""
from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from schools import services
from schools.importing.cells import _CellError, parse_phone
from schools.phones import NotAPhone, normalise_phone, tel_href
from tenancy.scoping import tenant_scope
from tests.support.api import client_for
from tests.support.language import english_messages  # noqa: F401  (autouse)
from tests.web.pages_archive import make_child


@pytest.mark.parametrize("typed,stored", [
    ("13912345678", "13912345678"), ("139 1234 5678", "13912345678"), ("+86 139-1234-5678", "13912345678"),
    ("0550-1234567", "0550-1234567"), ("05501234567", "0550-1234567"), ("(0550)1234567", "0550-1234567"),
    ("010-12345678-12", "010-12345678-12"), ("", ""),
])
def test_phone_numbers_are_stored_in_one_form(typed, stored):
    assert normalise_phone(typed) == stored


@pytest.mark.parametrize("typed", ["123", "12345678901", "1391234567", "1234567", "电话", "139-1234-567x"])
def test_what_is_not_a_phone_number_is_refused_everywhere(typed):
    with pytest.raises(NotAPhone):
        normalise_phone(typed)
    with pytest.raises(_CellError):
        parse_phone(typed)


def test_tel_links_only_for_full_numbers():
    assert tel_href("13912345678") == "tel:13912345678"
    assert tel_href("0550-1234567-12") == "tel:0550-1234567;ext=12"
    assert tel_href("139****5678") == ""


def test_the_service_refuses_a_bad_phone_and_stores_a_good_one_normalised(tree):
    child = make_child(tree.gupei)
    with tenant_scope([tree.gupei.id]):
        with pytest.raises(ValidationError) as refused:
            services.child_update(actor=tree.gupei_admin, child=child, guardian_phone="123")
        assert "Not a phone number" in refused.value.message_dict["guardian_phone"][0]
        child = services.child_update(actor=tree.gupei_admin, child=child, second_contact_phone="139 0000 1111")
        assert child.second_contact_phone == "13900001111"


def test_the_api_refuses_a_bad_phone(tree):
    child = make_child(tree.gupei)
    client = client_for(tree.gupei_admin)
    url = reverse("api:v1:children-detail", args=[child.id])
    response = client.patch(url, {"guardian_phone": "123"}, format="json")
    assert response.status_code == 400 and "guardian_phone" in response.json()
    assert client.patch(url, {"guardian_phone": "0550-7654321"}, format="json").status_code == 200
