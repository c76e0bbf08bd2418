from django.apps import AppConfig


class BenchmarksConfig(AppConfig):
    """`make bench`: every benchmark side by side in one run (no models, no URLs)."""

    name = "benchmarks"
    verbose_name = "Benchmarks"
