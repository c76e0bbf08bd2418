"""What an access-log row is about, in people's words: "儿童：张**" instead of "schools.child #7".

The log stores a model label and an id. The kind of record is the model's verbose name; the record
itself is named by a describer its app registers (from AppConfig.ready), so tenancy never imports
the apps above it. A describer takes ids of one model and returns {id: text}, already masked as
the owning app masks that record everywhere else.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from django.apps import apps

Describer = Callable[[list[str]], dict[str, str]]
_DESCRIBERS: dict[str, Describer] = {}
_KINDS: dict[str, object] = {}  # object type -> a (lazy) label, where the model has no verbose name


def register_kind(object_type: str, label) -> None:
    _KINDS[object_type] = label


def register(object_type: str, describer: Describer) -> None:
    _DESCRIBERS[object_type] = describer


def kind_of(object_type: str) -> str:
    """The record's kind as people say it (the model's verbose name), else the stored label."""
    if object_type in _KINDS:
        return str(_KINDS[object_type])
    try:
        return str(apps.get_model(object_type)._meta.verbose_name)
    except (LookupError, ValueError):
        return object_type


def describe(entries: Iterable) -> None:
    """Set `subject` on each entry: the kind of record and, where its app can say, which one."""
    entries = list(entries)
    ids: dict[str, set[str]] = defaultdict(set)
    for e in entries:
        if e.object_id and e.object_type in _DESCRIBERS:
            ids[e.object_type].add(e.object_id)
    names = {t: _DESCRIBERS[t](sorted(found)) for t, found in ids.items()}
    for e in entries:
        kind = kind_of(e.object_type)
        name = names.get(e.object_type, {}).get(e.object_id)
        e.subject = f"{kind}：{name}" if name else kind
