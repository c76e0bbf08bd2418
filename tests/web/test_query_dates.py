"""No page answers 500 to a date in its query string, whatever the date: every page that reads one is
walked with extreme and malformed values (0001-01-01 made the week view's links overflow)."""
from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from django.urls import reverse

from tests.support.schools import semester, today  # noqa: F401  (fixtures)

BAD_DATES = ["0001-01-01", "9999-12-31", "2026-02-30", "abc", "10000-01-01", "-1", "0000-00-00", "2026-13-45",
             "1999-12-31", "２０２６-０１-０１", "2026-01-01T00:00", ""]
BAD_WEEKS = ["0001-W01", "9999-W52", "2026-W99", "2026-W00", "abc-W1", "W", "-W-", "10000-W01"]

# url name -> (URL args from the tree, the query parameters holding a date or an ISO week)
DATE_PAGES = {
    "activities_week": (lambda t: [t.gupei.pk], {"date": BAD_DATES, "week": BAD_WEEKS}),
    "activity_create": (lambda t: [t.gupei.pk], {"date": BAD_DATES}),
    "school_access_log": (lambda t: [t.gupei.pk], {"date_from": BAD_DATES, "date_to": BAD_DATES}),
}
# Where those pages read the dates: a helper parsing request.GET, or a form bound to request.GET.
DATE_READERS = {"_parse_week": {"activities_week", "activity_create"}, "AccessLogFilterForm": {"school_access_log"}}


def _cases():
    for name, (args, params) in DATE_PAGES.items():
        for param, values in params.items():
            yield pytest.param(name, args, param, values, id=f"{name}-{param}")


@pytest.mark.parametrize("name, args, param, values", list(_cases()))
def test_no_500_on_any_date(client, tree, semester, name, args, param, values):  # noqa: F811
    client.force_login(tree.gupei_admin)
    url = reverse(name, args=args(tree))
    for value in values:
        response = client.get(url, {param: value})
        assert response.status_code == 200, f"{name}?{param}={value}: {response.status_code}"


def test_out_of_range_dates_fall_back_to_this_week(client, tree, semester, today):  # noqa: F811
    client.force_login(tree.gupei_teacher)
    url = reverse("activities_week", args=[tree.gupei.pk])
    this_week = client.get(url).context["monday"]
    for query in ({"date": "0001-01-01"}, {"date": "9999-12-31"}, {"week": "0001-W01"}, {"week": "9999-W52"}):
        assert client.get(url, query).context["monday"] == this_week, query
    assert str(client.get(url, {"date": "2024-03-13"}).context["monday"]) == "2024-03-11"


def test_access_log_filter_explains_an_out_of_range_date(client, tree):
    client.force_login(tree.gupei_admin)
    response = client.get(reverse("school_access_log", args=[tree.gupei.pk]), {"date_from": "0001-01-01"},
                          HTTP_ACCEPT_LANGUAGE="en")
    assert "Enter a date between 2000-01-01 and" in response.content.decode()


def _view_sources() -> str:
    root = Path(__file__).resolve().parents[2]
    return "\n".join(p.read_text() for app in ("schools", "tenancy", "compliance", "submissions")
                     for p in (root / app).glob("views*.py"))


def test_every_date_read_from_a_query_string_is_walked():
    """A new page that reads a date from request.GET must join DATE_PAGES above (and parse it with
    tenancy.dates.parse_query_date or a bounded form field)."""
    from django import forms

    source = _view_sources()
    found = set()
    for key in re.findall(r"request\.GET\.get\(\s*[\"']([a-z_]+)[\"']", source):
        if re.search(r"date|week|_on$|_from$|_to$|since|until", key):
            found.add(key)
    for form_name in set(re.findall(r"(\w+Form)\(\s*request\.GET", source)):
        module_form = None
        for module in ("schools.forms_archive", "schools.forms_home", "tenancy.forms", "compliance.forms",
                       "submissions.forms"):
            module_form = module_form or getattr(__import__(module, fromlist=["x"]), form_name, None)
        assert module_form is not None, form_name
        if any(isinstance(f, forms.DateField) for f in module_form.base_fields.values()):
            found.add(form_name)
    walked_keys = {p for _name, (_a, params) in DATE_PAGES.items() for p in params}
    helpers_source = inspect.getsource(__import__("schools.views.activities", fromlist=["x"])._parse_week)
    assert 'request.GET.get("week"' in helpers_source
    unknown = {k for k in found if k not in walked_keys and k not in DATE_READERS}
    assert not unknown, f"query-string dates no test walks: {sorted(unknown)}"
