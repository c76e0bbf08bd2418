"""Backup and restore: one archive with a pg_dump of the database and every file in storage.

The archive is a plain tar (the dump is compressed already, and photos do not compress):

    database.dump   pg_dump --format=custom
    media/<name>    every file of default storage (MEDIA_ROOT), under its storage name; none when
                    the default storage is object storage (S3, see "Object storage" below)
    manifest.json   SHA-256 and size of every member above, row counts per table, the applied
                    migrations, app and PostgreSQL versions, created-at
    manifest.hmac   HMAC-SHA256 of manifest.json's exact bytes, keyed by BACKUP_HMAC_KEY

The manifest is the LAST member, so a truncated copy has none and is refused as truncated. The
HMAC makes the manifest tamper-evident: whoever edits a file and its hash in the manifest cannot
recompute the HMAC without the key.

Row-level security: school-owned tables FORCE it and the app role neither is superuser nor has
BYPASSRLS, so pg_dump as the app role would fail ("query would be affected by row-level security
policy"). Dump and restore therefore connect as an admin role: the embedded server's superuser when
DATABASE_URL is unset, otherwise DATABASE_ADMIN_URL (with the database name replaced by the app's).

Consistency: a REPEATABLE READ transaction exports its snapshot, counts rows and reads the storage
names the rows refer to inside it, and `pg_dump --snapshot` dumps exactly that state while the
transaction stays open. Storage is walked after the snapshot was taken. The app writes a file
before it commits the row naming it (schools.services.evidence_upload, the compile and export
jobs), so every file a dumped row names exists when the walk starts. A file written during the
backup may be archived too; no restored row names it, like any orphan in storage. A file deleted
during the backup (its row deleted after the snapshot) is listed under media.missing in the
manifest and reported, because a restored row will point at nothing.

Ownership: pg_restore recreates the archive's owners and grants as they were, then every object,
the schema and the database are given to this installation's owner role and the runtime role gets
exactly its grants (config/db_roles.py). An archive from before the two roles, whose tables the app's
own role owned, thus comes back in the two-role layout.

Restore refuses unless the target database has no tables and storage no files; it verifies the
HMAC and every member's hash (and that no member is missing or extra) before it writes anything.
It then extracts into a staging folder (hashing again, in case the archive changed since), moves
the files into place and runs `pg_restore --single-transaction`; if that fails, the database rolls
back and the moved files are removed, so a failure leaves the target as empty as it was. pg_restore
loads the data before it creates triggers, indexes and policies (pg_dump's section order), so
append-only and immutability triggers do not block loading, and as a superuser RLS does not apply.

Object storage: when the default storage is not a FileSystemStorage (STORAGE_S3_BUCKET set), the
files stay in the bucket, whose own versioning and replication back them up: copying millions of
photos through the app every night is neither possible nor wanted. The archive then holds the
database only; its manifest says so (media.external names the backend), backup and restore print it,
and restore writes no files (those of an archive made with filesystem storage are skipped and
counted, see RestoreResult.files_skipped).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import importlib.util
import json
import os
import re
import secrets
import shutil
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

FORMAT = "liushou-backup/1"
DUMP_MEMBER = "database.dump"
MANIFEST_MEMBER = "manifest.json"
SIGNATURE_MEMBER = "manifest.hmac"
MEDIA_PREFIX = "media/"
ARCHIVE_PREFIX = "liushou-backup-"
ARCHIVE_SUFFIX = ".tar"
STAGING_PREFIX = ".restore-"
CHUNK = 1024 * 1024
# A mounted filesystem's own folder: not content of storage.
IGNORED_IN_STORAGE = {"lost+found"}
# Storage names kept outside FileFields (FileFields are found by introspection): (table, query).
# A new kind of stored file that is neither belongs here, or a backup cannot report it missing.
# (The file itself is archived anyway: every file in storage is.)
EXTRA_FILE_REFERENCES = [
    ("submissions_packageversion", "SELECT value FROM submissions_packageversion, jsonb_each_text(files)"),
    ("submissions_districtexport", "SELECT file FROM submissions_districtexport WHERE file <> ''"),
]
_SYSTEM_SCHEMAS = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'"


class BackupError(Exception):
    """A refusal or a failure, worded for the operator."""


# ---------------------------------------------------------------- keys
def hmac_keys() -> list[bytes]:
    """BACKUP_HMAC_KEY (comma-separated: the first signs, any verifies), else one derived from
    SECRET_KEY, which production requires to be a real secret."""
    from django.conf import settings
    from django.utils.crypto import salted_hmac

    keys = [k.encode() for k in getattr(settings, "BACKUP_HMAC_KEYS", []) if k.strip()]
    return keys or [salted_hmac("liushou.backup.manifest", "key", algorithm="sha256").digest()]


def key_id(key: bytes) -> str:
    """A fingerprint that names a key in messages without revealing it."""
    return hmac.new(key, b"liushou-backup key id", hashlib.sha256).hexdigest()[:16]


def _sign(data: bytes, key: bytes) -> str:
    return hmac.new(key, data, hashlib.sha256).hexdigest()


# ---------------------------------------------------------------- connections
@dataclass(frozen=True)
class Database:
    """An admin connection to one database. The password stays out of `conninfo` (it goes to
    subprocesses as PGPASSWORD, never on a command line)."""

    name: str
    conninfo: str
    password: str | None = None

    def connect(self, **kwargs):
        import psycopg

        extra = {"password": self.password} if self.password else {}
        try:
            # Autocommit: no transaction lingers; the backup opens its snapshot transaction itself.
            return psycopg.connect(self.conninfo, autocommit=True, **extra, **kwargs)
        except psycopg.OperationalError as exc:
            raise BackupError(f"cannot connect to database {self.name!r} as the admin role: {exc}".strip()) from None

    def env(self) -> dict:
        env = dict(os.environ)
        env.pop("PGPASSWORD", None)
        if self.password:
            env["PGPASSWORD"] = self.password
        return env


def admin_database(dbname: str, admin_url: str | None = None) -> Database:
    """The admin connection for `dbname`: `admin_url` if given; else the embedded server's superuser
    when DATABASE_URL is unset; else DATABASE_ADMIN_URL."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    if not admin_url:
        if os.environ.get("DATABASE_URL", "").strip():
            admin_url = os.environ.get("DATABASE_ADMIN_URL", "").strip()
            if not admin_url:
                raise BackupError(
                    "backup and restore need a database role that bypasses row-level security (the app "
                    "role cannot read other schools' rows): set DATABASE_ADMIN_URL to a superuser connection.")
        else:
            from config import embedded_db

            admin_url = embedded_db.admin_url()
    params = conninfo_to_dict(admin_url)
    params["dbname"] = dbname
    password = params.pop("password", None) or None
    return Database(name=dbname, conninfo=make_conninfo("", **params), password=password)


