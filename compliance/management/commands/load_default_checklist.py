"""Load the default checklist (compliance/default_checklist.yaml) for a district. Idempotent."""
from django.core.management.base import BaseCommand, CommandError

from compliance.services import checklist_load_default
from tenancy.models import District
from tenancy.scoping import district_scope


class Command(BaseCommand):
    help = "Load and publish the default compliance checklist for a district (by code). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("district", help="district code, e.g. mingguang")
        parser.add_argument("--file", help="another checklist YAML file instead of the default")

    def handle(self, *args, district, file=None, **options):
        target = District.objects.filter(code=district).first()
        if target is None:
            raise CommandError(f"No district with code {district!r}.")
        with district_scope(target):  # the command acts for that one district
            version = checklist_load_default(district=target, path=file)
            self.stdout.write(self.style.SUCCESS(
                f"{target.name}: {version.checklist.code} v{version.number} ({version.status}), "
                f"{version.items.count()} items, {version.declared_total} points"))
