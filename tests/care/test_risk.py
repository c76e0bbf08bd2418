"""The risk index: each signal adds exactly its weight, the levels follow the thresholds, the
rules are versioned YAML, and the whole school is scored in a constant number of queries."""
from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from care import risk, risk_yaml, services
from care.models import RiskRuleVersion
from schools.models import CareContact
from tenancy.scoping import district_scope, tenant_scope

from .common import calm_child, semester, today

RULES = risk_yaml.default_rules()
W = {k: v["weight"] for k, v in RULES["signals"].items()}


def _scores(school):
    with tenant_scope([school.pk]):
        return {r.child_id: r for r in risk.risk_scores([school])}


@pytest.fixture
def school(tree):
    semester(tree.district)
    return tree.gupei


def test_a_calm_child_fires_nothing_and_each_signal_adds_its_weight(school):
    calm = calm_child(school)
    crafted = {
        "guardianship": calm_child(school, guardianship_assessment="poor"),
        "missed_contacts": calm_child(school, contacts=("home_visit", "talk")),
        "guardian_changed": calm_child(school, guardian_since=today() - dt.timedelta(days=20)),
        "teacher_concern": calm_child(school),
        "parents_out_of_touch": calm_child(school, parents_last_contact_on=today() - dt.timedelta(days=200)),
    }
    with tenant_scope([school.pk]):
        CareContact.objects.filter(child=crafted["teacher_concern"], kind="talk").update(
            concern=True, concern_reason="情绪低落")
    scores = _scores(school)
    assert (scores[calm.pk].score, scores[calm.pk].fired, scores[calm.pk].level) == (0, [], risk.LOW)
    for signal, child in crafted.items():
        row = scores[child.pk]
        assert row.fired == [signal], signal
        assert row.score == W[signal], signal
    assert scores[crafted["missed_contacts"].pk].missing_contacts == 2


def test_edges_of_each_signal(school):
    one_missing = calm_child(school, contacts=("home_visit", "talk", "letter"))  # below min_missing (2)
    unattended = calm_child(school, guardianship_assessment="none")
    unknown_parents = calm_child(school, parents_last_contact_on=None)
    old_change = calm_child(school, guardian_since=today() - dt.timedelta(days=91))
    old_concern = calm_child(school)
    with tenant_scope([school.pk]):
        CareContact.objects.filter(child=old_concern).update(happened_on=today() - dt.timedelta(days=40))
        CareContact.objects.filter(child=old_concern, kind="talk").update(concern=True, concern_reason="旧的")
    scores = _scores(school)
    assert scores[one_missing.pk].fired == []
    assert scores[unattended.pk].fired == ["guardianship"]
    assert scores[unknown_parents.pk].fired == ["parents_out_of_touch"]
    assert scores[old_change.pk].fired == []
    assert scores[old_concern.pk].fired == []


def test_levels_sum_the_weights_and_explain_them(school):
    high = calm_child(school, guardianship_assessment="none", parents_last_contact_on=None,
                      contacts=())  # 3 + 2 + 2 = 7
    medium = calm_child(school, guardianship_assessment="poor")  # 3
    row, mid = _scores(school)[high.pk], _scores(school)[medium.pk]
    assert row.score == W["guardianship"] + W["parents_out_of_touch"] + W["missed_contacts"]
    assert (row.level, mid.level) == (risk.HIGH, risk.MEDIUM)
    why = row.explanation(RULES)
    assert len(why) == 3 and any("4" in line for line in why)


