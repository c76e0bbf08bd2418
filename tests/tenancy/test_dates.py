"""One sane range for every date a person types (tenancy.dates): the rule itself, proof that every
model field, form field, API field and API filter that takes a date carries it, and the refusals
it gives through the API and a page."""
from __future__ import annotations

import datetime as dt
import importlib
import inspect
import pkgutil

import pytest
from django import forms
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone, translation

from tenancy.dates import (
    EARLIEST,
    DateRangeValidator,
    in_range,
    parse_query_date,
    parse_query_week,
    past_date,
    sane_date,
)
from tests.support.api import client_for
from tests.support.schools import semester, today  # noqa: F401  (fixtures)

PROJECT_APPS = ("tenancy", "schools", "submissions", "compliance")
# Dates the platform computes itself, never typed by anyone (a period's dates follow from its report type).
SYSTEM_SET = {"submissions.Period.start_on", "submissions.Period.end_on", "submissions.Period.open_on",
              "submissions.Period.due_on", "submissions.Period.lock_on"}


def _bounded(validators) -> bool:
    return any(isinstance(v, DateRangeValidator) for v in validators)


# ---------------------------------------------------------------- the rule
def test_range_and_messages():
    today = timezone.localdate()
    assert in_range(EARLIEST) and in_range(today) and not in_range(EARLIEST - dt.timedelta(days=1))
    assert in_range(today.replace(year=today.year + 5) - dt.timedelta(days=2))
    assert not in_range(today.replace(year=today.year + 6))
    assert not in_range(today + dt.timedelta(days=1), past_date) and in_range(today, past_date)
    with pytest.raises(ValidationError) as caught, translation.override("en"):
        sane_date(dt.date(1, 1, 1))
    with translation.override("en"):
        assert caught.value.messages == [f"Enter a date between 2000-01-01 and {sane_date.bounds()[1].isoformat()}."]
    with translation.override("zh-hans"):
        assert caught.value.messages == [f"请输入 2000-01-01 至 {sane_date.bounds()[1].isoformat()} 之间的日期。"]
    assert DateRangeValidator().bounds(dt.date(2028, 2, 29))[1] == dt.date(2033, 2, 28)


@pytest.mark.parametrize("text, expected", [
    ("2026-03-12", dt.date(2026, 3, 12)), (" 2024-02-29 ", dt.date(2024, 2, 29)),
    ("0001-01-01", None), ("9999-12-31", None), ("2026-02-30", None), ("abc", None), ("", None), (None, None),
    ("1999-12-31", None), ("10000-01-01", None),
])
def test_parse_query_date(text, expected):
    assert parse_query_date(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("2026-W11", dt.date(2026, 3, 9)), ("2026-w11", dt.date(2026, 3, 9)),
    ("0001-W01", None), ("9999-W52", None), ("2026-W99", None), ("abc", None), ("", None), ("10000-W01", None),
])
def test_parse_query_week(text, expected):
    assert parse_query_week(text) == expected


# ---------------------------------------------------------------- every place that takes a date
def test_every_typed_model_date_is_bounded():
    unbounded = []
    for app in PROJECT_APPS:
        for model in apps.get_app_config(app).get_models():
            for f in model._meta.get_fields():
                name = f"{model._meta.label}.{getattr(f, 'name', '')}"
                base = getattr(f, "base_field", None)  # ArrayField of dates
                if isinstance(base, models.DateField) and not _bounded(base.validators):
                    unbounded.append(name)
                if (isinstance(f, models.DateField) and not isinstance(f, models.DateTimeField)
                        and not (f.auto_now or f.auto_now_add) and name not in SYSTEM_SET
                        and not _bounded(f.validators)):
                    unbounded.append(name)
    assert not unbounded, f"model dates without tenancy.dates validators: {unbounded}"


def _modules(package: str):
    """The package and every module below it, sub-packages included."""
    pkg = importlib.import_module(package)
    yield pkg
    for info in pkgutil.walk_packages(pkg.__path__, prefix=f"{package}."):
        yield importlib.import_module(info.name)


