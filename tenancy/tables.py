"""Filtering a list of schools by township and sorting it by a column: the one rule the overview
tables share (the compliance ranking, the reporting matrix), for their page, their XLSX export and
their print view alike.

A township is the topmost school of a subtree the user sees: for the bureau each centre school (and
each school with no parent), for a township admin their own centre. A school belongs to the
township whose path it lies under. Query parameters are data: an unknown township or column is
ignored (the whole list, the default order) and reported in `errors` for the page to show.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.utils.http import urlencode
from django.utils.translation import gettext as _

from . import selectors
from .models import School

Row = TypeVar("Row")


@dataclass(frozen=True)
class Township:
    id: int
    name: str


@dataclass(frozen=True)
class TableQuery:
    township: int | None = None
    sort: str = ""
    descending: bool = False
    errors: tuple[str, ...] = field(default=())

    def params(self, **changes: Any) -> dict[str, str]:
        """The query as GET parameters (for links to the export and the print view, or a header)."""
        township = changes.get("township", self.township)
        sort = changes.get("sort", self.sort)
        descending = changes.get("descending", self.descending)
        out = {"sort": ("-" if descending else "") + sort} if sort else {}
        if township:
            out["township"] = str(township)
        return out


def townships_of(user, schools: Iterable[School]) -> tuple[list[Township], dict[int, int]]:
    """The townships of `schools` as the user sees them, and each school's township id."""
    visible = set(selectors.school_ids_for_user(user))
    township_of: dict[int, int] = {}
    for school in schools:
        ids = [int(p) for p in school.path.strip("/").split("/") if p]
        township_of[school.id] = next((i for i in ids if i in visible), school.id)
    roots = School.objects.filter(id__in=set(township_of.values())).order_by("path")
    return [Township(r.id, r.township or r.name) for r in roots], township_of


def parse_table_query(params: Mapping[str, str], *, columns: Sequence[str], default_sort: str,
                      townships: Iterable[Township]) -> TableQuery:
    """Validate `township` (one of `townships`) and `sort` (a column key, "-" in front for
    descending); anything else falls back to the default with a message."""
    errors = []
    township = None
    raw_township = (params.get("township") or "").strip()
    if raw_township:
        known = {str(t.id): t.id for t in townships}
        if raw_township in known:
            township = known[raw_township]
        else:
            errors.append(_("Unknown township: showing all townships."))
    raw_sort = (params.get("sort") or "").strip()
    descending = raw_sort.startswith("-")
    sort = raw_sort.lstrip("-")
    if not sort:
        sort, descending = default_sort, False
    elif sort not in columns:
        errors.append(_("Unknown sort column: showing the default order."))
        sort, descending = default_sort, False
    return TableQuery(township=township, sort=sort, descending=descending, errors=tuple(errors))


def filter_sort(rows: Iterable[Row], query: TableQuery, *, township_of: Callable[[Row], int],
                keys: Mapping[str, Callable[[Row], Any]], tie: Callable[[Row], Any]) -> list[Row]:
    """The rows of the query's township, ordered by its column; a row without a value (None)
    goes last whichever the direction, ties in the `tie` order."""
    chosen = [r for r in rows if query.township is None or township_of(r) == query.township]
    chosen.sort(key=tie)
    key = keys[query.sort]
    present = [r for r in chosen if key(r) is not None]
    missing = [r for r in chosen if key(r) is None]
    present.sort(key=key, reverse=query.descending)  # stable: ties keep the `tie` order
    return present + missing


def sort_headers(query: TableQuery, columns: Sequence[dict], base: Mapping[str, str] | None = None) -> list[dict]:
    """The table's column headers as links: each sorts by its column, the current one the other way
    round. `columns` are dicts with "key" and "label" (and anything the template wants); `base`
    holds the page's other GET parameters (district, report type)."""
    out = []
    for col in columns:
        current = query.sort == col["key"]
        params = {**(base or {}), **query.params(sort=col["key"], descending=current and not query.descending)}
        out.append({**col, "params": urlencode(params),
                    "aria": ("descending" if query.descending else "ascending") if current else "none",
                    "arrow": ("▼" if query.descending else "▲") if current else ""})
    return out
