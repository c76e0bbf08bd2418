"""The periodic-task registry (jobs/beat.py) and its one rule for entries an operator changed."""
from __future__ import annotations

import pytest
from django_celery_beat.models import PeriodicTask, PeriodicTasks

from jobs import beat

NAME = "submissions: open periods"


def _marker():
    return PeriodicTasks.last_change()


@pytest.mark.django_db
def test_every_app_registers_its_entries_once():
    beat.sync_periodic_tasks()
    names = set(PeriodicTask.objects.filter(name__in=beat.periodic_tasks()).values_list("name", flat=True))
    assert names == set(beat.periodic_tasks())
    assert {"jobs: publish the outbox", "jobs: fail abandoned jobs", "compliance: nightly snapshots",
            "submissions: reminders"} <= names


@pytest.mark.django_db
def test_unchanged_entries_are_not_saved_again():
    beat.sync_periodic_tasks()
    before = _marker()
    beat.sync_periodic_tasks()
    assert _marker() == before


@pytest.mark.django_db
def test_a_disabled_entry_stays_disabled_and_schedule_updates_apply(settings):
    beat.sync_periodic_tasks()
    entry = PeriodicTask.objects.get(name=NAME)
    entry.enabled = False
    entry.save()
    settings.SUBMISSIONS_BEAT_SCHEDULES = {
        **settings.SUBMISSIONS_BEAT_SCHEDULES, NAME: ("submissions.open_periods", {"minute": "20", "hour": "1"})}
    before = _marker()
    beat.sync_periodic_tasks()
    entry = PeriodicTask.objects.get(name=NAME)
    assert (entry.crontab.minute, entry.crontab.hour, entry.enabled) == ("20", "1", False)
    assert _marker() != before  # a real change reaches beat


@pytest.mark.django_db
def test_an_operator_s_other_edits_to_what_runs_are_put_back():
    beat.sync_periodic_tasks()
    PeriodicTask.objects.filter(name=NAME).update(task="something.else", kwargs='{"x": 1}')
    beat.sync_periodic_tasks()
    entry = PeriodicTask.objects.get(name=NAME)
    assert (entry.task, entry.kwargs) == ("submissions.open_periods", "{}")
