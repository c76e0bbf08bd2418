"""Backup and restore round trip on the real PostgreSQL server, and archives that must be refused.

The demo district (8 schools, children, contacts, activities with photo evidence, rule documents,
compiled submission packages) is committed to the test database once for this module, backed up
with `manage.py backup`, and restored with `manage.py restore` into a database created here with
the admin connection (dropped afterwards) and a fresh media folder. On a bare machine that is the
embedded pgserver; under `.ci/run` it is the machine's PostgreSQL via DATABASE_ADMIN_URL.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
import shutil
import stat
import tarfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from psycopg import sql

from ops import backup

KEY = "test-backup-key-0123456789"
# Some test of the session must ask for the database, or pytest-django sets up no test database
# and the module fixture below would run against the developer's own.
# One worker runs the module, so the module-scoped `source` (the demo and its archive) is made once.
pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("backup")]


# ---------------------------------------------------------------- helpers
def counts(database: backup.Database) -> dict[str, int]:
    """Rows per table, counted independently of ops.backup (admin role: RLS does not hide rows)."""
    with database.connect() as conn:
        tables = conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = 'r' AND n.nspname = 'public' ORDER BY 1").fetchall()
        return {t: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(t))).fetchone()[0]
                for (t,) in tables}


def relations(database: backup.Database) -> int:
    with database.connect() as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'"
        ).fetchone()[0]


def file_hashes(root: Path) -> dict[str, str]:
    if not root.exists():
        return {}
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def security(database: backup.Database) -> dict:
    """Row-level security flags, policies and triggers: isolation must survive a restore."""
    with database.connect() as conn:
        rls = conn.execute(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
            "WHERE relrowsecurity ORDER BY 1").fetchall()
        policies = conn.execute("SELECT tablename, policyname, qual FROM pg_policies ORDER BY 1, 2").fetchall()
        triggers = conn.execute(
            "SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1, 2").fetchall()
    return {"rls": rls, "policies": policies, "triggers": triggers}


def app_url(dbname: str) -> str:
    from tests.support.db import database_url

    return database_url({**settings.DATABASES["default"], "NAME": dbname})


def rewrite(src: Path, dest: Path, *, replace: dict[str, bytes] | None = None,
            add: dict[str, bytes] | None = None, manifest_edit=None) -> None:
    """Copy an archive member by member, replacing or adding members and editing the manifest
    (the old HMAC is kept: whoever tampers does not have the key)."""
    replace, add = replace or {}, add or {}
    with tarfile.open(src) as tin, tarfile.open(dest, "w", format=tarfile.PAX_FORMAT) as tout:
        members = [(m, tin.extractfile(m).read()) for m in tin]
        for member, data in members:
            if member.name == backup.MANIFEST_MEMBER and manifest_edit:
                manifest = json.loads(data)
                manifest_edit(manifest)
                data = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
            data = replace.get(member.name, data)
            if member.name == backup.MANIFEST_MEMBER:
                for name, extra in add.items():
                    info = tarfile.TarInfo(name)
                    info.size = len(extra)
                    tout.addfile(info, io.BytesIO(extra))
            member.size = len(data)
            tout.addfile(member, io.BytesIO(data))


# ---------------------------------------------------------------- fixtures
@dataclass
class Source:
    archive: Path
    database: backup.Database
    counts: dict[str, int]
    hashes: dict[str, str]
    security: dict
    stdout: str
    missing_probe: tuple[dict, str]  # (manifest, stderr) of a backup made with the files gone


@pytest.fixture(scope="module")
def source(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo district committed to the test database, its files in a media folder of its own,
    and one archive of both. The database is flushed again before any test runs, so the tests (and
    later modules) start from the usual empty test database."""
    name = settings.DATABASES["default"]["NAME"]
    # Commits and a flush: never let that reach a developer's database.
    assert name.startswith("test_"), f"not a test database: {name}"
    media = tmp_path_factory.mktemp("source-media")
    out = tmp_path_factory.mktemp("backups")
    with override_settings(MEDIA_ROOT=str(media), BACKUP_HMAC_KEYS=[KEY]), django_db_blocker.unblock():
        try:
            call_command("seed_demo", stdout=io.StringIO())
            # A file no row names (an orphan, like an upload written while a backup runs).
            (media / "orphan.bin").write_bytes(b"written outside any row")
            stdout = io.StringIO()
            call_command("backup", output_dir=str(out), stdout=stdout)
            (archive,) = out.glob("liushou-backup-*.tar")
            database = backup.admin_database(name)
            # The same rows with storage emptied, as if every file were deleted during the backup.
            gone, probe_out, probe_err = tmp_path_factory.mktemp("gone"), tmp_path_factory.mktemp("probe"), io.StringIO()
            with override_settings(MEDIA_ROOT=str(gone)):
                call_command("backup", output_dir=str(probe_out), stdout=io.StringIO(), stderr=probe_err)
            (probe,) = probe_out.glob("liushou-backup-*.tar")
            made = Source(archive=archive, database=database, counts=counts(database),
                          hashes=file_hashes(media), security=security(database), stdout=stdout.getvalue(),
                          missing_probe=(backup.verify_archive(probe, [KEY.encode()]), probe_err.getvalue()))
        finally:
            call_command("flush", interactive=False, verbosity=0)
    return made


