"""Write a backup: one snapshot of the database and every file of storage, in one archive.

A REPEATABLE READ transaction exports its snapshot; row counts, applied migrations and the storage
names rows refer to are read in it, and `pg_dump --snapshot` dumps exactly that state. Storage is
walked while the snapshot is held. The app writes a file before it commits the row naming it, so
every file a dumped row names exists when the walk starts; one deleted meanwhile is listed as
missing (README, "Backup and restore").
"""
from __future__ import annotations

import datetime as dt
import json
import os
import tarfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import psycopg
from django.conf import settings
from psycopg import IsolationLevel

from .archive import (
    ARCHIVE_PREFIX,
    ARCHIVE_SUFFIX,
    DUMP_MEMBER,
    FORMAT,
    MANIFEST_MEMBER,
    MEDIA_PREFIX,
    SIGNATURE_MEMBER,
    BackupError,
    add_bytes,
    add_member,
    external_storage_name,
    hmac_keys,
    key_id,
    sign,
    storage_root,
    walk_storage,
)
from .database import (
    Database,
    admin_database,
    applied_migrations,
    find_tool,
    privileges,
    referenced_names,
    row_counts,
    run_tool,
    table_owners,
)


@dataclass
class BackupResult:
    path: Path
    manifest: dict
    seconds: float


def _app_version() -> str:
    try:
        return metadata.version("liushou-home")
    except metadata.PackageNotFoundError:
        return "unknown"