def _privileges(conn) -> tuple[str, bool, bool]:
    row = conn.execute(
        "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user").fetchone()
    return row[0], bool(row[1]), bool(row[2])


# ---------------------------------------------------------------- pg_dump / pg_restore
@dataclass(frozen=True)
class Tool:
    path: Path
    version: tuple[int, int]

    @property
    def version_text(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"


def _tool_version(path: Path) -> tuple[int, int] | None:
    try:
        out = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=30,
                             check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"PostgreSQL\)\s+(\d+)(?:\.(\d+))?", out)
    return (int(match.group(1)), int(match.group(2) or 0)) if match else None


def _candidate_dirs() -> list[Path]:
    from django.conf import settings

    override = getattr(settings, "BACKUP_PG_BIN_DIR", "")
    if override:
        return [Path(override)]
    dirs: list[Path] = []
    spec = importlib.util.find_spec("pgserver")  # its bundled client, without importing it
    if spec and spec.origin:
        dirs.append(Path(spec.origin).parent / "pginstall" / "bin")
    dirs += sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    on_path = shutil.which("pg_dump")
    if on_path:
        dirs.append(Path(on_path).parent)  # not resolved: Debian's wrapper picks a version itself
    unique: list[Path] = []
    for d in dirs:
        if d not in unique:
            unique.append(d)
    return unique