def _new_database() -> backup.Database:
    """A new, empty database owned by the owner role, as db_bootstrap makes it (admin connection)."""
    name = f"test_restore_{os.getpid()}_{secrets.token_hex(3)}"
    with backup.admin_database("postgres").connect() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER {} ENCODING 'UTF8' TEMPLATE template0").format(
            sql.Identifier(name), sql.Identifier(settings.DATABASE_OWNER["USER"])))
    return backup.admin_database(name)


def _drop_database(db: backup.Database) -> None:
    with backup.admin_database("postgres").connect() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db.name)))


@pytest.fixture
def fresh_db():
    db = _new_database()
    try:
        yield db
    finally:
        _drop_database(db)


def ownership(database: backup.Database) -> dict:
    """Who owns what, and what the runtime role may do, in `database`."""
    runtime = settings.DATABASES["default"]["USER"]
    with database.connect() as conn:
        owners = {r[0] for r in conn.execute(
            "SELECT DISTINCT pg_get_userbyid(c.relowner) FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = 'public' UNION SELECT pg_get_userbyid(datdba) "
            "FROM pg_database WHERE datname = current_database()").fetchall()}
        grants = {t: p for t, p in conn.execute(
            "SELECT c.relname, array_agg(p ORDER BY p) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, "
            "unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'TRIGGER']) p WHERE n.nspname = 'public' "
            "AND c.relkind = 'r' AND has_table_privilege(%s, c.oid, p) GROUP BY 1", [runtime]).fetchall()}
    return {"owners": owners, "grants": grants}


@pytest.fixture(autouse=True)
def _key(settings):
    settings.BACKUP_HMAC_KEYS = [KEY]


def restore(archive: Path, db: backup.Database, media: Path, **options) -> str:
    out = io.StringIO()
    call_command("restore", str(archive), database_name=db.name, media_root=str(media), stdout=out, **options)
    return out.getvalue()


def refused(archive: Path, db: backup.Database, media: Path) -> str:
    """Restore must refuse, and leave the database and the media folder as empty as they were."""
    with pytest.raises(CommandError) as info:
        restore(archive, db, media)
    assert relations(db) == 0
    assert file_hashes(media) == {}
    return str(info.value)


