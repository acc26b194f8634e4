"""Prometheus metrics of one API process (``GET /metrics``).

* ``newsdesk_http_requests_total{method, route, status}`` — by route *template*, so ids in paths do
  not explode the label set; ``newsdesk_http_request_duration_seconds{method, route}``;
* ``newsdesk_engine_stage_seconds{stage}`` — from each ``Answer.timings_ms`` (condense, retrieve,
  answer, total); ``newsdesk_answers_total{outcome}`` — answered or declined;
* ``newsdesk_documents`` / ``newsdesk_chunks`` — read from the store at scrape time.

Each app has its own registry (several apps can live in one process, as in tests). With several
worker processes each worker reports its own counters; scrape them per process or aggregate.
"""

from __future__ import annotations

import logging
import math

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from assistant.answer import Answer

log = logging.getLogger("assistant.api")

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4  # the text format every Prometheus version reads

HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
STAGE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self, store=None):
        self.store = store
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "newsdesk_http_requests", "HTTP requests by route template and status.", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "newsdesk_http_request_duration_seconds",
            "HTTP request latency by route template (streams: until the last event).",
            ["method", "route"],
            buckets=HTTP_BUCKETS,
            registry=self.registry,
        )
        self.stages = Histogram(
            "newsdesk_engine_stage_seconds",
            "Engine latency per stage, from Answer.timings_ms.",
            ["stage"],
            buckets=STAGE_BUCKETS,
            registry=self.registry,
        )
        self.answers = Counter("newsdesk_answers", "Answers by outcome.", ["outcome"], registry=self.registry)
        self.documents = Gauge("newsdesk_documents", "Documents (articles) in the store.", registry=self.registry)
        self.chunks = Gauge("newsdesk_chunks", "Chunks in the store.", registry=self.registry)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def observe_answer(self, answer: Answer) -> None:
        for stage, ms in answer.timings_ms.items():
            self.stages.labels(stage).observe(ms / 1000.0)
        self.answers.labels("declined" if answer.declined else "answered").inc()

    def render(self) -> bytes:
        """The exposition text; blocking (reads the store), so call it off the event loop."""
        if self.store is not None:
            try:
                self.documents.set(self.store.count_articles())
                self.chunks.set(self.store.count_chunks())
            except Exception as exc:  # noqa: BLE001 - an unreachable store must not break the scrape
                log.warning("metrics: store unreachable: %s", exc)
                self.documents.set(math.nan)
                self.chunks.set(math.nan)
        return generate_latest(self.registry)
