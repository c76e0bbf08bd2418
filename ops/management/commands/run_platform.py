"""`make run`: migrate, load the demo, then serve the web app with a Celery worker and beat."""
import os
import signal
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from config.queues import queues


def worker_command(celery: list[str]) -> list[str]:
    """One worker for every queue (config/queues.py): nothing routed is left unconsumed."""
    return [*celery, "worker", "-Q", ",".join(queues(settings.CELERY_TASK_DEFAULT_QUEUE)), "--loglevel=INFO",
            "--concurrency=2"]


class Command(BaseCommand):
    help = "Migrate, seed the demo district and run web + Celery worker + beat (PORT overrides 8000)."

    def add_arguments(self, parser):
        parser.add_argument("--no-seed", action="store_true")

    def handle(self, *args, **options):
        root = Path(settings.BASE_DIR)
        if os.environ.get("DATABASE_ADMIN_URL"):
            call_command("db_bootstrap")  # both database roles, on the configured server
        # As the owner role (ops/management/commands/migrate.py); everything after this, and the
        # worker, beat and web processes, run as the runtime role.
        call_command("migrate", interactive=False, verbosity=1)
        if not options["no_seed"]:
            call_command("seed_demo")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(root), str(root / "platform"), env.get("PYTHONPATH", "")])
        env.setdefault("DJANGO_SETTINGS_MODULE", os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.local"))
        celery = [sys.executable, "-m", "celery", "-A", "config.celery_app"]
        port = os.environ.get("PORT", "8000")
        children = [
            subprocess.Popen(worker_command(celery), cwd=root, env=env),
            subprocess.Popen([*celery, "beat", "--loglevel=INFO"], cwd=root, env=env),
        ]
        self.stdout.write(self.style.SUCCESS(f"Serving on http://127.0.0.1:{port}/ (Ctrl-C stops everything)"))

        def _stop(signum, frame):  # `kill` (SIGTERM) stops everything too, like Ctrl-C, with no orphans
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, _stop)
        try:
            web = subprocess.Popen([sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                                   cwd=root, env=env)
            children.append(web)
            web.wait()
        except KeyboardInterrupt:
            pass
        finally:
            for child in children:
                if child.poll() is None:
                    child.terminate()
            for child in children:
                try:
                    child.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    child.kill()
