"""The database side of a backup: admin connections, pg_dump/pg_restore, and facts read in SQL.

Row-level security binds the app's roles, so backup and restore connect as an admin role: the
embedded server's superuser when DATABASE_URL is unset, otherwise DATABASE_ADMIN_URL.
"""
from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psycopg
from django.apps import apps
from django.conf import settings
from django.db.models import FileField
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from config import embedded_db
from submissions.models import DistrictExport, PackageVersion

from .archive import BackupError

SYSTEM_SCHEMAS = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'"


# ---------------------------------------------------------------- connections
@dataclass(frozen=True)
class Database:
    """An admin connection to one database. The password stays out of `conninfo` (it goes to
    subprocesses as PGPASSWORD, never on a command line)."""

    name: str
    conninfo: str
    password: str | None = None

    def connect(self, **kwargs):
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
    if not admin_url:
        if os.environ.get("DATABASE_URL", "").strip():
            admin_url = os.environ.get("DATABASE_ADMIN_URL", "").strip()
            if not admin_url:
                raise BackupError(
                    "backup and restore need a database role that bypasses row-level security (the app "
                    "role cannot read other schools' rows): set DATABASE_ADMIN_URL to a superuser connection.")
        else:
            admin_url = embedded_db.admin_url()
    params = conninfo_to_dict(admin_url)
    params["dbname"] = dbname
    password = params.pop("password", None) or None
    return Database(name=dbname, conninfo=make_conninfo("", **params), password=password)


def privileges(conn) -> tuple[str, bool, bool]:
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


def run_tool(tool: Tool, args: list[str], database: Database, what: str) -> None:
    proc = subprocess.run([str(tool.path), *args], capture_output=True, text=True, env=database.env())
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip()[-4000:]
        raise BackupError(f"{what} failed ({tool.path.name} {tool.version_text}, exit {proc.returncode}):\n{detail}")


# ---------------------------------------------------------------- database facts
def table_names(cursor) -> list[str]:
    rows = cursor.execute(
        "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        f"WHERE c.relkind = 'r' AND {SYSTEM_SCHEMAS} ORDER BY 1, 2").fetchall()
    return [name if schema == "public" else f"{schema}.{name}" for schema, name in rows]


def _qualified(table: str):
    schema, _dot, name = table.rpartition(".")
    return sql.Identifier(schema or "public", name)


def row_counts(cursor) -> dict[str, int]:
    return {
        table: cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(_qualified(table))).fetchone()[0]
        for table in table_names(cursor)
    }


def relation_names(cursor) -> list[str]:
    """Tables first, then views, sequences and the like: what makes a database "not empty"."""
    return [r[0] for r in cursor.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        f"WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND {SYSTEM_SCHEMAS} "
        "ORDER BY c.relkind <> 'r', 1").fetchall()]


def applied_migrations(cursor) -> list[list[str]]:
    if cursor.execute("SELECT to_regclass('django_migrations')").fetchone()[0] is None:
        return []
    return [list(r) for r in cursor.execute("SELECT app, name FROM django_migrations ORDER BY id").fetchall()]


def table_owners(cursor) -> list[str]:
    return [r[0] for r in cursor.execute(
        "SELECT DISTINCT pg_get_userbyid(c.relowner) FROM pg_class c JOIN pg_namespace n "
        f"ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') AND {SYSTEM_SCHEMAS} ORDER BY 1"
    ).fetchall()]


def _extra_file_references() -> list[tuple[str, sql.Composable]]:
    """Storage names kept outside FileFields (FileFields are found by introspection). A new kind of
    stored file that is neither belongs here, or a backup cannot report it missing (the file itself
    is archived anyway: every file in storage is)."""
    package = PackageVersion._meta.db_table
    export = DistrictExport._meta.db_table
    files = sql.Identifier(PackageVersion._meta.get_field("files").column)
    file = sql.Identifier(DistrictExport._meta.get_field("file").column)
    return [
        (package, sql.SQL("SELECT value FROM {t}, jsonb_each_text({c})").format(t=sql.Identifier(package), c=files)),
        (export, sql.SQL("SELECT {c} FROM {t} WHERE {c} <> ''").format(t=sql.Identifier(export), c=file)),
    ]


def referenced_names(cursor) -> set[str]:
    """Every storage name the rows refer to (read in the backup's snapshot)."""
    queries = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for f in model._meta.concrete_fields:
            if isinstance(f, FileField):
                table, column = model._meta.db_table, f.column
                queries.append((table, sql.SQL("SELECT {c} FROM {t} WHERE {c} <> ''").format(
                    c=sql.Identifier(column), t=sql.Identifier(table))))
    queries += _extra_file_references()
    names: set[str] = set()
    for table, query in queries:
        if cursor.execute("SELECT to_regclass(%s)", [table]).fetchone()[0] is None:
            continue
        names.update(r[0] for r in cursor.execute(query).fetchall() if r[0])
    return names


