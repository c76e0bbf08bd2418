"""Locust users for the API load benchmark (run headless by `manage.py bench`).

BENCH_USERS names a JSON file written by benchmarks.apiload: tokens per role (created directly,
so no login throttle or second factor is in the way), each teacher's assigned children, the
school of each admin, the assessment the bureau ranks and the dates contacts may carry.
Every request sends X-Forwarded-Proto: https, as the TLS-terminating proxy would: production
settings redirect plain HTTP.
"""
from __future__ import annotations

import itertools
import json
import os
import random

from locust import HttpUser, between, events, task

with open(os.environ["BENCH_USERS"]) as _fh:
    DATA = json.load(_fh)
# One line per request (start time, endpoint, milliseconds, status): when the slow ones happen.
_log = open(os.environ["BENCH_REQUEST_LOG"], "w", buffering=1) if os.environ.get("BENCH_REQUEST_LOG") else None


@events.request.add_listener
def _log_request(request_type, name, response_time, response, exception, start_time=None, **_kw):
    if _log is not None:
        status = getattr(response, "status_code", 0) if exception is None else f"error:{type(exception).__name__}"
        _log.write(f"{start_time or 0:.3f}\t{name}\t{response_time:.1f}\t{status}\n")
_counters = {role: itertools.count() for role in ("teacher", "school_admin", "bureau")}
KINDS = ["home_visit", "talk", "guardian_contact", "letter"]


class _Base(HttpUser):
    abstract = True
    role = ""
    # Think time of someone tapping through a phone UI.
    wait_time = between(0.5, 2.0)

    def on_start(self):
        pool = DATA[self.role]
        self.me = pool[next(_counters[self.role]) % len(pool)]
        self.client.headers.update({"Authorization": f"Token {self.me['token']}", "X-Forwarded-Proto": "https",
                                    "Accept": "application/json"})


class Teacher(_Base):
    """Opens the list of their children, then records a contact with one of them (in that order,
    so every visit exercises both endpoints)."""

    role = "teacher"
    weight = 6

    @task
    def list_then_record(self):
        self.client.get("/api/v1/children/", name="GET /api/v1/children/")
        self.client.post("/api/v1/care-contacts/", name="POST /api/v1/care-contacts/", json={
            "child": random.choice(self.me["children"]), "kind": random.choice(KINDS),
            "happened_on": random.choice(DATA["dates"]), "notes": "bench"})


class SchoolAdmin(_Base):
    """Opens the school dashboard."""

    role = "school_admin"
    weight = 3

    @task
    def dashboard(self):
        self.client.get(f"/api/v1/school-dashboards/{self.me['school']}/", name="GET /api/v1/school-dashboards/{id}/")


class Bureau(_Base):
    """Opens the district ranking (live scores of every school)."""

    role = "bureau"
    weight = 1

    @task
    def ranking(self):
        self.client.get(f"/api/v1/compliance/scores/?assessment={DATA['assessment']}",
                        name="GET /api/v1/compliance/scores/")
