"""Prometheus metrics, one registry per app.

Each app gets its own `ServiceMetrics` (and so its own `CollectorRegistry`),
so tests and several apps in one process never clash over metric names.
Code that has no request at hand records through the module functions:

    from app.operations.metrics import record_framework_import

    record_framework_import("created")

They write to the metrics bound to the current context. The request middleware
binds the app's metrics for every request and for the app's lifespan (so
tasks started from the lifespan inherit them); anything else, such as a CLI
command or a test, binds them with `bound_metrics(metrics)`. With none bound a
call does nothing: a process without a `/metrics` endpoint has nobody to tell.

Label values must come from a small fixed vocabulary ("created", "rejected",
"failed", a source name), never from ids or error messages: every distinct
value is a new time series.

Several uvicorn workers: each worker is its own process with its own counters,
and a scrape reaches one of them at random. To add them up, point
`PROMETHEUS_MULTIPROC_DIR` at an empty directory that all workers share,
emptied before the server starts (stale files from an earlier run are counted
otherwise). prometheus_client then keeps values in files there, and `/metrics`
aggregates every worker's files with a `MultiProcessCollector`. The variable
must be set before the process starts, since prometheus_client reads it on
import.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

NAMESPACE = "standards_bridge"
HTTP_LABELS = ("method", "route", "status")
# Seconds; the service answers most requests in milliseconds, LTI launches and
# CASE imports that fetch remote documents take seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class ServiceMetrics:
    """The metrics of one app, registered in their own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.http_requests = Counter(
            "http_requests",
            "HTTP requests answered, by method, route template and status",
            HTTP_LABELS,
            namespace=NAMESPACE,
            registry=self.registry,
        )
        self.http_request_duration = Histogram(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by method, route template and status",
            HTTP_LABELS,
            namespace=NAMESPACE,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.lti_launches = self._outcome_counter(
            "lti_launches", "LTI launches, by outcome"
        )
        self.framework_imports = self._outcome_counter(
            "framework_imports", "CASE framework imports, by outcome"
        )
        self.case_sync_runs = self._outcome_counter(
            "case_sync_runs", "CASE synchronisation runs, by outcome"
        )
        self.evidence_ingested = Counter(
            "evidence_ingested",
            "Evidence records received, by source",
            ("source",),
            namespace=NAMESPACE,
            registry=self.registry,
        )

    def observe_request(
        self, *, method: str, route: str, status: int, seconds: float
    ) -> None:
        labels = {"method": method, "route": route, "status": str(status)}
        self.http_requests.labels(**labels).inc()
        self.http_request_duration.labels(**labels).observe(seconds)

    def exposition(self) -> tuple[bytes, str]:
        """The text exposition format and its media type."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    def _outcome_counter(self, name: str, documentation: str) -> Counter:
        return Counter(
            name,
            documentation,
            ("outcome",),
            namespace=NAMESPACE,
            registry=self.registry,
        )


_current_metrics: ContextVar[ServiceMetrics | None] = ContextVar(
    "standards_bridge_metrics", default=None
)


@contextmanager
def bound_metrics(metrics: ServiceMetrics) -> Iterator[ServiceMetrics]:
    """Send `record_*` calls in this context (and tasks it starts) to `metrics`."""
    token = _current_metrics.set(metrics)
    try:
        yield metrics
    finally:
        _current_metrics.reset(token)


def current_metrics() -> ServiceMetrics | None:
    return _current_metrics.get()


def record_lti_launch(outcome: str) -> None:
    """Count one LTI launch, e.g. "accepted" or "rejected"."""
    if metrics := _current_metrics.get():
        metrics.lti_launches.labels(outcome=outcome).inc()


def record_framework_import(outcome: str) -> None:
    """Count one framework import: "created", "updated", "unchanged" or "failed"."""
    if metrics := _current_metrics.get():
        metrics.framework_imports.labels(outcome=outcome).inc()


def record_case_sync_run(outcome: str) -> None:
    """Count one CASE synchronisation run, e.g. "succeeded" or "failed"."""
    if metrics := _current_metrics.get():
        metrics.case_sync_runs.labels(outcome=outcome).inc()


def record_evidence_ingested(source: str, count: int = 1) -> None:
    """Count `count` evidence records received from `source` (e.g. "lti", "api")."""
    if metrics := _current_metrics.get():
        metrics.evidence_ingested.labels(source=source).inc(count)
