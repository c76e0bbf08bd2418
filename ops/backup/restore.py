"""Restore an archive into an empty database and empty storage, or refuse and write nothing.

The HMAC and every member's hash are verified before anything is written. Files are extracted into
a staging folder and moved into place, then `pg_restore --single-transaction` runs; on failure the
database rolls back and the moved files are removed. Last, every object goes to the owner role and
the runtime role gets its grants (config/db_roles.py), whoever owned them in the archive.
"""
from __future__ import annotations

import os
import secrets
import shutil
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db.migrations.loader import MigrationLoader

from config import db_roles

from .archive import (
    DUMP_MEMBER,
    MANIFEST_MEMBER,
    MEDIA_PREFIX,
    SIGNATURE_MEMBER,
    STAGING_PREFIX,
    BackupError,
    check_member_name,
    hash_member,
    storage_entries,
    storage_root,
    verify_archive,
)
from .database import (
    SYSTEM_SCHEMAS,
    Database,
    Tool,
    admin_database,
    find_tool,
    privileges,
    relation_names,
    row_counts,
    run_tool,
    table_names,
)


@dataclass(frozen=True)
class Target:
    database: Database
    app_role: str  # the runtime role the app connects as: gets the grants
    owner_role: str  # the owner role (config/db_roles.py): gets the tables
    media_root: Path | None  # None: object storage, files are not restored


@dataclass
class RestoreResult:
    manifest: dict
    seconds: float
    pending_migrations: int
    files_skipped: int = 0  # the archive's files, not written because storage is object storage


def target_from_settings(dbname: str | None = None, media_root: Path | None = None) -> Target:
    db = settings.DATABASES["default"]
    owner = getattr(settings, "DATABASE_OWNER", None)
    if not owner:
        raise BackupError("restore gives the tables to the owner role: set DATABASE_OWNER_URL "
                          "(README, Database roles).")
    return Target(database=admin_database(dbname or db["NAME"]), app_role=db["USER"], owner_role=owner["USER"],
                  media_root=Path(media_root) if media_root else storage_root())


def _require_empty(target: Target) -> None:
    with target.database.connect() as conn:
        user, superuser, _bypass = privileges(conn)
        if not superuser:
            raise BackupError(f"restore needs a superuser connection (to load rows under row-level security and "
                              f"give the tables to their owner); {user!r} is not one. Set DATABASE_ADMIN_URL.")
        found = relation_names(conn.cursor())
        tables = len(table_names(conn.cursor()))
    if found:
        raise BackupError(
            f"database {target.database.name!r} is not empty ({tables} tables, e.g. {', '.join(found[:4])}). "
            "Restore loads only into an empty database: drop and recreate it "
            "(e.g. `dropdb`, then `manage.py db_bootstrap`) and do not migrate it before restoring.")
    entries = storage_entries(target.media_root) if target.media_root is not None else []
    if entries:
        leftover = [e for e in entries if e.startswith(STAGING_PREFIX)]
        hint = (f" ({leftover[0]} is left from an interrupted restore: remove it)" if leftover else "")
        raise BackupError(
            f"storage {target.media_root} is not empty ({len(entries)} entries, e.g. {', '.join(entries[:5])}){hint}. "
            "Restore writes only into empty storage.")


def _check_compatible(manifest: dict, target: Target) -> tuple[Tool, int]:
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    applied = {tuple(m) for m in manifest.get("migrations", [])}
    unknown = sorted(f"{a}.{n}" for a, n in applied - known)
    if unknown:
        raise BackupError(
            f"the archive was made by a newer version of the app ({manifest['app']['version']}): this code does "
            f"not know its migrations {', '.join(unknown[:10])}. Restore with the code that made it.")
    # pg_restore recreates the archive's owners (and grants); _give_to_owner then hands everything to
    # this installation's owner role. So those roles, and ours, must exist.
    owners = manifest["database"].get("table_owners", [])
    needed = sorted({*owners, target.owner_role, target.app_role})
    with target.database.connect() as conn:
        existing = {r[0] for r in conn.execute("SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", [needed])}
        server_major = conn.info.server_version // 10000
    absent = [o for o in needed if o not in existing]
    if absent:
        raise BackupError(f"role(s) {', '.join(absent)} (the archive's table owners, or this installation's owner "
                          "and runtime roles) do not exist on this server. Create the roles first "
                          "(`manage.py db_bootstrap`).")
    dump_major = int(manifest["database"]["pg_dump_version"].split(".")[0])
    tool = find_tool("pg_restore", max(dump_major, server_major))
    return tool, len(known - applied)