def test_the_district_rules_decide_weights_and_levels(tree, school):
    child = calm_child(school, guardianship_assessment="poor")
    text = risk_yaml.default_source().replace("weight: 3\n    values", "weight: 9\n    values")
    with district_scope(tree.district):
        version = services.risk_rules_save(actor=tree.bureau_admin, district=tree.district, source=text)
    assert version.number == 1 and version.active
    row = _scores(school)[child.pk]
    assert (row.score, row.level) == (9, risk.HIGH)
    with district_scope(tree.district):
        second = services.risk_rules_save(actor=tree.bureau_admin, district=tree.district,
                                          source=risk_yaml.default_source())
        assert list(RiskRuleVersion.objects.filter(district=tree.district, active=True)) == [second]
        assert RiskRuleVersion.objects.get(pk=version.pk).source == text  # earlier versions stay as they were
    assert _scores(school)[child.pk].score == W["guardianship"]


def test_bad_rules_are_refused_with_every_problem(tree):
    text = "signals:\n  guardianship: {weight: -1, values: [bad]}\n  moon: {weight: 1}\nlevels: {high: 2, medium: 3}\n"
    with district_scope(tree.district):
        with pytest.raises(ValidationError) as exc:
            services.risk_rules_save(actor=tree.bureau_admin, district=tree.district, source=text)
        message = " ".join(exc.value.messages)
        for field in ("signals.guardianship.weight", "signals.guardianship.values", "signals.moon", "levels"):
            assert field in message
        assert not RiskRuleVersion.objects.filter(district=tree.district).exists()
        with pytest.raises(PermissionDenied):
            services.risk_rules_save(actor=tree.gupei_admin, district=tree.district, source=risk_yaml.default_source())


def test_the_yaml_round_trips():
    rules = risk_yaml.default_rules()
    assert risk_yaml.load(risk_yaml.dump(rules)) == rules


def _count_queries(school) -> tuple[int, int]:
    with tenant_scope([school.pk]):
        with CaptureQueriesContext(connection) as ctx:
            rows = risk.risk_scores([school])
    return len(ctx.captured_queries), len(rows)


def test_the_query_count_does_not_grow_with_the_children(school):
    for _i in range(10):
        calm_child(school, contacts=("letter",))
    small, n_small = _count_queries(school)
    for _i in range(40):
        calm_child(school, contacts=("letter",))
    large, n_large = _count_queries(school)
    assert (n_small, n_large) == (10, 50)
    assert small == large <= 4


def test_the_bureau_uploads_downloads_and_switches_rules_versions(client, tree):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    client.force_login(tree.bureau_admin)
    url = reverse("care_district", args=[tree.district.pk])
    bad = client.post(url, {"file": SimpleUploadedFile("r.yaml", b"signals: {}\nlevels: {high: 1, medium: 2}\n")})
    assert bad.status_code == 400 and "字段" in bad.content.decode()
    first = risk_yaml.default_source().replace("high: 5", "high: 6")
    assert client.post(url, {"file": SimpleUploadedFile("r.yaml", first.encode())}).status_code == 302
    assert client.post(url, {"file": SimpleUploadedFile("r.yaml", risk_yaml.default_source().encode())}).status_code == 302
    with district_scope(tree.district):
        v1, v2 = RiskRuleVersion.objects.filter(district=tree.district).order_by("number")
    assert (v1.active, v2.active) == (False, True)
    response = client.get(reverse("care_rules_download", args=[tree.district.pk, v1.pk]))
    assert b"".join(response.streaming_content).decode() == first
    assert client.post(reverse("care_rules_activate", args=[tree.district.pk, v1.pk])).status_code == 302
    with district_scope(tree.district):
        assert RiskRuleVersion.objects.get(active=True, district=tree.district) == v1
    client.force_login(tree.bureau_inspector)  # reads the figures and the rules, changes nothing
    assert client.get(url).status_code == 200
    assert client.post(reverse("care_rules_activate", args=[tree.district.pk, v2.pk])).status_code == 403


def test_a_saved_version_never_changes(tree):
    with district_scope(tree.district):
        version = services.risk_rules_save(actor=None, district=tree.district, source=risk_yaml.default_source())
        version.source = "signals: {}"
        with pytest.raises(ValidationError):
            version.save()