def _fsync_dir(path: Path) -> None:
    """Make the rename durable: a power cut right after a backup must not lose the archive's name."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _archive_path(output_dir: Path, now: dt.datetime) -> Path:
    stem = f"{ARCHIVE_PREFIX}{now:%Y%m%dT%H%M%SZ}"
    path, n = output_dir / f"{stem}{ARCHIVE_SUFFIX}", 1
    while path.exists():
        n += 1
        path = output_dir / f"{stem}-{n}{ARCHIVE_SUFFIX}"
    return path


def _write_archive(partial: Path, dump_file: Path, media_root: Path | None, now: dt.datetime, manifest_for,
                   key: bytes) -> dict:
    """Write the tar: the dump, every stored file, then the manifest and its HMAC. Returns the manifest."""
    members: dict[str, dict] = {}
    archived: set[str] = set()
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as raw:
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
            with dump_file.open("rb") as fh:
                members[DUMP_MEMBER] = add_member(tar, DUMP_MEMBER, fh, os.fstat(fh.fileno()).st_size, now.timestamp())
            for name, path in (walk_storage(media_root) if media_root is not None else ()):
                try:
                    fh = path.open("rb")
                except FileNotFoundError:
                    continue  # deleted since it was listed; if a row names it, it is "missing"
                with fh:
                    st = os.fstat(fh.fileno())
                    try:
                        members[MEDIA_PREFIX + name] = add_member(tar, MEDIA_PREFIX + name, fh, st.st_size, st.st_mtime)
                    except OSError as exc:
                        # tarfile stops on a file that shrank while read; the tar is unusable then.
                        raise BackupError(f"could not archive {name} ({exc}): it changed while being read, "
                                          "or the output disk is full. Run the backup again.") from None
                archived.add(name)
            manifest = manifest_for(members, archived)
            manifest_bytes = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
            # Manifest last: a truncated copy has none and is refused as truncated.
            add_bytes(tar, MANIFEST_MEMBER, manifest_bytes, now.timestamp())
            add_bytes(tar, SIGNATURE_MEMBER, (sign(manifest_bytes, key) + "\n").encode(), now.timestamp())
        raw.flush()  # after the tar's closing blocks
        os.fsync(raw.fileno())
    return manifest


def create_backup(*, output_dir: Path, database: Database | None = None, media_root: Path | None = None,
                  keys: list[bytes] | None = None) -> BackupResult:
    """Write one archive into `output_dir` and return it. Nothing is left behind on failure."""
    started = time.monotonic()
    database = database or admin_database(settings.DATABASES["default"]["NAME"])
    media_root = Path(media_root) if media_root else storage_root()
    external = None if media_root is not None else external_storage_name()
    keys = keys or hmac_keys()
    output_dir = Path(output_dir)
    if media_root is not None and output_dir.resolve().is_relative_to(media_root.resolve()):
        raise BackupError(f"the output folder {output_dir} lies inside storage ({media_root}): "
                          "each backup would archive the previous ones. Choose another folder.")
    output_dir.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    final = _archive_path(output_dir, now)
    partial = final.with_name(final.name + ".partial")
    dump_file = final.with_name(f".{final.stem}.dump.partial")
    try:
        with database.connect() as conn:
            user, superuser, bypass = privileges(conn)
            if not (superuser or bypass):
                raise BackupError(
                    f"role {user!r} is neither superuser nor BYPASSRLS, so row-level security would hide "
                    "school-owned rows from the dump. Use the admin connection (DATABASE_ADMIN_URL, or "
                    "the embedded server's superuser when DATABASE_URL is unset).")
            conn.isolation_level = IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            with conn.transaction(), conn.cursor() as cur:
                # Everything below reads this one snapshot, and pg_dump imports it.
                snapshot = cur.execute("SELECT pg_export_snapshot()").fetchone()[0]
                counts = row_counts(cur)
                migrations = applied_migrations(cur)
                owners = table_owners(cur)
                referenced = referenced_names(cur)
                server_major = conn.info.server_version // 10000
                server_version = cur.execute("SHOW server_version").fetchone()[0]
                pg_dump = find_tool("pg_dump", server_major)
                run_tool(pg_dump, ["--format=custom", f"--snapshot={snapshot}", "--no-password",
                               f"--file={dump_file}", f"--dbname={database.conninfo}"],
                     database, "pg_dump")

                def manifest_for(members: dict[str, dict], archived: set[str]) -> dict:
                    return {
                        "format": FORMAT,
                        "created_at": now.isoformat().replace("+00:00", "Z"),
                        "app": {"name": "liushou-home", "version": _app_version()},
                        "database": {"name": database.name, "server_version": server_version,
                                     "pg_dump_version": pg_dump.version_text, "table_owners": owners,
                                     "member": DUMP_MEMBER},
                        "migrations": migrations,
                        "tables": counts,
                        "media": {
                            "files": len(archived),
                            "bytes": sum(m["size"] for n, m in members.items() if n.startswith(MEDIA_PREFIX)),
                            "referenced": len(referenced),
                            "unreferenced": len(archived - referenced),
                            # With object storage nothing is archived, so nothing is "missing".
                            "missing": sorted(referenced - archived) if external is None else [],
                            **({"external": external} if external else {}),
                        },
                        "members": members,
                        "key_id": key_id(keys[0]),
                    }

                # Storage is walked while the snapshot is held (see the module docstring).
                manifest = _write_archive(partial, dump_file, media_root, now, manifest_for, keys[0])
        os.replace(partial, final)
        _fsync_dir(output_dir)
    except psycopg.Error as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"database error during the backup: {exc}") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        dump_file.unlink(missing_ok=True)
    return BackupResult(path=final, manifest=manifest, seconds=time.monotonic() - started)


def prune(output_dir: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` archives in output_dir (names sort by their UTC time), and
    what a killed backup left behind (`*.partial` older than a day)."""
    if keep < 1:
        raise BackupError("--keep must be at least 1.")
    output_dir = Path(output_dir)
    archives = sorted(output_dir.glob(f"{ARCHIVE_PREFIX}*{ARCHIVE_SUFFIX}"))
    removed = archives[:-keep]
    day_ago = time.time() - 24 * 3600
    removed += [p for p in sorted(output_dir.glob(f"*{ARCHIVE_PREFIX}*.partial")) if p.stat().st_mtime < day_ago]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


