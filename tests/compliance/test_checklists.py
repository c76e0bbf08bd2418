"""Checklists: YAML round trip, validation errors, publishing, immutability, new draft versions."""
import copy
from decimal import Decimal

import pytest
import yaml
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction

from compliance import checklist_yaml, metrics, services
from compliance.models import Checklist, ChecklistItem, ChecklistSection, ChecklistVersion, ImmutableError
from tenancy.scoping import district_scope
from tenancy.services import district_create


def test_yaml_round_trip(tree, test_yaml):
    draft = services.checklist_import_yaml(district=tree.district, text=test_yaml, actor=tree.bureau_admin)
    exported = services.checklist_export_yaml(version=draft)
    assert yaml.safe_load(exported) == yaml.safe_load(test_yaml)
    # Importing the export elsewhere gives the very same document back.
    other = district_create(name="别处", code="elsewhere")
    again = services.checklist_import_yaml(district=other, text=exported)
    assert services.checklist_export_yaml(version=again) == exported
    assert again.digest == draft.digest
    assert draft.declared_total == Decimal("20")
    with district_scope(tree.district):
        t3 = draft.items.get(code="T3")
    assert (t3.rule, t3.bands, t3.points) == ("bands", [[1.0, 1.0], [2.0, 2.0], [3.0, 4.0]], Decimal("4"))


def test_default_checklist_round_trips_and_uses_the_shipped_metrics(tree):
    version = services.checklist_load_default(district=tree.district)
    assert version.is_published and version.declared_total == Decimal("100")
    exported = yaml.safe_load(services.checklist_export_yaml(version=version))
    source = yaml.safe_load(services.DEFAULT_CHECKLIST_PATH.read_text(encoding="utf-8"))
    assert exported == source
    with district_scope(tree.district):
        used = set(version.items.exclude(metric="").values_list("metric", flat=True))
        assert used == set(metrics.DEFAULT_METRIC_KEYS)
        assert version.items.filter(scoring="manual", check_method="spot_check").count() == 2
        assert sum(version.items.values_list("points", flat=True)) == Decimal("100")


def test_default_checklist_load_is_idempotent(tree):
    first = services.checklist_load_default(district=tree.district)
    second = services.checklist_load_default(district=tree.district)
    assert first.pk == second.pk
    with district_scope(tree.district):
        assert ChecklistVersion.objects.filter(checklist__district=tree.district).count() == 1
        assert ChecklistItem.objects.filter(version=first).count() == 12


def test_management_command_loads_default(tree):
    from django.core.management import call_command

    call_command("load_default_checklist", "mingguang")
    call_command("load_default_checklist", "mingguang")
    with district_scope(tree.district):
        assert Checklist.objects.get(district=tree.district, code="default").versions.count() == 1


def _doc(test_yaml):
    return yaml.safe_load(test_yaml)


def _item(doc, code):
    for sec in doc["sections"]:
        for it in sec["items"]:
            if it["code"] == code:
                return it
    raise KeyError(code)


def _mutate_unknown_metric(d):
    _item(d, "T1")["metric"] = "no_such_metric"


def _mutate_duplicate_code(d):
    _item(d, "T3")["code"] = "T1"


def _mutate_total(d):
    d["total"] = 25


def _mutate_negative_threshold(d):
    _item(d, "T2")["threshold"] = -1


def _mutate_text_threshold(d):
    _item(d, "T2")["threshold"] = "lots"


def _mutate_bands_not_increasing(d):
    _item(d, "T3")["bands"] = [[2, 1], [1, 2]]


def _mutate_band_points_too_high(d):
    _item(d, "T3")["bands"] = [[1, 1], [3, 9]]


def _mutate_missing_title(d):
    del _item(d, "M1")["title_en"]


def _mutate_proportional_zero_target(d):
    _item(d, "T1")["target"] = 0


@pytest.mark.parametrize("mutate, expected", [
    (_mutate_unknown_metric, ['item T1, field "metric"', 'unknown metric "no_such_metric"']),
    (_mutate_duplicate_code, ['item T1, field "code"', "duplicate item code T1"]),
    (_mutate_total, ['field "total"', "add up to 20", "declared total is 25"]),
    (_mutate_negative_threshold, ['item T2, field "threshold"', "must not be negative"]),
    (_mutate_text_threshold, ['item T2, field "threshold"', "must be a number"]),
    (_mutate_bands_not_increasing, ['item T3, field "bands"', "strictly increasing"]),
    (_mutate_band_points_too_high, ['item T3, field "bands"', "gives 9 points, more than the item's 4"]),
    (_mutate_missing_title, ['item M1, field "title_en"', "title is missing"]),
    (_mutate_proportional_zero_target, ['item T1, field "target"', "greater than 0"]),
])
def test_validation_errors_name_item_and_field(tree, test_yaml, mutate, expected):
    doc = _doc(test_yaml)
    mutate(doc)
    errors = [str(e) for e in checklist_yaml.validate(doc)]
    assert errors, "the mutation must be reported"
    assert any(all(part in e for part in expected) for e in errors), errors
    # The import refuses it, and writes nothing.
    with pytest.raises(services.ChecklistInvalid) as exc:
        services.checklist_import_yaml(district=tree.district, text=checklist_yaml.dump_yaml(doc))
    assert any(all(part in m for part in expected) for m in exc.value.messages)
    with district_scope(tree.district):
        assert not Checklist.objects.filter(district=tree.district).exists()