# ---------------------------------------------------------------- the round trip
def test_backup_archives_the_database_and_every_file(source):
    manifest = backup.verify_archive(source.archive, [KEY.encode()])
    assert manifest["tables"] == source.counts
    assert sum(source.counts.values()) > 1000 and source.counts["schools_evidence"] > 20
    assert len({s for s in source.counts if s.startswith("schools_")}) > 10
    media = {n[len("media/"):]: m["sha256"] for n, m in manifest["members"].items() if n.startswith("media/")}
    assert media == source.hashes and len(media) > 100
    assert any(n.startswith("evidence/") for n in media) and any(n.startswith("submissions/") for n in media)
    # Files named by rows in several schools; the orphan is archived but named by no row.
    assert len({n.split("/")[1] for n in media if n.startswith("evidence/")}) >= 4
    assert manifest["media"]["missing"] == [] and manifest["media"]["unreferenced"] == 1
    assert ["tenancy", "0001_initial"] in manifest["migrations"]
    assert manifest["app"]["version"] and manifest["created_at"].endswith("Z")
    assert stat.S_IMODE(source.archive.stat().st_mode) == 0o600  # minors' data: owner only
    assert "backup complete" in source.stdout


def test_files_that_rows_name_but_storage_lacks_are_reported(source):
    """Every stored file of the demo (evidence, thumbnails, packages) is recognised as named by a
    row; with storage gone they are all listed as missing, and backup warns."""
    manifest, stderr = source.missing_probe
    assert manifest["media"]["missing"] == sorted(n for n in source.hashes if n != "orphan.bin")
    assert manifest["media"]["files"] == 0
    assert f"WARNING: {len(source.hashes) - 1} file(s) named by the database are not in storage" in stderr


def test_round_trip_into_a_fresh_database_and_media_folder(source, fresh_db, tmp_path):
    media = tmp_path / "restored-media"
    out = restore(source.archive, fresh_db, media)
    assert "restore complete" in out and "row counts match" in out

    assert counts(fresh_db) == source.counts
    assert file_hashes(media) == source.hashes
    # Row-level security (FORCE), its policies and the append-only/immutability triggers came back.
    assert security(fresh_db) == source.security
    assert any(force for _t, _on, force in security(fresh_db)["rls"])
    # The restored tables belong to the owner role; the app's runtime role has its grants (the access
    # log: SELECT and INSERT only), and RLS binds it there: no scope, no rows.
    restored = ownership(fresh_db)
    assert restored == ownership(source.database)
    assert restored["owners"] == {settings.DATABASE_OWNER["USER"]}
    assert restored["grants"]["tenancy_accesslog"] == ["INSERT", "SELECT"]
    assert restored["grants"]["schools_child"] == ["DELETE", "INSERT", "SELECT", "UPDATE"]
    assert len(restored["grants"]) == len(source.counts)
    import psycopg

    with psycopg.connect(app_url(fresh_db.name)) as conn:
        assert conn.execute("SELECT count(*) FROM tenancy_school").fetchone()[0] == source.counts["tenancy_school"]
        assert conn.execute("SELECT count(*) FROM schools_child").fetchone()[0] == 0
        school = conn.execute("SELECT school_id FROM schools_child LIMIT 1").fetchone()
        assert school is None
    assert source.counts["schools_child"] > 0


def test_an_archive_from_a_single_role_installation_comes_back_owned_by_the_owner(source, fresh_db, tmp_path):
    """Before the two roles, the app's own role owned every table and the archive says so: restored,
    the tables belong to the owner role and the app's role has only its grants again."""
    from config import db_roles

    runtime, owner = settings.DATABASES["default"]["USER"], settings.DATABASE_OWNER["USER"]
    restore(source.archive, fresh_db, tmp_path / "first")
    with fresh_db.connect() as conn, conn.transaction():  # make it what such an installation looked like
        db_roles.adopt(conn, owner=runtime, previous=owner)
        conn.execute(f"ALTER DATABASE {db_roles.ident(fresh_db.name)} OWNER TO {db_roles.ident(runtime)}")
    assert ownership(fresh_db)["owners"] == {runtime}
    old = backup.create_backup(output_dir=tmp_path / "old", database=fresh_db, media_root=tmp_path / "first")
    assert old.manifest["database"]["table_owners"] == [runtime]

    again = _new_database()
    try:
        restore(old.path, again, tmp_path / "again")
        assert ownership(again) == ownership(source.database)
        assert ownership(again)["owners"] == {owner}
        assert counts(again) == source.counts
    finally:
        _drop_database(again)


