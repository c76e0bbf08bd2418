"""`manage.py healthcheck`: the container healthcheck of the Celery worker and beat.

The same checks as /healthz (config.health): `SELECT 1` on the database and a short connection to
the Celery broker. Exit 0 with "ok" when both answer; otherwise exit 1 with one line naming each
failing part and its exception class. `-v 2` also prints the checks' log lines with the details.
"""
import logging

from django.core.management.base import BaseCommand, CommandError

from config import health


class Command(BaseCommand):
    help = "Check the database and the Celery broker; exit 1 with a one-line reason if either fails."
    # Docker runs this every minute: keep it to the two checks (`check --deploy` runs at build/CI).
    requires_system_checks = []
    requires_migrations_checks = False

    def handle(self, *args, **options):
        log = logging.getLogger(health.__name__)
        level = log.level
        if options["verbosity"] < 2:
            log.setLevel(logging.ERROR)  # the checks warn with the details: one line is the contract
        try:
            checks = health.run_checks()
        finally:
            log.setLevel(level)
        failing = [f"{name} ({check.get('error', 'failed')})" for name, check in checks.items() if not check["ok"]]
        if failing:
            raise CommandError("unhealthy: " + ", ".join(failing))
        self.stdout.write("ok: " + ", ".join(checks))
