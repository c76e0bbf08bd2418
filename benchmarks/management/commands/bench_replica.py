"""`manage.py bench_replica [--quick]`: the read-replica section of the benchmarks alone
(benchmarks/replica.py); DATABASE_REPLICA_URL names the standby (.ci/standby.sh start)."""
from __future__ import annotations

import json
import os

from django.core.management.base import BaseCommand

from benchmarks import throwaway
from benchmarks.replica import replica_section


class Command(BaseCommand):
    help = "Queries the primary serves for the bureau dashboard, and teacher write latency, with and without the replica."

    def add_arguments(self, parser):
        parser.add_argument("--quick", action="store_true", help="a tiny district and a few seconds per phase")

    def handle(self, *args, **opts):
        result = replica_section(throwaway.database_url(), os.environ.get("DATABASE_REPLICA_URL") or None,
                                 quick=opts["quick"])
        self.stdout.write(json.dumps(result, indent=2, default=str))