# ---------------------------------------------------------------- object storage (S3)
@pytest.fixture
def object_storage(settings):
    """The default storage is not on the filesystem (like S3Storage): backup/restore leave files to
    the bucket's own versioning."""
    from django.core.files.storage import default_storage

    from tests.support import storage as memory_storage

    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": memory_storage.BACKEND}}
    assert backup.storage_root() is None
    return default_storage


def test_backup_with_object_storage_holds_the_database_only(source, object_storage, tmp_path):
    from django.core.files.base import ContentFile

    object_storage.save("evidence/1/in-the-bucket.jpg", ContentFile(b"photo"))
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("backup", output_dir=str(tmp_path), stdout=stdout, stderr=stderr)
    (archive,) = tmp_path.glob("liushou-backup-*.tar")
    manifest = backup.verify_archive(archive, [KEY.encode()])
    assert set(manifest["members"]) == {backup.DUMP_MEMBER}
    assert manifest["media"]["files"] == 0 and manifest["media"]["missing"] == []
    assert manifest["media"]["external"] == "PathlessMemoryStorage"
    assert "backup complete" in stdout.getvalue()
    assert "NOTE: storage is PathlessMemoryStorage" in stderr.getvalue() and "database only" in stderr.getvalue()


def test_restore_with_object_storage_loads_the_database_and_skips_the_files(source, fresh_db, object_storage):
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("restore", str(source.archive), database_name=fresh_db.name, stdout=stdout, stderr=stderr)
    assert "restore complete" in stdout.getvalue() and "no files (object storage)" in stdout.getvalue()
    assert counts(fresh_db) == source.counts
    skipped = len(source.hashes)
    assert f"restore wrote no files ({skipped} in the archive were skipped)" in stderr.getvalue()
    assert object_storage.listdir("") == ([], []), "nothing was written to the object storage"


def test_refuses_a_database_that_is_not_empty(source, tmp_path):
    """The test database (migrated, so it has tables) stands in for a live one."""
    before = counts(source.database)
    with pytest.raises(CommandError, match="(?s)is not empty.*Nothing was restored"):
        restore(source.archive, source.database, tmp_path / "media")
    assert counts(source.database) == before
    assert not (tmp_path / "media").exists()


def test_refuses_storage_that_is_not_empty(source, fresh_db, tmp_path):
    media = tmp_path / "media"
    media.mkdir()
    (media / "keep.txt").write_text("someone's file")
    with pytest.raises(CommandError, match=r"storage .* is not empty"):
        restore(source.archive, fresh_db, media)
    assert relations(fresh_db) == 0
    assert file_hashes(media) == {"keep.txt": hashlib.sha256(b"someone's file").hexdigest()}


def test_verify_only_writes_nothing(source, capsys):
    out = io.StringIO()
    call_command("restore", str(source.archive), verify_only=True, stdout=out)
    assert "HMAC and all" in out.getvalue() and "hashes verified" in out.getvalue()


# ---------------------------------------------------------------- tampered archives
def _a_photo(archive: Path) -> str:
    with tarfile.open(archive) as tar:
        return next(m.name for m in tar if m.name.startswith("media/evidence/") and m.name.endswith(".jpg"))


def test_a_changed_file_is_refused(source, fresh_db, tmp_path):
    bad = tmp_path / "changed-file.tar"
    shutil.copy(source.archive, bad)
    name = _a_photo(bad)
    with tarfile.open(bad) as tar:
        offset = tar.getmember(name).offset_data
    with bad.open("r+b") as fh:  # flip bytes inside the photo, in place: same size, same tar layout
        fh.seek(offset + 100)
        chunk = fh.read(8)
        fh.seek(offset + 100)
        fh.write(bytes(b ^ 0xFF for b in chunk))
    message = refused(bad, fresh_db, tmp_path / "media")
    assert f"hash mismatch: {name}" in message and "Nothing was restored" in message


