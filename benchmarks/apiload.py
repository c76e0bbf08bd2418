"""The API under load, the scoped-vs-superuser list and the RLS overhead, in one throwaway database.

1. `build_dataset`: a district of synthetic schools (benchmarks.benchdata: children, a semester
   of contacts, activities, evidence rows, submissions) plus users with memberships and DRF
   tokens created directly: teachers holding their school's proxy assignments, school admins,
   bureau inspectors, and one superuser for the comparison list.
2. `serve` + `run_locust`: gunicorn with PRODUCTION settings on 127.0.0.1 against that database,
   driven by Locust headless (benchmarks/locustfile.py) for a bounded time.
3. `scoped_vs_superuser`: the same page of a school's contacts, as its school admin (scope,
   guardian, RLS) and as a superuser through an unscoped copy of the view (no django-scopes, no
   guardian, RLS switched off), in this process, both through the same middleware stack.
4. `rls_overhead`: the same scoped queries with the policies on and off.

Switching RLS off is done as the tables' owner (the owner role, benchmarks/throwaway.py), and only
here: the database is dropped afterwards. The queries themselves run as the runtime role.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from django.db import connection
from django.db.models import Count

from benchmarks import throwaway
from config.db_roles import as_owner

ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------- dataset
def build_dataset(*, schools: int, children: int, active_schools: int, bureau_users: int = 3) -> dict:
    """Fill the (throwaway, migrated) database; return what the Locust users need."""
    from benchmarks import benchdata
    from compliance import services as compliance_services
    from schools import selectors as school_selectors
    from schools import services as school_services
    from schools.models import ProxyAssignment, Semester
    from tenancy import services as tenancy_services
    from tenancy.models import ApiToken, District, School, User
    from tenancy.roles import Role
    from tenancy.scoping import district_scope, tenant_scope

    today = dt.date.today()
    district = District.objects.create(name="基准测试教育局", code="bench-api")
    # A semester around today: contacts may not be in the future and must fall in a semester.
    with district_scope(district):
        semester = Semester.objects.create(district=district, name="基准学期", start=today - dt.timedelta(days=80),
                                           end=today + dt.timedelta(days=60))
    filler = tenancy_services.user_create(username="bench_filler", password=None)
    heads, villages = benchdata.create_schools(district=district, centres=max(1, schools // 10),
                                               villages_per_centre=9)
    ids = [s.id for s in heads] + [s.id for s in villages]
    rt = benchdata.create_report_type(district=district, semester=semester)
    with tenant_scope(ids):
        counts = benchdata.generate_records(school_ids=ids, semester=semester, user=filler, children=children,
                                            report_type=rt)
    version = compliance_services.checklist_load_default(district=district)
    assessment = compliance_services.assessment_create(district=district, checklist_version=version,
                                                       title="基准", semester=semester)
    data: dict = {"teacher": [], "school_admin": [], "bureau": [], "assessment": assessment.id,
                  "dates": [(today - dt.timedelta(days=d)).isoformat() for d in range(0, 30)]}
    active = list(School.objects.filter(id__in=ids).order_by("id")[:active_schools])
    for n, school in enumerate(active):
        teacher = tenancy_services.user_create(username=f"bench_teacher_{n}", password=None)
        admin = tenancy_services.user_create(username=f"bench_admin_{n}", password=None)
        tenancy_services.membership_grant(user=teacher, role=Role.TEACHER, school=school)
        tenancy_services.membership_grant(user=admin, role=Role.SCHOOL_ADMIN, school=school)
        with tenant_scope([school.id]):
            # The generator gave every assignment to one filler user: hand this school's to its teacher.
            ProxyAssignment.objects.filter(school=school).update(proxy_parent=teacher)
            school_services.proxy_assignments_sync(school=school)
            assigned = sorted(school_selectors.assigned_child_ids(teacher))
        if assigned:
            data["teacher"].append({"token": ApiToken.objects.create(user=teacher)[1], "school": school.id,
                                    "children": assigned})
        data["school_admin"].append({"token": ApiToken.objects.create(user=admin)[1], "school": school.id,
                                     "user": admin.id})
    for n in range(bureau_users):
        inspector = tenancy_services.user_create(username=f"bench_inspector_{n}", password=None)
        tenancy_services.membership_grant(user=inspector, role=Role.BUREAU_INSPECTOR, district=district)
        data["bureau"].append({"token": ApiToken.objects.create(user=inspector)[1]})
    superuser = User.objects.create(username="bench_superuser", is_superuser=True, is_staff=True)
    data["superuser"] = {"token": ApiToken.objects.create(user=superuser)[1], "user": superuser.id}
    data["school_ids"] = ids
    data["rows"] = counts
    throwaway.analyze()
    return data


# ---------------------------------------------------------------- gunicorn
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shared_cache_url() -> str | None:
    """The Redis that production's CACHE_URL would name (docker-compose.yml): BENCH_CACHE_URL, else
    CACHE_URL or the broker's server when it is Redis, if it answers. None: per-process cache."""
    from urllib.parse import urlsplit

    candidates = [os.environ.get("BENCH_CACHE_URL"), os.environ.get("CACHE_URL"), os.environ.get("CELERY_BROKER_URL")]
    for url in filter(None, candidates):
        parts = urlsplit(url)
        if parts.scheme != "redis":
            continue
        try:
            socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=1).close()
        except OSError:
            continue
        return url if url == os.environ.get("BENCH_CACHE_URL") else f"redis://{parts.netloc}/2"
    return None


