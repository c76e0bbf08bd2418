"""`make backup`: one archive with the database dump and every stored file (ops/backup/).

The dump needs a role that bypasses row-level security: the embedded server's superuser when
DATABASE_URL is unset, otherwise DATABASE_ADMIN_URL.
"""
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ops import backup


class Command(BaseCommand):
    help = "Write a backup archive (database dump + stored files + signed manifest)."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--output-dir", default=None,
                            help="folder for the archive (default: BACKUP_DIR, var/backups)")
        parser.add_argument("--keep", type=int, default=None,
                            help="after a successful backup, delete all but the newest N archives in the folder")

    def handle(self, *args, **options):
        output_dir = Path(options["output_dir"] or settings.BACKUP_DIR)
        try:
            if options["keep"] is not None and options["keep"] < 1:
                raise backup.BackupError("--keep must be at least 1.")
            result = backup.create_backup(output_dir=output_dir)
            removed = backup.prune(output_dir, options["keep"]) if options["keep"] else []
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from None
        m = result.manifest
        media = m["media"]
        self.stdout.write(
            f"{result.path}\n"
            f"  {result.path.stat().st_size:,} bytes in {result.seconds:.1f} s; created {m['created_at']}\n"
            f"  database {m['database']['name']}: {len(m['tables'])} tables, {sum(m['tables'].values()):,} rows "
            f"(PostgreSQL {m['database']['server_version']}, pg_dump {m['database']['pg_dump_version']})\n"
            f"  storage: {media['files']:,} files, {media['bytes']:,} bytes "
            f"({media['unreferenced']} not named by any row)\n"
            f"  manifest signed with key id {m['key_id']}")
        for path in removed:
            self.stdout.write(f"  removed old archive {path.name}")
        if media.get("external"):
            self.stderr.write(self.style.WARNING(
                f"NOTE: storage is {media['external']}: {backup.EXTERNAL_STORAGE_NOTE}. "
                "This archive holds the database only."))
        if media["missing"]:
            self.stderr.write(self.style.WARNING(
                f"WARNING: {len(media['missing'])} file(s) named by the database are not in storage "
                f"(deleted during the backup, or missing before it): {', '.join(media['missing'][:10])}"))
        self.stdout.write(self.style.SUCCESS("backup complete"))