def test_a_changed_file_with_its_hash_changed_in_the_manifest_is_refused(source, fresh_db, tmp_path):
    """The HMAC is what catches this: every hash matches its member."""
    bad = tmp_path / "changed-manifest.tar"
    name = _a_photo(source.archive)
    forged = b"\xff\xd8\xff forged photo"

    def edit(manifest):
        manifest["members"][name] = {"sha256": hashlib.sha256(forged).hexdigest(), "size": len(forged)}

    rewrite(source.archive, bad, replace={name: forged}, manifest_edit=edit)
    message = refused(bad, fresh_db, tmp_path / "media")
    assert "HMAC does not match" in message


def test_an_edited_manifest_is_refused(source, fresh_db, tmp_path):
    bad = tmp_path / "edited-manifest.tar"
    rewrite(source.archive, bad, manifest_edit=lambda m: m["tables"].update(tenancy_school=1))
    assert "HMAC does not match" in refused(bad, fresh_db, tmp_path / "media")


@pytest.mark.parametrize("cut", ["in the dump", "in a photo", "before the manifest", "in the manifest"])
def test_a_truncated_archive_is_refused(source, fresh_db, tmp_path, cut):
    with tarfile.open(source.archive) as tar:
        members = {m.name: m for m in tar}
    photo, manifest = members[_a_photo(source.archive)], members[backup.MANIFEST_MEMBER]
    at = {
        "in the dump": members[backup.DUMP_MEMBER].offset_data + 1000,
        "in a photo": photo.offset_data + photo.size // 2,
        "before the manifest": manifest.offset,  # a clean cut at a member boundary
        "in the manifest": manifest.offset_data + manifest.size // 2,
    }[cut]
    bad = tmp_path / "truncated.tar"
    bad.write_bytes(source.archive.read_bytes()[:at])
    message = refused(bad, fresh_db, tmp_path / "media")
    assert "truncated" in message and "Nothing was restored" in message


def test_a_member_not_in_the_manifest_is_refused(source, fresh_db, tmp_path):
    bad = tmp_path / "extra.tar"
    rewrite(source.archive, bad, add={"media/evidence/1/planted.jpg": b"planted"})
    assert "not in the manifest: media/evidence/1/planted.jpg" in refused(bad, fresh_db, tmp_path / "media")


def test_an_unsafe_member_name_is_refused(source, fresh_db, tmp_path):
    bad = tmp_path / "escape.tar"
    rewrite(source.archive, bad, add={"media/../../etc/evil": b"x"})
    assert "unexpected member" in refused(bad, fresh_db, tmp_path / "media")
    assert not (tmp_path / "etc").exists()


def test_another_key_is_refused(source, fresh_db, tmp_path, settings):
    settings.BACKUP_HMAC_KEYS = ["another-key"]
    message = refused(source.archive, fresh_db, tmp_path / "media")
    assert "HMAC does not match" in message and backup.key_id(KEY.encode()) in message


def test_a_rotated_key_still_verifies(source, settings):
    settings.BACKUP_HMAC_KEYS = ["the-new-key", KEY]
    call_command("restore", str(source.archive), verify_only=True, stdout=io.StringIO())


def test_a_failing_pg_restore_leaves_nothing_behind(source, fresh_db, tmp_path):
    """Verified archive, but the load fails half-way (an object already exists): the database rolls
    back and the files already moved into storage are removed."""
    with fresh_db.connect() as conn:
        conn.execute("CREATE FUNCTION compliance_append_only() RETURNS trigger AS $$ BEGIN RETURN NULL; END $$ "
                     "LANGUAGE plpgsql")
    media = tmp_path / "media"
    with pytest.raises(CommandError, match="pg_restore failed(.|\n)*Nothing was restored"):
        restore(source.archive, fresh_db, media)
    assert relations(fresh_db) == 0
    assert file_hashes(media) == {} and list(media.iterdir()) == []