def test_validation_collects_every_error(test_yaml):
    doc = _doc(test_yaml)
    _mutate_unknown_metric(doc)
    _mutate_negative_threshold(doc)
    _mutate_missing_title(doc)
    errors = checklist_yaml.validate(doc)
    assert {e.where for e in errors} >= {"item T1", "item T2", "item M1"}


def test_bad_yaml_is_a_clear_error(tree):
    with pytest.raises(ValidationError, match="not valid YAML"):
        services.checklist_import_yaml(district=tree.district, text="sections: [unclosed")


def test_only_bureau_admin_imports(tree, test_yaml):
    with pytest.raises(PermissionDenied):
        services.checklist_import_yaml(district=tree.district, text=test_yaml, actor=tree.menzhuang_admin)
    with pytest.raises(PermissionDenied):
        services.checklist_import_yaml(district=tree.district, text=test_yaml, actor=tree.bureau_inspector)


def test_checklist_with_errors_cannot_be_published(tree, test_yaml):
    draft = services.checklist_import_yaml(district=tree.district, text=test_yaml, actor=tree.bureau_admin)
    with district_scope(tree.district):
        item = draft.items.get(code="T1")
    services.checklist_item_update(item=item, actor=tree.bureau_admin, points=Decimal("5"))
    with pytest.raises(services.ChecklistInvalid) as exc:
        services.checklist_version_publish(version=draft, actor=tree.bureau_admin)
    assert any("add up to 17" in m for m in exc.value.messages)
    with district_scope(tree.district):
        draft.refresh_from_db()
    assert draft.status == "draft"
    services.checklist_item_update(item=item, actor=tree.bureau_admin, points=Decimal("8"))
    assert services.checklist_version_publish(version=draft, actor=tree.bureau_admin).is_published


def test_published_version_is_immutable_through_services_and_models(tree, version):
    with district_scope(tree.district):
        item = version.items.get(code="T1")
    with pytest.raises(ImmutableError, match="published"):
        services.checklist_item_update(item=item, actor=tree.bureau_admin, points=Decimal("1"))
    with pytest.raises(ImmutableError):
        services.checklist_version_publish(version=version, actor=tree.bureau_admin)
    with district_scope(tree.district):
        item.points = Decimal("1")
        with pytest.raises(ImmutableError):
            item.save()
        with pytest.raises(ImmutableError):
            item.delete()
        version.title_zh = "改过"
        with pytest.raises(ImmutableError):
            version.save()
        with pytest.raises(ImmutableError):
            version.delete()
        assert ChecklistItem.objects.get(pk=item.pk).points == Decimal("8")


@pytest.mark.parametrize("write", [
    lambda v: ChecklistItem.objects.filter(version=v).update(points=Decimal("1")),
    lambda v: ChecklistItem.objects.filter(version=v).delete(),
    lambda v: ChecklistSection.objects.filter(version=v).update(title_zh="x"),
    lambda v: ChecklistVersion.objects.filter(pk=v.pk).update(title_zh="x"),
    lambda v: ChecklistVersion.objects.filter(pk=v.pk).update(status="draft"),
    lambda v: ChecklistItem.objects.bulk_create([ChecklistItem(
        version=v, section=v.sections.first(), code="NEW", title_zh="x", title_en="x", points=1,
        check_method="records", scoring="manual")]),
], ids=["update-items", "delete-items", "update-section", "update-version", "unpublish", "add-item"])
def test_published_version_is_immutable_in_the_database(tree, version, write):
    """queryset.update()/delete()/bulk_create bypass save(); the triggers still refuse."""
    with district_scope(tree.district):
        with pytest.raises(DatabaseError, match="published"):
            with transaction.atomic():
                write(version)
        assert ChecklistItem.objects.get(version=version, code="T1").points == Decimal("8")


def test_editing_makes_a_new_draft_copy(tree, version):
    draft = services.checklist_version_new_draft(version=version, actor=tree.bureau_admin)
    assert (draft.number, draft.status, draft.based_on_id) == (2, "draft", version.pk)
    assert services.checklist_export_yaml(version=draft) == services.checklist_export_yaml(version=version)
    with district_scope(tree.district):
        assert set(draft.items.values_list("id", flat=True)).isdisjoint(version.items.values_list("id", flat=True))
        services.checklist_item_update(item=draft.items.get(code="M1"), actor=tree.bureau_admin, title_zh="新的标题")
        assert version.items.get(code="M1").title_zh == "按时开放"
        with pytest.raises(ValidationError, match="already a draft"):
            services.checklist_version_new_draft(version=version, actor=tree.bureau_admin)
        published = services.checklist_version_publish(version=draft, actor=tree.bureau_admin)
        assert published.number == 2 and published.items.get(code="M1").title_zh == "新的标题"


def test_reimport_goes_to_a_new_draft_not_the_published_version(tree, version, test_yaml):
    doc = _doc(test_yaml)
    _item(doc, "M1")["title_zh"] = "修改后"
    draft = services.checklist_import_yaml(district=tree.district, text=checklist_yaml.dump_yaml(copy.deepcopy(doc)),
                                           actor=tree.bureau_admin)
    assert draft.number == 2 and draft.pk != version.pk
    with district_scope(tree.district):
        assert version.items.get(code="M1").title_zh == "按时开放"
        # Importing again replaces the draft's content rather than piling up drafts.
        again = services.checklist_import_yaml(district=tree.district, text=test_yaml, actor=tree.bureau_admin)
        assert again.pk == draft.pk and again.items.get(code="M1").title_zh == "按时开放"