def find_tool(name: str, min_major: int) -> Tool:
    """The oldest `name` whose major version is at least `min_major`. pg_dump refuses a newer server
    and pg_restore cannot read a newer pg_dump's archive; staying close to the server keeps the
    archive readable by as many pg_restore versions as possible."""
    from django.conf import settings

    found: list[Tool] = []
    for directory in _candidate_dirs():
        path = directory / name
        if path.is_file() and os.access(path, os.X_OK):
            version = _tool_version(path)
            if version:
                found.append(Tool(path, version))
    suitable = [t for t in found if t.version[0] >= min_major]
    if not suitable:
        seen = ", ".join(f"{t.version_text} at {t.path}" for t in found) or "none"
        where = (f"BACKUP_PG_BIN_DIR={settings.BACKUP_PG_BIN_DIR}" if getattr(settings, "BACKUP_PG_BIN_DIR", "")
                 else "pgserver's bundled client, /usr/lib/postgresql/*/bin and PATH")
        raise BackupError(
            f"no {name} of PostgreSQL {min_major} or newer in {where} (found: {seen}). Install the "
            f"PostgreSQL {min_major} client, or set BACKUP_PG_BIN_DIR to the folder that holds it.")
    return min(suitable, key=lambda t: (t.version[0], -t.version[1]))


def _run(tool: Tool, args: list[str], database: Database, what: str) -> None:
    proc = subprocess.run([str(tool.path), *args], capture_output=True, text=True, env=database.env())
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip()[-4000:]
        raise BackupError(f"{what} failed ({tool.path.name} {tool.version_text}, exit {proc.returncode}):\n{detail}")


# ---------------------------------------------------------------- database facts
def _tables(cursor) -> list[str]:
    rows = cursor.execute(
        "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        f"WHERE c.relkind = 'r' AND {_SYSTEM_SCHEMAS} ORDER BY 1, 2").fetchall()
    return [name if schema == "public" else f"{schema}.{name}" for schema, name in rows]


def _qualified(table: str):
    from psycopg import sql

    schema, _dot, name = table.rpartition(".")
    return sql.Identifier(schema or "public", name)


def row_counts(cursor) -> dict[str, int]:
    from psycopg import sql

    return {
        table: cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(_qualified(table))).fetchone()[0]
        for table in _tables(cursor)
    }


def _relations(cursor) -> list[str]:
    """Tables first, then views, sequences and the like: what makes a database "not empty"."""
    return [r[0] for r in cursor.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        f"WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND {_SYSTEM_SCHEMAS} "
        "ORDER BY c.relkind <> 'r', 1").fetchall()]


def _migrations(cursor) -> list[list[str]]:
    if cursor.execute("SELECT to_regclass('django_migrations')").fetchone()[0] is None:
        return []
    return [list(r) for r in cursor.execute("SELECT app, name FROM django_migrations ORDER BY id").fetchall()]


def _table_owners(cursor) -> list[str]:
    return [r[0] for r in cursor.execute(
        "SELECT DISTINCT pg_get_userbyid(c.relowner) FROM pg_class c JOIN pg_namespace n "
        f"ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') AND {_SYSTEM_SCHEMAS} ORDER BY 1"
    ).fetchall()]


def _referenced_names(cursor) -> set[str]:
    """Every storage name the rows refer to (read in the backup's snapshot)."""
    from django.apps import apps
    from django.db.models import FileField
    from psycopg import sql

    queries = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for f in model._meta.concrete_fields:
            if isinstance(f, FileField):
                table, column = model._meta.db_table, f.column
                queries.append((table, sql.SQL("SELECT {c} FROM {t} WHERE {c} <> ''").format(
                    c=sql.Identifier(column), t=sql.Identifier(table))))
    queries += [(table, sql.SQL(query)) for table, query in EXTRA_FILE_REFERENCES]
    names: set[str] = set()
    for table, query in queries:
        if cursor.execute("SELECT to_regclass(%s)", [table]).fetchone()[0] is None:
            continue
        names.update(r[0] for r in cursor.execute(query).fetchall() if r[0])
    return names


# ---------------------------------------------------------------- storage
def storage_root() -> Path | None:
    """MEDIA_ROOT of the default storage, or None when it is not on the filesystem (object storage:
    its files are not archived, see the module docstring)."""
    from django.core.files.storage import FileSystemStorage, default_storage

    if not isinstance(default_storage, FileSystemStorage):
        return None
    return Path(default_storage.location)


