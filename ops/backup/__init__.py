"""Backup and restore: one archive with a pg_dump of the database and every file in storage.

`manage.py backup` writes one (create.py), `manage.py restore` verifies and loads one (restore.py);
what an archive holds, which connection they use, and object storage: README, "Backup and restore".
"""
from .archive import (
    ARCHIVE_PREFIX,
    ARCHIVE_SUFFIX,
    DUMP_MEMBER,
    EXTERNAL_STORAGE_NOTE,
    FORMAT,
    MANIFEST_MEMBER,
    MEDIA_PREFIX,
    SIGNATURE_MEMBER,
    BackupError,
    external_storage_name,
    hmac_keys,
    key_id,
    storage_root,
    verify_archive,
)
from .create import BackupResult, create_backup, prune
from .database import Database, Tool, admin_database, find_tool, row_counts
from .restore import RestoreResult, Target, restore_backup, target_from_settings

__all__ = [
    "ARCHIVE_PREFIX", "ARCHIVE_SUFFIX", "DUMP_MEMBER", "EXTERNAL_STORAGE_NOTE", "FORMAT", "MANIFEST_MEMBER",
    "MEDIA_PREFIX", "SIGNATURE_MEMBER", "BackupError", "BackupResult", "Database", "RestoreResult", "Target",
    "Tool", "admin_database", "create_backup", "external_storage_name", "find_tool", "hmac_keys", "key_id",
    "prune", "restore_backup", "row_counts", "storage_root", "target_from_settings", "verify_archive",
]
