"""The read replica's effect (tenancy.replica): how many queries of the bureau's dashboard the
PRIMARY still serves, and a teacher's write latency while bureau users hammer the heavy reads,
each with the replica and without it (REPLICA_READS off: everything on the primary), alternated.

`replica_section(database_url, replica_url, quick=...)` builds a small district in a throwaway
database (benchmarks/apiload.build_dataset) on the primary, waits until the standby has replayed
it, points the `replica` alias at the same database on the standby and measures. Run alone with
`manage.py bench_replica` (DATABASE_REPLICA_URL names the standby).
"""
from __future__ import annotations

import datetime as dt
import os
import statistics
import threading
import time
from contextlib import contextmanager

import environ
from django.conf import settings
from django.core.cache import cache
from django.db import connections, router
from django.test.utils import CaptureQueriesContext

from benchmarks import apiload, throwaway
from config.db_router import REPLICA, ReplicaRouter

NAME = "liushou_bench_replica"  # plus a per-run suffix: two runs on one server never drop each other's


def _forget(alias: str) -> None:
    """Drop this thread's connection object of `alias`, so the next use reads its settings anew."""
    try:
        del connections[alias]
    except AttributeError:
        pass


@contextmanager
def _replica_alias(replica_url: str, name: str):
    """The `replica` alias on the standby's copy of database `name`, routed, for the block."""
    cfg = environ.Env.db_url_config(replica_url)
    cfg.update({"NAME": name, "ATOMIC_REQUESTS": False, "CONN_MAX_AGE": 0, "CONN_HEALTH_CHECKS": False,
                "OPTIONS": {**cfg.get("OPTIONS", {}), "connect_timeout": 2}, "TEST": {"MIRROR": "default"}})
    previous = settings.DATABASES.get(REPLICA)
    connections.close_all()
    settings.DATABASES[REPLICA] = cfg
    connections.settings[REPLICA] = connections.configure_settings(
        {"default": settings.DATABASES["default"], REPLICA: cfg})[REPLICA]
    _forget(REPLICA)
    added = not any(isinstance(r, ReplicaRouter) for r in router.routers)
    if added:
        router.routers.append(ReplicaRouter())
    try:
        yield
    finally:
        connections.close_all()
        _forget(REPLICA)
        if added:
            router.routers.pop()
        if previous is None:
            settings.DATABASES.pop(REPLICA, None)
            connections.settings.pop(REPLICA, None)
        else:
            settings.DATABASES[REPLICA] = previous
            connections.settings[REPLICA] = previous


@contextmanager
def _reads(on: bool):
    """Replica routing on or off; scores never cached, so every dashboard really computes them."""
    saved = (getattr(settings, "REPLICA_READS", True), getattr(settings, "COMPLIANCE_SCORE_CACHE_SECONDS", 60))
    settings.REPLICA_READS, settings.COMPLIANCE_SCORE_CACHE_SECONDS = on, 0
    cache.clear()
    try:
        yield
    finally:
        settings.REPLICA_READS, settings.COMPLIANCE_SCORE_CACHE_SECONDS = saved


def _wait_replayed(timeout: float = 120.0) -> None:
    from tenancy.replica import _lsn_int
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_insert_lsn()::text")
        target = _lsn_int(cursor.fetchone()[0])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute("SELECT pg_last_wal_replay_lsn()::text")
            if _lsn_int(cursor.fetchone()[0]) >= target:
                return
        time.sleep(0.2)
    raise RuntimeError("the standby did not replay the benchmark data")


class _Bureau:
    def __init__(self):
        from compliance.models import Assessment
        from submissions.models import ReportType
        from tenancy import selectors
        from tenancy.models import User
        self.user = User.objects.get(username="bench_inspector_0")
        self.school_ids = selectors.school_ids_for_user(self.user)
        self.district_ids = selectors.district_ids_for_user(self.user)
        from tenancy.scoping import tenant_scope
        with tenant_scope(self.school_ids, district_ids=self.district_ids):
            self.assessment = Assessment.objects.select_related("checklist_version").get()
            self.report_type = ReportType.objects.select_related("district").get()

    def dashboard(self) -> None:
        """Ranking, heatmap and matrix, as the dashboard page composes them, in a request's scope."""
        from compliance import selectors as compliance
        from submissions import selectors as submissions
        from tenancy.replica import note_writes, reading_as
        from tenancy.scoping import tenant_scope
        with tenant_scope(self.school_ids, district_ids=self.district_ids), \
                reading_as(self.user.pk, self.school_ids):
            compliance.ranking(self.user, self.assessment)
            compliance.heatmap(self.user, self.assessment)
            submissions.completeness_matrix(user=self.user, report_type=self.report_type)
            note_writes()