def external_storage_name() -> str:
    """The default storage's class and bucket, for manifests and messages."""
    from django.core.files.storage import default_storage

    backend = default_storage.__class__.__name__  # the lazy object reports the real class here
    bucket = getattr(default_storage, "bucket_name", None)
    return f"{backend} (bucket {bucket})" if bucket else backend


EXTERNAL_STORAGE_NOTE = ("the files are in object storage and not in this archive: they are backed up by the "
                         "bucket's own versioning/replication (README, section 6)")


def _storage_entries(root: Path) -> list[str]:
    if not root.exists():
        return []
    if not root.is_dir():
        raise BackupError(f"storage folder {root} is not a folder.")
    return sorted(p.name for p in root.iterdir() if p.name not in IGNORED_IN_STORAGE)


def _walk_storage(root: Path):
    """(storage name, path) of each regular file, in a stable order. Symbolic links are skipped: the
    app never makes them, and following one could archive files from outside storage."""
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        top = here == root
        skip = (lambda d: d in IGNORED_IN_STORAGE or d.startswith(STAGING_PREFIX)) if top else (lambda d: False)
        dirnames[:] = sorted(d for d in dirnames if not skip(d))
        for filename in sorted(filenames):
            path = here / filename
            if path.is_symlink() or not path.is_file():
                continue
            yield path.relative_to(root).as_posix(), path


class _HashingReader:
    """Wraps a binary file: hashes exactly the bytes tarfile copies into the archive."""

    def __init__(self, fileobj):
        self.fileobj, self.sha, self.size = fileobj, hashlib.sha256(), 0

    def read(self, n=-1):
        data = self.fileobj.read(n)
        self.sha.update(data)
        self.size += len(data)
        return data


def _add(tar: tarfile.TarFile, name: str, fileobj, size: int, mtime: float) -> dict:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, int(mtime), 0o600
    reader = _HashingReader(fileobj)
    tar.addfile(info, reader)
    return {"sha256": reader.sha.hexdigest(), "size": reader.size}


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mtime: float) -> None:
    import io

    _add(tar, name, io.BytesIO(data), len(data), mtime)


# ---------------------------------------------------------------- backup
@dataclass
class BackupResult:
    path: Path
    manifest: dict
    seconds: float


def _app_version() -> str:
    from importlib import metadata

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
                members[DUMP_MEMBER] = _add(tar, DUMP_MEMBER, fh, os.fstat(fh.fileno()).st_size, now.timestamp())
            for name, path in (_walk_storage(media_root) if media_root is not None else ()):
                try:
                    fh = path.open("rb")
                except FileNotFoundError:
                    continue  # deleted since it was listed; if a row names it, it is "missing"
                with fh:
                    st = os.fstat(fh.fileno())
                    try:
                        members[MEDIA_PREFIX + name] = _add(tar, MEDIA_PREFIX + name, fh, st.st_size, st.st_mtime)
                    except OSError as exc:
                        # tarfile stops on a file that shrank while read; the tar is unusable then.
                        raise BackupError(f"could not archive {name} ({exc}): it changed while being read, "
                                          "or the output disk is full. Run the backup again.") from None
                archived.add(name)
            manifest = manifest_for(members, archived)
            manifest_bytes = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
            # Manifest last: a truncated copy has none and is refused as truncated.
            _add_bytes(tar, MANIFEST_MEMBER, manifest_bytes, now.timestamp())
            _add_bytes(tar, SIGNATURE_MEMBER, (_sign(manifest_bytes, key) + "\n").encode(), now.timestamp())
        raw.flush()  # after the tar's closing blocks
        os.fsync(raw.fileno())
    return manifest


