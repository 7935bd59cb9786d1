"""Prometheus metrics under the names blackbox_exporter dashboards already use.

Per-URL series (`probe_success`, `probe_http_status_code`, `probe_duration_seconds`,
labelled by url and host) are read from the board at scrape time by a collector, so 10,000
URLs cost no metric objects of their own; the counters of the watch itself are ordinary
prometheus_client metrics.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from urlsweep.watch.board import Board

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_ROUND_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)


class _Probes(Collector):
    def __init__(self, board: Board) -> None:
        self.board = board

    def collect(self) -> Iterator[Metric]:
        labels = ["url", "host"]
        success = GaugeMetricFamily(
            "probe_success", "Whether the URL's last check was ok", labels=labels
        )
        status = GaugeMetricFamily(
            "probe_http_status_code",
            "HTTP status of the URL's last check (0: no answer)",
            labels=labels,
        )
        duration = GaugeMetricFamily(
            "probe_duration_seconds", "How long the URL's last check took", labels=labels
        )
        for url, host, ok, code, seconds in self.board.figures():
            success.add_metric([url, host], 1.0 if ok else 0.0)
            status.add_metric([url, host], float(code))
            duration.add_metric([url, host], seconds)
        yield success
        yield status
        yield duration


class Metrics:
    def __init__(self, board: Board) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_Probes(board))
        self.rounds = Counter(
            "urlsweep_rounds", "Rounds of checks completed", registry=self.registry
        )
        self.checks = Counter(
            "urlsweep_checks", "Checks made, by outcome", ["outcome"], registry=self.registry
        )
        self.round_duration = Histogram(
            "urlsweep_round_duration_seconds",
            "Time from a round's start to its last result",
            buckets=_ROUND_BUCKETS,
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
