"""Metrics: what an automatic checklist item measures.

registry (the Metric type and its registration), sql (the statements' building blocks),
defaults (the default checklist's metrics) and gaps (their drill-down), the last two registered
from ComplianceConfig.ready.
"""
from .registry import (
    DEFAULT_METRIC_KEYS,
    REGISTRY,
    Metric,
    MetricFunc,
    compute_metrics,
    get_metric,
    load_extra_metric_modules,
    metric_keys,
    register_gaps,
    register_metric,
)

__all__ = [
    "DEFAULT_METRIC_KEYS", "REGISTRY", "Metric", "MetricFunc", "compute_metrics", "get_metric",
    "load_extra_metric_modules", "metric_keys", "register_gaps", "register_metric",
]