def production_env(database_url: str, workdir: Path, workers: int, *, extra: dict | None = None) -> dict[str, str]:
    """What production settings require (README, Configuration), with throwaway values. Like the
    deployment (docker-compose.yml), the workers share a Redis cache when one is reachable: with a
    per-process cache every worker computes the district ranking itself."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "DATABASE_", "CELERY_", "CACHE_", "GUNICORN_"))}
    (workdir / "broker").mkdir(parents=True, exist_ok=True)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=database_url,
        # Nothing here consumes tasks: the filesystem transport keeps any enqueued ones in a temp folder.
        CELERY_BROKER_URL="filesystem://",
        CELERY_FILESYSTEM_BROKER_DIR=str(workdir / "broker"),
        FIELD_ENCRYPTION_KEYS=secrets.token_urlsafe(32),
        DJANGO_MEDIA_ROOT=str(workdir / "media"),
        LOG_LEVEL="WARNING",
        WEB_CONCURRENCY=str(workers),
        PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "platform")]),
        # A fresh database's ids start at 1 again: keep concurrent runs' score-cache keys apart.
        CACHE_KEY_PREFIX=f"bench{os.getpid()}_{secrets.token_hex(4)}",
    )
    cache_url = shared_cache_url()
    if cache_url:
        env["CACHE_URL"] = cache_url
    env.update(extra or {})
    return env


# Worker pid, start time, path, status and microseconds: which worker was slow, and when.
ACCESS_LOG_FORMAT = '%(p)s %(t)s "%(m)s %(U)s" %(s)s %(D)s'


@contextmanager
def serve(database_url: str, workdir: Path, workers: int, *, extra_env: dict | None = None):
    """gunicorn (deploy/gunicorn.conf.py, production settings) on 127.0.0.1; yields its base URL."""
    port = _free_port()
    env = production_env(database_url, workdir, workers, extra=extra_env)
    log = open(workdir / "gunicorn.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "deploy/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
         "--access-logfile", str(workdir / "access.log"), "--access-logformat", ACCESS_LOG_FORMAT,
         "config.wsgi:application"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({proc.returncode}):\n{_tail(workdir / 'gunicorn.log')}")
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=5) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer /healthz:\n{_tail(workdir / 'gunicorn.log')}")
            time.sleep(0.5)
        yield base
    finally:
        _stop(proc)
        log.close()


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM the process group we started (gunicorn and its workers), SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass


def _tail(path: Path, n: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except OSError:
        return ""


# ---------------------------------------------------------------- Locust
def _num(value: str):
    try:
        return round(float(value), 2)
    except (TypeError, ValueError):
        return None


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 1)


def timeline(request_log: Path, bucket_s: int = 10) -> list[dict]:
    """Requests per `bucket_s` seconds of the run from Locust's per-request log: when the slow
    ones happen (at the start only, periodically, throughout)."""
    rows = []
    with open(request_log) as fh:
        for line in fh:
            start, _name, ms, _status = line.rstrip("\n").split("\t")
            rows.append((float(start), float(ms)))
    if not rows:
        return []
    t0 = min(r[0] for r in rows)
    buckets: dict[int, list[float]] = {}
    for start, ms in rows:
        buckets.setdefault(int((start - t0) // bucket_s) * bucket_s, []).append(ms)
    return [{"from_s": b, "requests": len(v), "p50_ms": _percentile(v, 0.5), "p99_ms": _percentile(v, 0.99),
             "max_ms": round(max(v), 1), "over_1s": sum(ms > 1000 for ms in v)} for b, v in sorted(buckets.items())]


def run_locust(base: str, data: dict, workdir: Path, *, users: int, seconds: int, tag: str = "locust") -> dict:
    users_file = workdir / "users.json"
    users_file.write_text(json.dumps(data))
    prefix = workdir / tag
    request_log = workdir / f"{tag}_requests.tsv"
    env = dict(os.environ, BENCH_USERS=str(users_file), BENCH_REQUEST_LOG=str(request_log))
    cmd = [sys.executable, "-m", "locust", "-f", str(ROOT / "benchmarks" / "locustfile.py"), "--headless",
           "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--host", base,
           "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "5"]
    t = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=seconds + 120)
    wall = time.monotonic() - t
    stats_path = Path(f"{prefix}_stats.csv")
    if not stats_path.exists():  # exit code 1 only means "some requests failed"; no CSV means it broke
        raise RuntimeError(f"locust failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    endpoints = {}
    with open(stats_path, newline="") as fh:
        for row in csv.DictReader(fh):
            name = "all" if row["Name"] == "Aggregated" else row["Name"]
            endpoints[name] = {
                "requests": int(row["Request Count"]), "errors": int(row["Failure Count"]),
                "req_per_s": _num(row["Requests/s"]), "p50_ms": _num(row["50%"]), "p95_ms": _num(row["95%"]),
                "p99_ms": _num(row["99%"]), "max_ms": _num(row["Max Response Time"]),
            }
    failures = []
    failures_path = Path(f"{prefix}_failures.csv")
    if failures_path.exists():
        with open(failures_path, newline="") as fh:
            failures = [{"endpoint": f"{r['Method']} {r['Name']}", "error": r["Error"][:200],
                         "count": int(r["Occurrences"])} for r in csv.DictReader(fh)][:10]
    # Locust warns when its own process saturates a core: its timings are then its own queueing.
    locust_cpu_warning = "CPU usage above" in proc.stderr
    return {"users": users, "seconds": seconds, "wall_s": round(wall, 1), "endpoints": endpoints,
            "failures": failures, "timeline": timeline(request_log) if request_log.exists() else [],
            "locust_cpu_warning": locust_cpu_warning}


# ---------------------------------------------------------------- RLS on/off (throwaway database only)
def rls_tables() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                       "WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relrowsecurity ORDER BY 1")
        return [r[0] for r in cursor.fetchall()]


@contextmanager
def rls_disabled(tables: list[str]):
    """Switch the policies off for the block and back on (ENABLE + FORCE) afterwards. As the
    tables' owner (the runtime role cannot: that is the point of it), in autocommit: never inside
    a request or a tenant scope. The block itself runs as the runtime role."""
    quote = connection.ops.quote_name
    with as_owner(), connection.cursor() as cursor:
        for t in tables:
            cursor.execute(f"ALTER TABLE {quote(t)} NO FORCE ROW LEVEL SECURITY")
            cursor.execute(f"ALTER TABLE {quote(t)} DISABLE ROW LEVEL SECURITY")
    try:
        yield
    finally:
        with as_owner(), connection.cursor() as cursor:
            for t in tables:
                cursor.execute(f"ALTER TABLE {quote(t)} ENABLE ROW LEVEL SECURITY")
                cursor.execute(f"ALTER TABLE {quote(t)} FORCE ROW LEVEL SECURITY")


def _median_ms(fn, n: int) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def _abba(fn_on, fn_off, n: int) -> tuple[float, float]:
    """on, off, off, on: drift of a noisy machine over the run hits both sides alike."""
    tables = rls_tables()
    half = max(1, n // 2)
    fn_on(), fn_on()  # warm plans and caches
    on = [_median_ms(fn_on, half)]
    with rls_disabled(tables):
        fn_off()  # warm again: switching roles opened a new connection
        off = [_median_ms(fn_off, half), _median_ms(fn_off, half)]
    fn_on()  # likewise
    on.append(_median_ms(fn_on, half))
    return statistics.mean(on), statistics.mean(off)


def rls_overhead(data: dict, n: int) -> dict:
    """The same scoped queries with and without the policies (django-scopes stays on in both)."""
    from schools.models import CareContact
    from tenancy.scoping import tenant_scope

    sid = data["school_admin"][0]["school"]
    all_ids = data["school_ids"]

    def one_school():
        with tenant_scope([sid]):
            qs = (CareContact.objects.filter(school_id=sid).select_related("made_by")
                  .annotate(evidence_count=Count("evidence")).order_by("-happened_on", "-id"))
            qs.count(), list(qs[:50])

    def district():
        with tenant_scope(all_ids):
            list(CareContact.objects.values("school_id", "kind").annotate(n=Count("id")))

    from django.test import override_settings

    out = {}
    for name, fn in (("school_contacts_page", one_school), ("district_contacts_per_school", district)):
        with override_settings(DEBUG=False):  # no query logging on either side
            on, off = _abba(fn, fn, n)
        out[name] = {"with_rls_ms": round(on, 2), "without_rls_ms": round(off, 2), "ratio": round(on / off, 3)}
    out["tables"] = len(rls_tables())
    out["ratio"] = max(v["ratio"] for k, v in out.items() if isinstance(v, dict))
    return out


# ---------------------------------------------------------------- scoped list vs superuser list
def _unscoped_contact_list_view():
    """The care-contact list without tenancy: same serializer, pagination and authentication, but
    no django-scopes, no guardian, no scope middleware. Built here, never routed."""
    from django_scopes import scopes_disabled
    from rest_framework import generics
    from rest_framework.permissions import IsAdminUser

    from api.schools.contacts import CareContactSerializer
    from schools.models import CareContact
    from tenancy.tokens import TokenAuthentication

    class UnscopedList(generics.ListAPIView):
        serializer_class = CareContactSerializer
        authentication_classes = [TokenAuthentication]
        permission_classes = [IsAdminUser]

        def get_queryset(self):
            return (CareContact.objects.filter(school_id=int(self.request.query_params["school"]))
                    .select_related("made_by").annotate(evidence_count=Count("evidence"))
                    .order_by("-happened_on", "-id"))

        def list(self, request, *args, **kwargs):
            with scopes_disabled():
                return super().list(request, *args, **kwargs)

    return UnscopedList.as_view()


def scoped_vs_superuser(data: dict, n: int) -> dict:
    """GET /api/v1/care-contacts/ as a school's admin vs the same page as a superuser through the
    unscoped view, both through the same middleware stack (Django's test client, DEBUG off), so
    the difference is the scope, guardian and RLS."""
    import types

    from django.test import Client, override_settings
    from django.urls import include, path

    admin = data["school_admin"][0]
    sid = admin["school"]
    # A URL configuration for this measurement only: the project's URLs plus the unscoped view.
    urls = types.ModuleType("benchmarks_unscoped_urls")  # hashable, as Django's resolver cache needs
    urls.urlpatterns = [path("bench-unscoped/care-contacts/", _unscoped_contact_list_view()),
                        path("", include("config.urls"))]
    scoped_client = Client(HTTP_AUTHORIZATION=f"Token {admin['token']}", HTTP_ACCEPT="application/json")
    super_client = Client(HTTP_AUTHORIZATION=f"Token {data['superuser']['token']}", HTTP_ACCEPT="application/json")
    results: dict = {}

    def scoped():
        resp = scoped_client.get("/api/v1/care-contacts/")
        assert resp.status_code == 200, resp.status_code
        results["scoped_count"] = resp.json()["count"]

    def superuser():
        resp = super_client.get("/bench-unscoped/care-contacts/", {"school": sid})
        assert resp.status_code == 200, resp.status_code
        results["superuser_count"] = resp.json()["count"]

    with override_settings(ALLOWED_HOSTS=["testserver"], ROOT_URLCONF=urls, DEBUG=False):
        scoped_ms, super_ms = _abba(scoped, superuser, n)
    if results["scoped_count"] != results["superuser_count"]:
        raise RuntimeError(f"the two lists differ: {results}")  # a ratio of different lists means nothing
    return {"endpoint": "GET /api/v1/care-contacts/ (one school's page of 50)", "rows": results["scoped_count"],
            "scoped_ms": round(scoped_ms, 2), "superuser_ms": round(super_ms, 2),
            "ratio": round(scoped_ms / super_ms, 3)}
