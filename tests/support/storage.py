"""A storage like S3 for tests: files in memory, and no local path at all."""
from __future__ import annotations

import os

from django.core.files.storage import InMemoryStorage
from django.utils._os import safe_join


class PathlessMemoryStorage(InMemoryStorage):
    """django's InMemoryStorage answers path() with a (non-existent) path under MEDIA_ROOT; S3Storage
    raises NotImplementedError, as Storage.path does. So does this one: code that asks for a local
    path fails here as it would against a bucket."""

    def path(self, name):
        raise NotImplementedError("This backend doesn't support absolute paths.")

    def _relative_path(self, name):
        # InMemoryStorage resolves names with its own path(); keep that internal lookup working.
        return os.path.relpath(safe_join(self.location, name), self.location)


BACKEND = f"{__name__}.PathlessMemoryStorage"