def _classes(modules, base):
    seen = set()
    for module in modules:
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, base) and cls.__module__ == module.__name__ and cls not in seen:
                seen.add(cls)
                yield cls


def test_every_form_date_is_bounded():
    modules = [importlib.import_module(m) for app in PROJECT_APPS for m in (f"{app}.forms", f"{app}.forms_archive",
               f"{app}.forms_home", f"{app}.forms_calendar") if importlib.util.find_spec(m)]
    assert len(modules) >= 5
    unbounded = [f"{cls.__module__}.{cls.__name__}.{name}" for cls in _classes(modules, forms.Form)
                 for name, field in cls.base_fields.items()
                 if isinstance(field, forms.DateField) and not _bounded(field.validators)]
    assert not unbounded, f"form dates without tenancy.dates validators: {unbounded}"


def test_every_api_input_date_and_date_filter_is_bounded(rf, tree):
    import django_filters
    from rest_framework import serializers

    request = rf.get("/")
    request.user = tree.bureau_admin
    modules = list(_modules("api"))
    unbounded, checked = [], 0
    for cls in _classes(modules, serializers.Serializer):
        try:
            fields = cls(context={"request": request}).fields
        except (AssertionError, AttributeError, KeyError, TypeError):
            continue  # a base class that is not usable on its own
        for name, field in fields.items():
            if isinstance(field, serializers.DateField) and not field.read_only:
                checked += 1
                if not _bounded(field.validators):
                    unbounded.append(f"{cls.__module__}.{cls.__name__}.{name}")
    for cls in _classes(modules, django_filters.FilterSet):
        for name, flt in cls.base_filters.items():
            if isinstance(flt, django_filters.DateFilter):
                checked += 1
                if not _bounded(flt.extra.get("validators", [])):
                    unbounded.append(f"{cls.__module__}.{cls.__name__}.{name} (filter)")
    assert checked >= 20, checked
    assert not unbounded, f"API dates without tenancy.dates validators: {unbounded}"


# ---------------------------------------------------------------- what a user gets
@pytest.mark.parametrize("day", ["0001-01-01", "1999-12-31", "9999-12-31"])
def test_api_refuses_an_activity_outside_the_range(tree, semester, day):  # noqa: F811
    from schools.models import Activity
    from tenancy.scoping import tenant_scope

    response = client_for(tree.gupei_admin).post(reverse("api:v1:activities-list"), {
        "school": tree.gupei.id, "date": day, "kind": "theme_activity", "title": "远古活动"}, format="json",
        HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400, response.content
    assert response.json()["date"] == [f"Enter a date between 2000-01-01 and {sane_date.bounds()[1].isoformat()}."]
    with tenant_scope([tree.gupei.id]):
        assert not Activity.objects.exists()


@pytest.mark.parametrize("query", [{"date_after": "0001-01-01"}, {"date_before": "9999-12-31"},
                                   {"created_after": "0001-01-01"}, {"date_after": "abc"}])
def test_api_filters_refuse_dates_outside_the_range(tree, query):
    name = "activities-list" if "date_after" in query or "date_before" in query else "evidence-list"
    response = client_for(tree.gupei_admin).get(reverse(f"api:v1:{name}"), query)
    assert response.status_code == 400, response.content


def test_api_refuses_a_birth_date_in_the_future(tree):
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    response = client_for(tree.gupei_admin).post(reverse("api:v1:children-list"), {
        "school": tree.gupei.id, "name": "未来", "gender": "male", "grade": 1, "class_name": "一(1)班",
        "left_behind_kind": "both", "birth_date": tomorrow}, format="json")
    assert response.status_code == 400 and "birth_date" in response.json(), response.content


def test_page_refuses_an_activity_in_year_one(client, tree, semester):  # noqa: F811
    from schools.models import Activity
    from tenancy.scoping import tenant_scope

    client.force_login(tree.gupei_admin)
    response = client.post(reverse("activity_create", args=[tree.gupei.pk]), {
        "date": "0001-01-01", "kind": "theme_activity", "title": "远古活动"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "Enter a date between 2000-01-01 and" in response.content.decode()
    with tenant_scope([tree.gupei.id]):
        assert not Activity.objects.exists()
