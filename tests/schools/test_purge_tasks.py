"""Data retention: the purge service, the Celery task, and its beat registration."""
from __future__ import annotations

import datetime as dt

from django.db import connection

from jobs.beat import sync_periodic_tasks
from schools import services
from schools.models import CareContact, Child
from schools.tasks import ORPHANS_TASK, PURGE_TASK, SYNC_TASK, purge_expired_children
from tenancy.models import AccessLog
from tenancy.scoping import tenant_scope


def leave(home, child, days_ago, today):
    since = today - dt.timedelta(days=days_ago)
    with tenant_scope([child.school_id]):
        Child.objects.filter(pk=child.pk).update(status_since=since - dt.timedelta(days=1))
        child.refresh_from_db()
        services.child_status_set(actor=None, child=child, status="graduated", since=since)


def test_purge_clears_sensitive_fields_of_children_who_left_long_ago(home, today, settings):
    settings.CHILD_DATA_RETENTION_DAYS = 365
    with tenant_scope([home.gupei.id]):
        services.care_contact_record(actor=home.gupei_admin, child_id=home.g[0].id, kind="talk",
                                     happened_on=today, notes="谈到了爸爸")
    leave(home, home.g[0], 400, today)
    leave(home, home.g[1], 30, today)  # left recently: kept
    with tenant_scope([home.gupei.id]):
        assert services.children_purge_expired(school=home.gupei) == 1
        old, recent = Child.objects.get(pk=home.g[0].pk), Child.objects.get(pk=home.g[1].pk)
        assert old.purged_at and old.name == "" and old.id_number_ciphertext == "" and old.guardian_phone == ""
        assert old.birth_date is None and old.wellbeing_notes == "" and old.class_name  # counts survive
        assert CareContact.objects.get(child=old).notes == ""
        assert recent.purged_at is None and recent.guardian_phone
        log = AccessLog.objects.get(action="purge")
        assert (log.object_type, log.object_id, log.user_id) == ("schools.child", str(old.id), None)
        # Idempotent: a second run purges nothing and logs nothing.
        assert services.children_purge_expired(school=home.gupei) == 0
        assert AccessLog.objects.filter(action="purge").count() == 1


def test_active_children_are_never_purged(home, today, settings):
    settings.CHILD_DATA_RETENTION_DAYS = 0
    with tenant_scope([home.gupei.id]):
        Child.objects.update(status_since=today - dt.timedelta(days=4000))
        assert services.children_purge_expired(school=home.gupei) == 0


def test_task_scopes_each_school_and_is_idempotent(home, today, settings):
    settings.CHILD_DATA_RETENTION_DAYS = 10
    leave(home, home.g[0], 20, today)
    leave(home, home.m[0], 20, today)
    result = purge_expired_children.apply().get()
    assert result[home.gupei.id] == 1 and result[home.menzhuang.id] == 1
    assert purge_expired_children.apply().get()[home.gupei.id] == 0
    # No scope leaks out of the task.
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM schools_child")
        assert cursor.fetchone()[0] == 0


def test_periodic_tasks_registered_idempotently(db):
    from django_celery_beat.models import PeriodicTask

    sync_periodic_tasks()
    sync_periodic_tasks()
    tasks = set(PeriodicTask.objects.filter(task__startswith="schools.").values_list("task", flat=True))
    assert tasks == {PURGE_TASK, SYNC_TASK, ORPHANS_TASK}
    assert PeriodicTask.objects.filter(task=PURGE_TASK).count() == 1


def test_purge_deletes_the_photos_of_the_childs_contacts(home, today, settings, tmp_path,
                                                         django_capture_on_commit_callbacks):
    from django.core.files.storage import default_storage
    from django.core.files.uploadedfile import SimpleUploadedFile

    from schools.models import Evidence
    from tests.support.images import jpeg_bytes

    settings.MEDIA_ROOT = str(tmp_path)
    settings.CHILD_DATA_RETENTION_DAYS = 365
    items = {}
    with tenant_scope([home.gupei.id]):
        for child, seed in ((home.g[0], 11), (home.g[1], 12)):
            contact = services.care_contact_record(actor=home.gupei_admin, child_id=child.id, kind="home_visit",
                                                   happened_on=today)
            items[child.id] = services.evidence_upload(
                actor=home.gupei_admin, school=home.gupei, attach_to=contact,
                uploaded_file=SimpleUploadedFile(f"{seed}.jpg", jpeg_bytes(seed), content_type="image/jpeg"))
    leave(home, home.g[0], 400, today)
    gone, kept = items[home.g[0].id], items[home.g[1].id]
    with django_capture_on_commit_callbacks(execute=True), tenant_scope([home.gupei.id]):
        assert services.children_purge_expired(school=home.gupei) == 1
    with tenant_scope([home.gupei.id]):
        assert not Evidence.objects.filter(pk=gone.pk).exists()
        assert Evidence.objects.filter(pk=kept.pk).exists()
        assert CareContact.objects.filter(child=home.g[0]).count() == 1  # the contact (its date) stays
        assert AccessLog.objects.filter(action="delete", object_type="schools.evidence",
                                        object_id=str(gone.pk), user=None).exists()
    assert not default_storage.exists(gone.file.name) and not default_storage.exists(gone.thumbnail.name)
    assert default_storage.exists(kept.file.name)
