"""The bureau's timeliness matrix: schools × periods of one report type, with its rates, in a
constant number of queries (read through submissions.selectors)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tenancy import tables
from tenancy.models import School
from tenancy.replica import replica_reads

from .calendar import school_open_during
from .models import Period, ReportType, Status, Submission, Timeliness
from .oversight import oversight_school_q


class Cell:
    ON_TIME = "on_time"
    LATE = "late"
    MISSING = "missing"
    NOT_DUE = "not_due"
    NOT_EXPECTED = "not_expected"  # not assigned, or the school was not open during the period
    # Sent, and approved by the village school's centre school: waiting for the bureau's decision.
    APPROVED = "approved"


# Cells that count as sent (the reporting rate's numerator).
SENT_CELLS = (Cell.ON_TIME, Cell.LATE, Cell.APPROVED)


# What a cell shows: a symbol (the colour is never the only sign) and its words.
CELL_LABELS = {
    Cell.ON_TIME: ("✓", gettext_lazy("On time")),
    Cell.LATE: ("!", gettext_lazy("Late")),
    Cell.APPROVED: ("◎", gettext_lazy("Approved by the centre school, waiting for the bureau")),
    Cell.MISSING: ("✗", gettext_lazy("Missing")),
    Cell.NOT_DUE: ("…", gettext_lazy("Not due")),
    Cell.NOT_EXPECTED: ("", gettext_lazy("Not expected")),
}


@dataclass
class MatrixCell:
    status: str
    submission_id: int | None = None
    submission_status: str = ""
    timeliness: str = ""  # an approved cell is still on time or late


@dataclass
class Rates:
    expected: int = 0
    submitted: int = 0  # every sent cell, the approved ones included
    on_time: int = 0
    approved: int = 0  # of those sent, approved by the centre school and waiting for the bureau

    @property
    def reporting_rate(self) -> float | None:
        return round(self.submitted / self.expected, 4) if self.expected else None

    @property
    def on_time_rate(self) -> float | None:
        return round(self.on_time / self.expected, 4) if self.expected else None

    @property
    def approved_rate(self) -> float | None:
        return round(self.approved / self.expected, 4) if self.expected else None

    def add(self, status: str, timeliness: str = "") -> None:
        if status in (*SENT_CELLS, Cell.MISSING):
            self.expected += 1
        if status in SENT_CELLS:
            self.submitted += 1
        if status == Cell.ON_TIME or (status == Cell.APPROVED and timeliness == Timeliness.ON_TIME):
            self.on_time += 1
        if status == Cell.APPROVED:
            self.approved += 1

    def merge(self, other: Rates) -> None:
        self.expected += other.expected
        self.submitted += other.submitted
        self.on_time += other.on_time
        self.approved += other.approved


@dataclass
class MatrixRow:
    school: School
    cells: list[MatrixCell]
    rates: Rates
    township_id: int | None = None  # set by matrix_table
    township: str = ""


@dataclass
class Matrix:
    report_type: ReportType
    today: date
    periods: list[Period]
    rows: list[MatrixRow]
    rates: Rates
    period_rates: list[Rates] = field(default_factory=list)


def completeness_matrix(*, user, report_type: ReportType, today: date | None = None) -> Matrix:
    """Schools × periods for one report type; each cell on time / late / missing / not due.

    Expected (DHIS2): an assigned school, for periods it was open during and that are due (or
    already submitted). Reporting rate = submitted ÷ expected; on-time rate = on time ÷ expected.
    A constant number of queries whatever the size (pinned by the tests).
    """
    today = today or timezone.localdate()
    school_q = oversight_school_q(user, report_type.district)
    if school_q is None:
        raise PermissionDenied(_("You may not see this district's reporting."))
    with replica_reads(reason="completeness matrix"):
        periods = list(Period.objects.filter(report_type=report_type).order_by("seq"))
        schools = list(report_type.schools.filter(school_q).order_by("path"))
        found = {
            (school_id, period_id): (sub_id, status, timeliness)
            for sub_id, school_id, period_id, status, timeliness in Submission.objects.filter(
                report_type=report_type, school_id__in=[s.id for s in schools]
            ).values_list("id", "school_id", "period_id", "status", "timeliness")
        }
    total = Rates()
    per_period = [Rates() for _p in periods]
    rows = []
    for school in schools:
        rates = Rates()
        cells = []
        for i, period in enumerate(periods):
            sub_id, status, timeliness = found.get((school.id, period.id), (None, "", ""))
            if status == Status.APPROVED:
                cell = Cell.APPROVED
            elif timeliness == Timeliness.ON_TIME:
                cell = Cell.ON_TIME
            elif timeliness == Timeliness.LATE:
                cell = Cell.LATE
            elif not school_open_during(school.opened_on, school.closed_on, period.start_on, period.end_on):
                cell = Cell.NOT_EXPECTED
            elif today > period.due_on:
                cell = Cell.MISSING
            else:
                cell = Cell.NOT_DUE
            cells.append(MatrixCell(status=cell, submission_id=sub_id, submission_status=status,
                                    timeliness=timeliness))
            rates.add(cell, timeliness)
            total.add(cell, timeliness)
            per_period[i].add(cell, timeliness)
        rows.append(MatrixRow(school=school, cells=cells, rates=rates))
    return Matrix(report_type=report_type, today=today, periods=periods, rows=rows, rates=total,
                  period_rates=per_period)


# A period column sorts the schools by how their report stands, the ones needing action first.
CELL_ORDER = {Cell.MISSING: 0, Cell.LATE: 1, Cell.APPROVED: 2, Cell.NOT_DUE: 3, Cell.ON_TIME: 4,
              Cell.NOT_EXPECTED: 5}


def matrix_columns(matrix: Matrix) -> list[str]:
    return ["school", "township", *[f"p{p.seq}" for p in matrix.periods], "reporting", "on_time", "approved"]


def matrix_table(*, user, report_type: ReportType, params, today: date | None = None) -> dict:
    """The reporting matrix of the bureau's page, its XLSX export and its print view: the schools of
    one township if `params` asks (GET `township`), ordered by any column (GET `sort`: school,
    township, a period "p<seq>", reporting, on_time, approved; "-" for descending). Bad values fall back to
    every school in tree order, with `errors`. The rates of the shown rows are totalled again."""
    matrix = completeness_matrix(user=user, report_type=report_type, today=today)
    townships, township_of = tables.townships_of(user, [row.school for row in matrix.rows])
    names = {t.id: t.name for t in townships}
    for row in matrix.rows:
        row.township_id = township_of[row.school.id]
        row.township = names.get(row.township_id, "")
    columns = matrix_columns(matrix)
    query = tables.parse_table_query(params, columns=columns, default_sort="school", townships=townships)
    # Schools sort in the tree's order (a centre, then its village schools), as everywhere else.
    keys = {"school": lambda r: r.school.path, "township": lambda r: r.township,
            "reporting": lambda r: r.rates.reporting_rate, "on_time": lambda r: r.rates.on_time_rate,
            "approved": lambda r: r.rates.approved}
    for i, period in enumerate(matrix.periods):
        keys[f"p{period.seq}"] = lambda r, i=i: CELL_ORDER[r.cells[i].status]
    matrix.rows = tables.filter_sort(matrix.rows, query, township_of=lambda r: r.township_id, keys=keys,
                                     tie=lambda r: r.school.path)
    total, per_period = Rates(), [Rates() for _p in matrix.periods]
    for row in matrix.rows:
        for i, cell in enumerate(row.cells):
            total.add(cell.status, cell.timeliness)
            per_period[i].add(cell.status, cell.timeliness)
    matrix.rates, matrix.period_rates = total, per_period
    return {"matrix": matrix, "townships": townships, "query": query, "columns": columns}
