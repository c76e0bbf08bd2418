"""Is this child already in the archive? The one rule the form, the API and the import share.

- The same national ID number anywhere in the district is the same child: refused. In another
  school the child is visible to nobody here (row-level security), so the check widens to the
  district's schools with a named system_scope, asks only whether such a row exists, and tells the
  user no more than that (the message points to the transfer).
- The same name and birth date in the school is probably the same child: a warning the user must
  confirm (another child can share both).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tenancy.models import School
from tenancy.scoping import system_scope

from .. import crypto
from ..models import Child

# Said of a child registered at another school: no more than that, and what to do instead.
ID_NUMBER_ELSEWHERE = gettext_lazy(
    "This ID number is already registered at another school of the district. If the child moved here, "
    "that school records the transfer out first (status: transferred out); then add the child here.")

# A child who left another school (transferred out, graduated) may be registered here.
_STILL_THERE = (Child.Status.ACTIVE, Child.Status.NO_LONGER)


def id_numbers_in_school(school: School, digests: Iterable[str], *, exclude_pk: int | None = None) -> set[str]:
    """Which of these ID-number hashes the school's archive already holds (any status)."""
    wanted = {d for d in digests if d}
    if not wanted:
        return set()
    rows = Child.objects.filter(school_id=school.pk, id_number_hash__in=wanted)
    if exclude_pk is not None:
        rows = rows.exclude(pk=exclude_pk)
    return set(rows.values_list("id_number_hash", flat=True))


def id_numbers_elsewhere_in_district(school: School, digests: Iterable[str]) -> set[str]:
    """Which of these ID-number hashes another school of the district holds for a child still
    there. Existence only: nothing else about that child leaves the query."""
    wanted = {d for d in digests if d}
    if not wanted:
        return set()
    others = list(School.objects.filter(district_id=school.district_id).exclude(pk=school.pk)
                  .values_list("id", flat=True))
    if not others:
        return set()
    with system_scope("a new child's ID number is checked for existence in the district's other schools",
                      school_ids=others):
        return set(Child.objects.filter(school_id__in=others, id_number_hash__in=wanted, status__in=_STILL_THERE)
                   .values_list("id_number_hash", flat=True).distinct())


def same_name_and_birth(school: School, pairs: Iterable[tuple[str, dt.date | None]], *,
                        exclude_pk: int | None = None) -> set[tuple[str, dt.date]]:
    """Which (name, birth date) pairs a child of the school already has."""
    wanted = {(name.strip(), born) for name, born in pairs if name and name.strip() and born}
    if not wanted:
        return set()
    rows = Child.objects.filter(school_id=school.pk, name__in={n for n, _ in wanted},
                                birth_date__in={b for _, b in wanted})
    if exclude_pk is not None:
        rows = rows.exclude(pk=exclude_pk)
    return set(rows.values_list("name", "birth_date")) & wanted


@dataclass(frozen=True)
class RowIssue:
    row_number: int
    column: str  # the field name, as in the commit's row errors (column_title() for a preview)
    reason: str

    def column_title(self) -> str:
        """The column's title as the template writes it, for a preview shown next to the file."""
        from ..importing import COLUMN_BY_FIELD

        column = COLUMN_BY_FIELD.get(self.column)
        return column.title if column else self.column


def import_duplicates(school: School, rows) -> tuple[list[RowIssue], list[RowIssue]]:
    """The rules above over an import preview's rows (schools.importing.ChildRow), in batches:
    (errors, warnings). Errors: an ID number the school or the district already holds, or one
    repeated in the file. Warnings (need the user's confirmation): a name and birth date the
    school already has, or one repeated in the file."""
    digests = {row.row_number: crypto.identity_hash(crypto.normalise_id_number(row.id_number or ""))
               for row in rows}
    here = id_numbers_in_school(school, digests.values())
    elsewhere = id_numbers_elsewhere_in_district(school, set(digests.values()) - here)
    pairs = same_name_and_birth(school, [(row.name, row.birth_date) for row in rows])
    errors, warnings = [], []
    seen_ids: dict[str, int] = {}
    seen_pairs: dict[tuple, int] = {}
    for row in rows:
        digest = digests[row.row_number]
        if digest in here:
            errors.append(RowIssue(row.row_number, "id_number", _("A child with this ID number is already in the archive.")))
        elif digest in elsewhere:
            errors.append(RowIssue(row.row_number, "id_number", str(ID_NUMBER_ELSEWHERE)))
        elif digest and digest in seen_ids:
            errors.append(RowIssue(row.row_number, "id_number", _("The same ID number is also on row %(row)s.")
                                   % {"row": seen_ids[digest]}))
        if digest:
            seen_ids.setdefault(digest, row.row_number)
        pair = ((row.name or "").strip(), row.birth_date)
        if not pair[0] or not pair[1]:
            continue
        if pair in pairs:
            warnings.append(RowIssue(row.row_number, "name", _(
                "%(name)s, born on %(date)s, is already in the archive.") % {"name": pair[0],
                                                                             "date": pair[1].isoformat()}))
        elif pair in seen_pairs:
            warnings.append(RowIssue(row.row_number, "name", _(
                "The same name and birth date are also on row %(row)s.") % {"row": seen_pairs[pair]}))
        seen_pairs.setdefault(pair, row.row_number)
    return errors, warnings