def create_backup(*, output_dir: Path, database: Database | None = None, media_root: Path | None = None,
                  keys: list[bytes] | None = None) -> BackupResult:
    """Write one archive into `output_dir` and return it. Nothing is left behind on failure."""
    import psycopg
    from django.conf import settings
    from psycopg import IsolationLevel

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
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    final = _archive_path(output_dir, now)
    partial = final.with_name(final.name + ".partial")
    dump_file = final.with_name(f".{final.stem}.dump.partial")
    try:
        with database.connect() as conn:
            user, superuser, bypass = _privileges(conn)
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
                migrations = _migrations(cur)
                owners = _table_owners(cur)
                referenced = _referenced_names(cur)
                server_major = conn.info.server_version // 10000
                server_version = cur.execute("SHOW server_version").fetchone()[0]
                pg_dump = find_tool("pg_dump", server_major)
                _run(pg_dump, ["--format=custom", f"--snapshot={snapshot}", "--no-password",
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


# ---------------------------------------------------------------- verify
def _check_member_name(name: str) -> None:
    if name == DUMP_MEMBER:
        return
    rel = name[len(MEDIA_PREFIX):] if name.startswith(MEDIA_PREFIX) else None
    parts = rel.split("/") if rel else []
    if (not rel or any(p in ("", ".", "..") for p in parts) or "\\" in rel or "\x00" in rel
            or parts[0] in IGNORED_IN_STORAGE or parts[0].startswith(STAGING_PREFIX)):
        raise BackupError(f"the archive holds an unexpected member {name!r}; refusing it.")


def _hash_member(tar: tarfile.TarFile, member: tarfile.TarInfo, sink=None) -> dict:
    sha, size = hashlib.sha256(), 0
    source = tar.extractfile(member)
    while chunk := source.read(CHUNK):
        sha.update(chunk)
        size += len(chunk)
        if sink is not None:
            sink.write(chunk)
    return {"sha256": sha.hexdigest(), "size": size}


def _read_small(tar: tarfile.TarFile, member: tarfile.TarInfo, limit: int) -> bytes:
    if member.size > limit:
        raise BackupError(f"{member.name} is implausibly large ({member.size} bytes); refusing the archive.")
    return tar.extractfile(member).read()


def verify_archive(path: Path, keys: list[bytes] | None = None) -> dict:
    """Check the archive end to end without writing anything; return its manifest.

    Refuses: a damaged or truncated tar, a missing manifest or signature, an HMAC that matches none
    of our keys, a member whose hash or size differs, a member missing or not in the manifest, and
    anything that is not a regular file under a safe name.
    """
    path = Path(path)
    keys = keys or hmac_keys()
    if not path.is_file():
        raise BackupError(f"{path}: no such archive.")
    seen: dict[str, dict] = {}
    manifest_bytes = signature = None
    try:
        with tarfile.open(path, mode="r:") as tar:
            for member in tar:
                name = member.name
                if name in seen or (name == MANIFEST_MEMBER and manifest_bytes is not None) or (
                        name == SIGNATURE_MEMBER and signature is not None):
                    raise BackupError(f"the archive holds {name!r} twice; refusing it.")
                if not member.isreg():
                    raise BackupError(f"the archive member {name!r} is not a regular file; refusing it.")
                if name == MANIFEST_MEMBER:
                    manifest_bytes = _read_small(tar, member, 512 * 1024 * 1024)
                elif name == SIGNATURE_MEMBER:
                    signature = _read_small(tar, member, 1024)
                else:
                    _check_member_name(name)
                    seen[name] = _hash_member(tar, member)
    except (tarfile.TarError, EOFError) as exc:
        raise BackupError(f"{path}: the archive is damaged or truncated ({exc}).") from None
    if manifest_bytes is None or signature is None:
        absent = MANIFEST_MEMBER if manifest_bytes is None else SIGNATURE_MEMBER
        raise BackupError(f"{path}: the archive is incomplete (no {absent}): "
                          "truncated, or not made by `manage.py backup`.")
    expected_sig = signature.strip()  # bytes: compare_digest refuses non-ASCII str
    if not any(hmac.compare_digest(_sign(manifest_bytes, k).encode(), expected_sig) for k in keys):
        try:
            claimed = json.loads(manifest_bytes).get("key_id", "?")
        except (ValueError, AttributeError):
            claimed = "?"
        raise BackupError(
            f"{path}: the manifest's HMAC does not match: the archive was changed after it was written, or "
            f"it was signed with another BACKUP_HMAC_KEY (the manifest names key id {claimed}; yours: "
            f"{', '.join(key_id(k) for k in keys)}).")
    manifest = json.loads(manifest_bytes)
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path}: unknown archive format {manifest.get('format')!r} (expected {FORMAT}).")
    expected: dict[str, dict] = manifest["members"]
    problems = []
    for name in sorted(set(expected) - set(seen)):
        problems.append(f"missing: {name}")
    for name in sorted(set(seen) - set(expected)):
        problems.append(f"not in the manifest: {name}")
    for name in sorted(set(seen) & set(expected)):
        if seen[name] != {"sha256": expected[name]["sha256"], "size": expected[name]["size"]}:
            want, got = expected[name], seen[name]
            problems.append(f"hash mismatch: {name} (manifest {want['sha256'][:12]}…, {want['size']} bytes; "
                            f"archive {got['sha256'][:12]}…, {got['size']} bytes)")
    if problems:
        shown = "\n  ".join(problems[:20]) + (f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else "")
        raise BackupError(f"{path}: the archive does not match its manifest:\n  {shown}")
    return manifest


# ---------------------------------------------------------------- restore
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
    from django.conf import settings

    db = settings.DATABASES["default"]
    owner = getattr(settings, "DATABASE_OWNER", None)
    if not owner:
        raise BackupError("restore gives the tables to the owner role: set DATABASE_OWNER_URL "
                          "(README, Database roles).")
    return Target(database=admin_database(dbname or db["NAME"]), app_role=db["USER"], owner_role=owner["USER"],
                  media_root=Path(media_root) if media_root else storage_root())


def _require_empty(target: Target) -> None:
    with target.database.connect() as conn:
        user, superuser, _bypass = _privileges(conn)
        if not superuser:
            raise BackupError(f"restore needs a superuser connection (to load rows under row-level security and "
                              f"give the tables to their owner); {user!r} is not one. Set DATABASE_ADMIN_URL.")
        found = _relations(conn.cursor())
        tables = len(_tables(conn.cursor()))
    if found:
        raise BackupError(
            f"database {target.database.name!r} is not empty ({tables} tables, e.g. {', '.join(found[:4])}). "
            "Restore loads only into an empty database: drop and recreate it "
            "(e.g. `dropdb`, then `manage.py db_bootstrap`) and do not migrate it before restoring.")
    entries = _storage_entries(target.media_root) if target.media_root is not None else []
    if entries:
        leftover = [e for e in entries if e.startswith(STAGING_PREFIX)]
        hint = (f" ({leftover[0]} is left from an interrupted restore: remove it)" if leftover else "")
        raise BackupError(
            f"storage {target.media_root} is not empty ({len(entries)} entries, e.g. {', '.join(entries[:5])}){hint}. "
            "Restore writes only into empty storage.")


def _check_compatible(manifest: dict, target: Target) -> tuple[Tool, int]:
    from django.db.migrations.loader import MigrationLoader

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
            _check_member_name(member.name)
            if member.name not in expected or not member.isreg():
                raise BackupError(f"{path}: the archive changed while it was being restored ({member.name}).")
            if not files and member.name != DUMP_MEMBER:
                continue
            dest = staging / member.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            with dest.open("xb") as sink:
                got = _hash_member(tar, member, sink)
            if got["sha256"] != expected[member.name]["sha256"]:
                raise BackupError(f"{path}: the archive changed while it was being restored ({member.name}).")


def _give_to_owner(target: Target) -> None:
    """Whatever role owned the archive's tables (the runtime role, in an archive from before the two
    roles), the restored database, its schema and every object belong to the owner role, and the
    runtime role has exactly its grants (config/db_roles.py). One transaction."""
    from config import db_roles

    owner, o = target.owner_role, db_roles.ident(target.owner_role)
    with target.database.connect() as conn, conn.transaction():
        conn.execute(f"ALTER DATABASE {db_roles.ident(target.database.name)} OWNER TO {o}")
        conn.execute(f"ALTER SCHEMA public OWNER TO {o}")
        user_schema = _SYSTEM_SCHEMAS.replace("%", "%%")
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
        _run(pg_restore, ["--single-transaction", "--exit-on-error", "--no-password",
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