# ---------------------------------------------------------------- connections, tools, retention
def test_the_app_role_cannot_make_a_backup(source, tmp_path):
    """RLS hides other schools' rows from the app role, so backup refuses it outright."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(app_url(settings.DATABASES["default"]["NAME"]))
    password = params.pop("password", None)
    app = backup.Database(name=params["dbname"], conninfo=make_conninfo("", **params), password=password)
    with pytest.raises(backup.BackupError, match="neither superuser nor BYPASSRLS"):
        backup.create_backup(output_dir=tmp_path, database=app, media_root=tmp_path / "none")
    assert list(tmp_path.iterdir()) == []  # no partial archive left


def test_backup_refuses_an_output_folder_inside_storage(source, tmp_path):
    with pytest.raises(backup.BackupError, match="inside storage"):
        backup.create_backup(output_dir=tmp_path / "media" / "backups", media_root=tmp_path / "media")


def _fake_client(folder: Path, version: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for tool in ("pg_dump", "pg_restore"):
        script = folder / tool
        script.write_text(f"#!/bin/sh\necho '{tool} (PostgreSQL) {version}'\n")
        script.chmod(0o755)


def test_a_client_older_than_the_server_is_refused(tmp_path, settings):
    _fake_client(tmp_path / "old", "9.6")
    settings.BACKUP_PG_BIN_DIR = str(tmp_path / "old")
    with pytest.raises(backup.BackupError, match=r"no pg_dump of PostgreSQL 15 or newer in BACKUP_PG_BIN_DIR=.*found: 9\.6"):
        backup.find_tool("pg_dump", 15)
    _fake_client(tmp_path / "new", "17.1")
    settings.BACKUP_PG_BIN_DIR = str(tmp_path / "new")
    assert backup.find_tool("pg_restore", 15).version == (17, 1)


def test_the_default_client_matches_the_server(source):
    with source.database.connect() as conn:
        major = conn.info.server_version // 10000
    tool = backup.find_tool("pg_dump", major)
    assert tool.version[0] >= major
    manifest = backup.verify_archive(source.archive, [KEY.encode()])
    assert int(manifest["database"]["pg_dump_version"].split(".")[0]) >= major


def test_keep_removes_all_but_the_newest_archives(tmp_path):
    for stamp in ("20260101T000000Z", "20260102T000000Z", "20260103T000000Z"):
        (tmp_path / f"liushou-backup-{stamp}.tar").write_bytes(b"x")
    (tmp_path / "unrelated.tar").write_bytes(b"x")
    # What a killed backup leaves: removed once it is a day old, never while a backup may be writing it.
    stale, fresh = tmp_path / "liushou-backup-20260101T000000Z.tar.partial", tmp_path / ".liushou-backup-x.dump.partial"
    stale.write_bytes(b"x")
    fresh.write_bytes(b"x")
    os.utime(stale, (0, 0))
    removed = backup.prune(tmp_path, 2)
    assert [p.name for p in removed] == ["liushou-backup-20260101T000000Z.tar", stale.name]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        fresh.name, "liushou-backup-20260102T000000Z.tar", "liushou-backup-20260103T000000Z.tar", "unrelated.tar"]


def test_without_backup_hmac_key_the_key_comes_from_the_secret_key(settings):
    settings.BACKUP_HMAC_KEYS = []
    settings.SECRET_KEY = "one-secret-key-" + "x" * 40
    first = backup.hmac_keys()
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    assert len(first) == 1 and backup.hmac_keys() != first
    assert first[0] != settings.SECRET_KEY.encode()  # derived, not the secret itself
    settings.BACKUP_HMAC_KEYS = ["new", "old"]
    assert backup.hmac_keys() == [b"new", b"old"]  # the first signs, all verify


def test_a_garbled_signature_is_refused(source, fresh_db, tmp_path):
    bad = tmp_path / "garbled.tar"
    rewrite(source.archive, bad, replace={backup.SIGNATURE_MEMBER: "签名".encode() + b"\xff\n"})
    assert "HMAC does not match" in refused(bad, fresh_db, tmp_path / "media")


def test_not_an_archive_is_refused(fresh_db, tmp_path, source):
    bad = tmp_path / "photo.tar"
    bad.write_bytes(b"\xff\xd8\xff\xe0 just a JPEG" * 100)
    assert "damaged or truncated" in refused(bad, fresh_db, tmp_path / "media")