def _queries(bureau: _Bureau) -> dict:
    with CaptureQueriesContext(connections["default"]) as primary, \
            CaptureQueriesContext(connections[REPLICA]) as replica:
        bureau.dashboard()
    return {"primary": len(primary), "replica": len(replica)}


class _Teacher:
    def __init__(self, data: dict):
        from tenancy.models import User
        self.entries = []
        for entry in data["teacher"]:
            user = User.objects.filter(memberships__school_id=entry["school"], username__startswith="bench_teacher_")
            self.entries.append((user.get(), entry["school"], entry["children"]))
        self.dates = [dt.date.fromisoformat(d) for d in data["dates"]]

    def write(self, n: int) -> float:
        """One contact, as the API's request would: in the school's scope, writes noted. Seconds."""
        from schools.services.contacts import care_contact_record
        from tenancy.replica import note_writes, reading_as
        from tenancy.scoping import tenant_scope
        user, school_id, children = self.entries[n % len(self.entries)]
        started = time.perf_counter()
        with tenant_scope([school_id]), reading_as(user.pk, [school_id]):
            care_contact_record(actor=user, child_id=children[n % len(children)], kind="talk",
                                happened_on=self.dates[n % len(self.dates)], notes="bench")
            note_writes()
        return time.perf_counter() - started


def _latency_under_load(bureau: _Bureau, teacher: _Teacher, *, readers: int, seconds: float) -> dict:
    stop = threading.Event()
    dashboards = [0]

    def hammer():
        try:
            while not stop.is_set():
                bureau.dashboard()
                dashboards[0] += 1
        finally:
            connections.close_all()

    threads = [threading.Thread(target=hammer, daemon=True) for _ in range(readers)]
    for t in threads:
        t.start()
    times, n, deadline = [], 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        times.append(teacher.write(n))
        n += 1
        time.sleep(0.02)  # a teacher, not a load generator
    stop.set()
    for t in threads:
        t.join()
    ms = sorted(t * 1000 for t in times)
    return {"writes": len(ms), "p50_ms": round(statistics.median(ms), 1),
            "p95_ms": round(ms[max(0, int(len(ms) * 0.95) - 1)], 1), "dashboards": dashboards[0]}


def replica_section(database_url: str, replica_url: str | None, *, quick: bool, name: str = "") -> dict:
    """The replica section of `make bench` (see the module's docstring). `database_url` names the
    primary server the throwaway database is created on (the default connection's); `name` the
    throwaway database (default: NAME with this process's id)."""
    if not replica_url:
        return {"skipped": "no replica configured"}
    schools, children, readers, seconds, rounds = (20, 10, 2, 5.0, 1) if quick else (200, 40, 4, 20.0, 2)
    out: dict = {"schools": schools, "children_per_school": children, "bureau_threads": readers,
                 "seconds_per_phase": seconds}
    with throwaway.throwaway_database(name or f"{NAME}_{os.getpid()}") as name:
        from django.core.management import call_command
        call_command("migrate", verbosity=0, interactive=False)
        data = apiload.build_dataset(schools=schools, children=children, active_schools=min(10, schools),
                                     bureau_users=1)
        with _replica_alias(replica_url, name):
            _wait_replayed()
            bureau, teacher = _Bureau(), _Teacher(data)
            for on in (True, False):  # warm both paths once
                with _reads(on):
                    bureau.dashboard()
            out["dashboard_queries"] = {}
            for label, on in (("with_replica", True), ("without_replica", False)):
                with _reads(on):
                    out["dashboard_queries"][label] = _queries(bureau)
            phases: dict[str, list[dict]] = {"with_replica": [], "without_replica": []}
            # Alternated, so machine noise hits both sides alike.
            for _ in range(rounds):
                for label, on in (("with_replica", True), ("without_replica", False)):
                    with _reads(on):
                        phases[label].append(_latency_under_load(bureau, teacher, readers=readers,
                                                                 seconds=seconds))
            out["teacher_write_under_bureau_load"] = {
                label: {"p50_ms": statistics.median(r["p50_ms"] for r in runs),
                        "p95_ms": statistics.median(r["p95_ms"] for r in runs),
                        "writes": sum(r["writes"] for r in runs), "dashboards": sum(r["dashboards"] for r in runs)}
                for label, runs in phases.items()}
    return out