def _extract(path: Path, manifest: dict, staging: Path, *, files: bool = True) -> None:
    """Write every member into staging, hashing again: the archive might have changed since it was
    verified. files=False: the database dump only (object storage)."""
    expected = manifest["members"]
    staging.mkdir(mode=0o700)
    with tarfile.open(path, mode="r:") as tar:
        for member in tar:
            if member.name in (MANIFEST_MEMBER, SIGNATURE_MEMBER):
                continue
            check_member_name(member.name)
            if member.name not in expected or not member.isreg():
                raise BackupError(f"{path}: the archive changed while it was being restored ({member.name}).")
            if not files and member.name != DUMP_MEMBER:
                continue
            dest = staging / member.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            with dest.open("xb") as sink:
                got = hash_member(tar, member, sink)
            if got["sha256"] != expected[member.name]["sha256"]:
                raise BackupError(f"{path}: the archive changed while it was being restored ({member.name}).")


def _give_to_owner(target: Target) -> None:
    """Whatever role owned the archive's tables (the runtime role, in an archive from before the two
    roles), the restored database, its schema and every object belong to the owner role, and the
    runtime role has exactly its grants (config/db_roles.py). One transaction."""
    owner, o = target.owner_role, db_roles.ident(target.owner_role)
    with target.database.connect() as conn, conn.transaction():
        conn.execute(f"ALTER DATABASE {db_roles.ident(target.database.name)} OWNER TO {o}")
        conn.execute(f"ALTER SCHEMA public OWNER TO {o}")
        user_schema = SYSTEM_SCHEMAS.replace("%", "%%")
        for (previous,) in conn.execute(
                "SELECT pg_get_userbyid(c.relowner) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                f"WHERE {user_schema} AND pg_get_userbyid(c.relowner) <> %s "
                "UNION SELECT pg_get_userbyid(p.proowner) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                f"WHERE {user_schema} AND pg_get_userbyid(p.proowner) <> %s", [owner, owner]).fetchall():
            db_roles.adopt(conn, owner=owner, previous=previous)
        with conn.cursor() as cursor:
            db_roles.sync_grants(cursor, owner=owner, runtime=target.app_role)


def restore_backup(path: Path, *, target: Target, keys: list[bytes] | None = None) -> RestoreResult:
    """Load an archive into an empty database and empty storage, or refuse and write nothing."""
    started = time.monotonic()
    path = Path(path)
    try:
        _require_empty(target)  # cheap refusals first
        manifest = verify_archive(path, keys)
        pg_restore, pending = _check_compatible(manifest, target)
        _require_empty(target)  # again, right before writing
    except BackupError as exc:
        raise BackupError(f"{exc}\nNothing was restored.") from None
    media_root = target.media_root
    if media_root is not None:
        media_root.mkdir(parents=True, exist_ok=True)
        # In storage itself, so moving the files into place is a rename.
        staging = media_root / f"{STAGING_PREFIX}{secrets.token_hex(6)}"
    else:
        staging = Path(tempfile.gettempdir()) / f"{STAGING_PREFIX}{secrets.token_hex(6)}"
    skipped = 0 if media_root is not None else sum(1 for n in manifest["members"] if n.startswith(MEDIA_PREFIX))
    moved: list[Path] = []
    try:
        _extract(path, manifest, staging, files=media_root is not None)
        files = staging / MEDIA_PREFIX.rstrip("/")
        if media_root is not None and files.exists():
            for entry in sorted(files.iterdir()):
                dest = media_root / entry.name
                os.replace(entry, dest)
                moved.append(dest)
        # One transaction: a failure leaves the database as empty as it was.
        run_tool(pg_restore, ["--single-transaction", "--exit-on-error", "--no-password",
                          f"--dbname={target.database.conninfo}", str(staging / DUMP_MEMBER)],
             target.database, "pg_restore")
    except BaseException as exc:
        for dest in moved:  # storage was empty before: everything moved in goes again
            shutil.rmtree(dest) if dest.is_dir() and not dest.is_symlink() else dest.unlink(missing_ok=True)
        if isinstance(exc, BackupError):
            raise BackupError(f"{exc}\nNothing was restored: the database rolled back and the files "
                              "written were removed.") from None
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    try:
        _give_to_owner(target)
    except Exception as exc:  # noqa: BLE001 - worded for the operator, like the row-count check below
        raise BackupError(f"restored, but the tables could not be given to the owner role {target.owner_role}: "
                          f"{exc}. Do not use this database (drop and recreate it, then restore again).") from None
    with target.database.connect() as conn:
        restored = row_counts(conn.cursor())
    if restored != manifest["tables"]:
        differ = sorted(t for t in set(restored) | set(manifest["tables"])
                        if restored.get(t) != manifest["tables"].get(t))
        raise BackupError(f"restored, but the row counts differ from the manifest in {', '.join(differ[:10])}; "
                          "do not use this database (drop and recreate it, then restore again).")
    return RestoreResult(manifest=manifest, seconds=time.monotonic() - started, pending_migrations=pending,
                         files_skipped=skipped)
