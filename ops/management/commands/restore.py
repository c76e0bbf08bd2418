"""`make restore ARCHIVE=…`: load a backup archive into an EMPTY database and EMPTY storage.

Verifies the manifest's HMAC and every member's hash before it writes anything, and refuses a
database that has tables or storage that has files (ops/backup/).
"""
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ops import backup


class Command(BaseCommand):
    help = "Restore a backup archive into an empty database and empty storage (or --verify-only)."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("archive", help="path of a liushou-backup-*.tar archive")
        parser.add_argument("--verify-only", action="store_true",
                            help="check the archive's HMAC and hashes, print its manifest summary, write nothing")
        parser.add_argument("--database-name", default=None,
                            help="restore into this database of the same server instead of DATABASE_URL's "
                                 "(e.g. a side copy to look something up); it must exist and be empty")
        parser.add_argument("--media-root", default=None,
                            help="restore files into this empty folder instead of MEDIA_ROOT")

    def handle(self, *args, **options):
        archive = Path(options["archive"])
        try:
            if options["verify_only"]:
                manifest = backup.verify_archive(archive)
                self._summary(manifest)
                verified = f"{archive}: HMAC and all {len(manifest['members'])} hashes verified"
                self.stdout.write(self.style.SUCCESS(verified))
                return
            target = backup.target_from_settings(
                options["database_name"], Path(options["media_root"]) if options["media_root"] else None)
            result = backup.restore_backup(archive, target=target)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from None
        self._summary(result.manifest)
        where = target.media_root if target.media_root is not None else "no files (object storage)"
        self.stdout.write(f"  into database {target.database.name} and {where} "
                          f"in {result.seconds:.1f} s; row counts match the manifest")
        if target.media_root is None:
            self.stderr.write(self.style.WARNING(
                f"NOTE: storage is object storage ({backup.external_storage_name()}): restore wrote no files "
                f"({result.files_skipped} in the archive were skipped). The rows name files in the bucket: "
                "restore the bucket from its own versioning to the same point in time."))
        if result.pending_migrations:
            self.stdout.write(f"  this code has {result.pending_migrations} migration(s) the archive lacks: "
                              "run `manage.py migrate` next")
        self.stdout.write(self.style.SUCCESS("restore complete"))

    def _summary(self, m):
        self.stdout.write(
            f"archive of {m['created_at']} (app {m['app']['version']}, database {m['database']['name']}, "
            f"PostgreSQL {m['database']['server_version']})\n"
            f"  {len(m['tables'])} tables, {sum(m['tables'].values()):,} rows; "
            f"{m['media']['files']:,} files, {m['media']['bytes']:,} bytes"
            + (f" (files in object storage: {m['media']['external']})" if m["media"].get("external") else ""))
