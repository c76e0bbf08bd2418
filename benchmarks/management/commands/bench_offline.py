"""`make bench-offline`: the time a teacher's phone needs, once the signal returns, to send 50
contacts and 10 photos recorded without a signal (real Chromium, the real service worker and
outbox, Django's live server) in a throwaway database, dropped afterwards. Writes
var/bench/offline.json; asserts nothing on the time, but fails unless every record arrived once."""
from __future__ import annotations

import json
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from benchmarks import offline, throwaway


class Command(BaseCommand):
    help = "Offline sync: 50 contacts and 10 photos sent after the connection returns; writes var/bench/offline.json."

    def add_arguments(self, parser):
        parser.add_argument("--contacts", type=int, default=50)
        parser.add_argument("--photos", type=int, default=10)
        parser.add_argument("--database", default="liushou_bench_offline", help="the throwaway database's name")
        parser.add_argument("--output", default=str(Path(settings.BASE_DIR) / "var" / "bench" / "offline.json"))

    def handle(self, *args, **opts):
        if opts["photos"] > opts["contacts"]:
            raise CommandError("One photo per contact at most: --photos must not exceed --contacts.")
        with throwaway.throwaway_database(opts["database"]):
            started = time.perf_counter()
            call_command("migrate", verbosity=0, interactive=False)
            data = offline.build(children=opts["contacts"])
            setup_s = round(time.perf_counter() - started, 1)
            result = offline.run(data, contacts=opts["contacts"], photos=opts["photos"])
        result["setup_s"] = setup_s
        out = Path(opts["output"])
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2))
        self.stdout.write(f"offline sync: {result['contacts']} contacts + {result['photos']} photos "
                          f"(~{result['photo_bytes_avg'] // 1024} KB each) in {result['sync_s']} s "
                          f"({result['per_record_ms']} ms per record); stored {result['stored_contacts']} contacts, "
                          f"{result['stored_photos']} photos; written to {out}")
        if not result["exactly_once"]:
            raise CommandError("The sync did not store every record exactly once.")
