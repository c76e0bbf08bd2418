"""Load the demo district. Idempotent: running it twice changes nothing. Refused in production."""
import importlib
from datetime import date

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

# Apps contribute `<app>.demo.seed(ctx)`, run in this order; later ones build on earlier ones.
SEED_ORDER = ["tenancy", "schools", "compliance", "submissions"]


class Command(BaseCommand):
    help = "Load the demo district (schools, users, records). Idempotent; refused under production settings."

    def add_arguments(self, parser):
        parser.add_argument("--today", type=date.fromisoformat, default=None,
                            help="Build the demo as of this date (YYYY-MM-DD; default: today). The semesters "
                                 "and reporting year follow it.")

    def handle(self, *args, **options):
        if not getattr(settings, "DEMO_DATA_ALLOWED", False):
            raise CommandError("seed_demo is refused under production settings: it creates known passwords.")
        ctx: dict = {"stdout": self.stdout, "today": options.get("today") or timezone.localdate()}
        with transaction.atomic():
            for label in SEED_ORDER:
                if not apps.is_installed(label):
                    continue
                try:
                    module = importlib.import_module(f"{label}.demo")
                except ModuleNotFoundError as exc:
                    if exc.name == f"{label}.demo":
                        continue
                    raise
                module.seed(ctx)
                self.stdout.write(f"seeded {label}")
        self.stdout.write(self.style.SUCCESS("demo district ready"))
