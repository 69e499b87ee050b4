"""Operators' figures for Prometheus: what workers on any host have done, and what waits in the inbox.

Workers serve no HTTP, so they add their figures to totals in Redis, one round trip per batch
(`record_batch`); the web app's /metrics reads them, with the inbox's depth from the database, at
scrape time (`DocketCollector`). Only totals: nothing names an account, a person or a task.
"""

import logging
import math
import time

import redis
from flask import current_app
from peewee import fn
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from .models import Event
from .queue import get_queue, redis_connection

log = logging.getLogger(__name__)

# Seconds from an event's arrival in the inbox to its processing (the goal is p95 under 1 s).
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, math.inf)
# The inbox statuses that are a queue (the others only grow: the counters give their rates).
DEPTH_STATUSES = (Event.PENDING, Event.FAILED)
# One Redis hash per metric; a field per label value, "total" for a metric without labels.
EVENTS_PROCESSED = "events_processed"
EVENTS_FAILED = "events_failed"
TASKS_OPENED = "tasks_opened"
TASKS_COMPLETED = "tasks_completed"
LATENCY = "latency_seconds"
LATENCY_SUM, LATENCY_COUNT = "sum", "count"


def _key(metric, queue_name=None):
    return f"docket:{queue_name or current_app.config['QUEUE_NAME']}:metrics:{metric}"


def _bucket_field(bound):
    return "+Inf" if bound == math.inf else repr(bound)


def record_batch(processed=None, latencies=(), opened=0, completed=0, failed=None, connection=None):
    """Add one batch's figures to the totals in Redis (one round trip); call it after the batch's
    transaction commits. processed and failed: {source: events}; latencies: seconds from received
    to processed, one per event. Returns False when Redis could not be reached: figures are lost,
    never the batch."""
    pipe = (connection or redis_connection()).pipeline(transaction=False)
    for source, count in (processed or {}).items():
        pipe.hincrby(_key(EVENTS_PROCESSED), source, count)
    for source, count in (failed or {}).items():
        pipe.hincrby(_key(EVENTS_FAILED), source, count)
    if opened:
        pipe.hincrby(_key(TASKS_OPENED), "total", opened)
    if completed:
        pipe.hincrby(_key(TASKS_COMPLETED), "total", completed)
    latencies = list(latencies)
    if latencies:
        buckets = {}
        for seconds in latencies:
            bound = next(b for b in LATENCY_BUCKETS if seconds <= b)
            buckets[bound] = buckets.get(bound, 0) + 1
        for bound, count in buckets.items():
            pipe.hincrby(_key(LATENCY), _bucket_field(bound), count)
        pipe.hincrbyfloat(_key(LATENCY), LATENCY_SUM, sum(latencies))
        pipe.hincrby(_key(LATENCY), LATENCY_COUNT, len(latencies))
    try:
        pipe.execute()
        return True
    except redis.RedisError as exc:
        log.warning("could not record a batch's metrics: %s", exc)
        return False


class DocketCollector:
    """A prometheus_client collector that reads Redis's totals and the inbox when scraped."""

    def __init__(self, connection, queue_name):
        self.connection = connection
        self.queue_name = queue_name

    def collect(self):
        up = GaugeMetricFamily("docket_dependency_up", "1 when the scrape could read it", labels=["dependency"])
        try:
            yield from self._from_redis()
            up.add_metric(["redis"], 1)
        except redis.RedisError as exc:
            log.warning("metrics: Redis: %s", exc)
            up.add_metric(["redis"], 0)
        try:
            yield from self._from_inbox()
            up.add_metric(["database"], 1)
        except Exception as exc:  # a scrape reports what it could not read rather than failing whole
            log.warning("metrics: database: %s", exc)
            up.add_metric(["database"], 0)
        yield up

    def _hash(self, metric):
        raw = self.connection.hgetall(_key(metric, self.queue_name))
        return {field.decode(): value.decode() for field, value in raw.items()}

    def _from_redis(self):
        """Counters, the latency histogram and the number of live workers, all read before any is yielded."""
        counters = []
        for metric, text, label in (
            (EVENTS_PROCESSED, "Inbox events processed", "source"),
            (EVENTS_FAILED, "Inbox events whose processing failed (each failed attempt)", "source"),
            (TASKS_OPENED, "Tasks opened by the rulebook", None),
            (TASKS_COMPLETED, "Tasks completed by events", None),
        ):
            family = CounterMetricFamily(f"docket_{metric}", text, labels=[label] if label else None)
            for field, value in sorted(self._hash(metric).items()):
                family.add_metric([field] if label else [], int(value))
            if not label and not family.samples:
                family.add_metric([], 0)
            counters.append(family)
        latency = self._hash(LATENCY)
        cumulative, buckets = 0, []
        for bound in LATENCY_BUCKETS:
            cumulative += int(latency.get(_bucket_field(bound), 0))
            buckets.append((_bucket_field(bound), cumulative))
        histogram = HistogramMetricFamily(
            "docket_event_latency_seconds",
            "Seconds from an event's arrival in the inbox to its processing",
            buckets=buckets,
            sum_value=float(latency.get(LATENCY_SUM, 0)),
        )
        from rq import Worker

        workers = GaugeMetricFamily("docket_workers", "RQ workers registered on Docket's queue")
        workers.add_metric([], len(Worker.all(queue=get_queue(self.connection))))
        yield from (*counters, histogram, workers)

    def _from_inbox(self):
        """The inbox's depth by status and the age of its oldest pending event, each an indexed count."""
        depth = {status: Event.select().where(Event.status == status).count() for status in DEPTH_STATUSES}
        oldest = Event.select(fn.MIN(Event.received_at)).where(Event.status == Event.PENDING).scalar()
        family = GaugeMetricFamily(
            "docket_inbox_events", "Inbox events waiting or failed, by status", labels=["status"]
        )
        for status, count in depth.items():
            family.add_metric([status], count)
        age = GaugeMetricFamily("docket_inbox_oldest_pending_age_seconds", "Age of the oldest pending inbox event")
        oldest = Event.received_at.python_value(oldest) if oldest is not None else None
        age.add_metric([], max(0.0, time.time() - oldest.timestamp()) if oldest else 0.0)
        yield from (family, age)
