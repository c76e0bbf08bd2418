"""Load the demo district. Idempotent: running it twice changes nothing. Refused in production."""
from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from care import demo as care_demo
from compliance import demo as compliance_demo
from privacy import demo as privacy_demo
from schools import demo as schools_demo
from submissions import demo as submissions_demo
from tenancy import demo as tenancy_demo

# Each app's `seed(ctx)`, in this order: later ones build on what earlier ones put in ctx.
SEEDS = [
    ("tenancy", tenancy_demo.seed),
    ("schools", schools_demo.seed),
    ("privacy", privacy_demo.seed),
    ("compliance", compliance_demo.seed),
    ("submissions", submissions_demo.seed),
    ("care", care_demo.seed),
]


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
            for label, seed in SEEDS:
                seed(ctx)
                self.stdout.write(f"seeded {label}")
        self.stdout.write(self.style.SUCCESS("demo district ready"))
