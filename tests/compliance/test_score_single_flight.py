"""compliance.scoring._single_flight: one computation per cold key across processes (the lock
lives in the cache), the others take its result; a lock left without a result does not hang."""
from __future__ import annotations

import threading

import pytest
from django.core.cache import cache

from compliance import scoring

KEY = "compliance:scores:test-single-flight:1"


@pytest.fixture(autouse=True)
def _clean():
    cache.delete_many([KEY, f"{KEY}:computing", f"{KEY}:last"])
    yield
    cache.delete_many([KEY, f"{KEY}:computing", f"{KEY}:last"])


def _builder(calls):
    def build():
        calls.append(1)
        return {"order": [1]}
    return build


def test_first_miss_computes_and_releases_the_lock():
    calls = []
    assert scoring._single_flight(KEY, _builder(calls)) == {"order": [1]}
    assert calls == [1] and cache.get(KEY) == {"order": [1]} and cache.get(f"{KEY}:computing") is None


def test_a_miss_while_another_computes_waits_for_its_result():
    cache.add(f"{KEY}:computing", 1, 30)  # another worker is computing
    timer = threading.Timer(0.3, lambda: cache.set(KEY, {"order": [2]}, 60))
    timer.start()
    calls = []
    try:
        assert scoring._single_flight(KEY, _builder(calls)) == {"order": [2]}
    finally:
        timer.cancel()
    assert calls == []


def test_a_lock_released_without_result_computes_here():
    cache.add(f"{KEY}:computing", 1, 30)
    timer = threading.Timer(0.2, lambda: cache.delete(f"{KEY}:computing"))  # that worker failed
    timer.start()
    calls = []
    assert scoring._single_flight(KEY, _builder(calls)) == {"order": [1]}
    assert calls == [1]


def test_a_miss_while_another_computes_answers_with_the_last_result_of_that_revision():
    cache.set(f"{KEY}:last", {"order": [0]}, 600)  # computed before the short-lived copy expired
    cache.add(f"{KEY}:computing", 1, 30)
    calls = []
    assert scoring._single_flight(KEY, _builder(calls)) == {"order": [0]}
    assert calls == []


def test_the_computing_request_keeps_a_longer_lived_copy():
    scoring._single_flight(KEY, _builder([]))
    cache.delete(KEY)  # the short window ends
    assert cache.get(f"{KEY}:last") == {"order": [1]}
