"""Writing generated files through the storage API, so any backend works (filesystem, S3).

Nothing in the application may ask a storage for a local path (`.path()`): S3Storage has none.
tests/deploy/test_storage.py fails if such a call comes back.
"""
from __future__ import annotations

from django.core.files import File
from django.core.files.storage import Storage, default_storage

ATTEMPTS = 3


class StorageNameTaken(RuntimeError):
    """Another writer kept re-creating the name while we tried to replace it."""


def storage_replace(name: str, content, *, storage: Storage | None = None) -> str:
    """Store `content` (a file object or django File) under exactly `name`, replacing a file
    already there, and return `name`.

    For jobs that may run again (a redelivered Celery message): the name is deterministic, so a
    rerun overwrites its earlier output instead of adding "name_abc123" copies, which is what
    save() does with an existing name (FileSystemStorage always; S3Storage with file_overwrite off).
    The file at `name` is missing for a moment between delete and save: callers publish a name
    (mark the row done) only after this returns, so no reader looks for it meanwhile.
    """
    storage = storage or default_storage
    if not isinstance(content, File):
        content = File(content, name=name.rsplit("/", 1)[-1])
    for _attempt in range(ATTEMPTS):
        if storage.exists(name):
            storage.delete(name)
        saved = storage.save(name, content)  # save() rewinds the content (File.chunks, S3's upload)
        if saved == name:
            return name
        # A concurrent run stored `name` between our delete and save: drop our copy, try again.
        storage.delete(saved)
    raise StorageNameTaken(f"could not store {name}: another writer keeps creating it")
