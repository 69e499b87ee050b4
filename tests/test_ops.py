"""The operators' endpoints: liveness, readiness, and /metrics with the workers' totals from Redis."""

import datetime as dt
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families
from rq import Worker

from webapp import metrics
from webapp.db import database
from webapp.models import Event, utcnow
from webapp.queue import get_queue, redis_connection


@pytest.fixture
def no_totals(app):
    """Redis without this run's metric totals (the queue name is the run's, shared by its tests)."""
    connection = redis_connection()
    keys = list(connection.scan_iter(f"docket:{app.config['QUEUE_NAME']}:metrics:*"))
    if keys:
        connection.delete(*keys)
    return connection


def _samples(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def test_liveness_answers_without_the_database(client, monkeypatch):
    def unreachable(*args, **kwargs):
        raise ConnectionError("the database is down")

    monkeypatch.setattr(database.obj, "connect", unreachable)
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_readiness_checks_the_database_and_redis(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready", "database": "ok", "redis": "ok"}


def test_readiness_is_503_naming_what_failed(client, app, monkeypatch):
    def unreachable(*args, **kwargs):
        raise ConnectionError("the database is down")

    monkeypatch.setattr(database.obj, "connect", unreachable)
    monkeypatch.setattr(database.obj, "execute_sql", unreachable)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "not ready", "database": "error: ConnectionError", "redis": "ok"}
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    assert client.get("/readyz").get_json()["redis"].startswith("error: ")


def test_a_batch_adds_to_the_totals_that_metrics_shows(client, no_totals):
    assert metrics.record_batch(
        processed={"greenhouse": 3, "api": 1}, latencies=[0.04, 0.3, 0.3, 7], opened=2, completed=1
    )
    assert metrics.record_batch(processed={"api": 2}, latencies=[0.2, 400], failed={"lever": 1}, opened=1)
    samples = _samples(client.get("/metrics"))
    assert samples[("docket_events_processed_total", (("source", "greenhouse"),))] == 3
    assert samples[("docket_events_processed_total", (("source", "api"),))] == 3
    assert samples[("docket_events_failed_total", (("source", "lever"),))] == 1
    assert samples[("docket_tasks_opened_total", ())] == 3
    assert samples[("docket_tasks_completed_total", ())] == 1
    buckets = {dict(labels)["le"]: value for (name, labels), value in samples.items() if name.endswith("_bucket")}
    assert buckets["0.05"] == 1 and buckets["0.25"] == 2 and buckets["0.5"] == 4 and buckets["10.0"] == 5
    assert buckets["300.0"] == 5 and buckets["+Inf"] == 6
    assert samples[("docket_event_latency_seconds_count", ())] == 6
    assert samples[("docket_event_latency_seconds_sum", ())] == pytest.approx(407.84)
    assert samples[("docket_dependency_up", (("dependency", "redis"),))] == 1


def test_metrics_show_the_inbox_depth_and_the_oldest_pending_age(client, make_account, no_totals):
    acme = make_account("Acme")
    an_hour_ago = utcnow() - dt.timedelta(hours=1)
    for i, status in enumerate(["pending", "pending", "failed", "processed"]):
        Event.create(account=acme.account, source="api", external_id=f"e{i}", payload={}, status=status)
    Event.update(received_at=an_hour_ago).where(Event.external_id == "e1").execute()
    samples = _samples(client.get("/metrics"))
    assert samples[("docket_inbox_events", (("status", "pending"),))] == 2
    assert samples[("docket_inbox_events", (("status", "failed"),))] == 1
    assert 3590 < samples[("docket_inbox_oldest_pending_age_seconds", ())] < 3700
    assert samples[("docket_tasks_opened_total", ())] == 0
    # Workers other tests started may still be registered on the run's queue: the figure is RQ's.
    assert samples[("docket_workers", ())] == len(Worker.all(queue=get_queue()))
    assert samples[("docket_dependency_up", (("dependency", "database"),))] == 1
    assert "Acme" not in client.get("/metrics").get_data(as_text=True)


def test_a_batch_loses_its_figures_not_itself_when_redis_is_down(app):
    import redis

    down = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)
    assert metrics.record_batch(processed={"api": 1}, connection=down) is False


def test_metrics_from_elsewhere_need_the_token(client, app, no_totals):
    assert client.get("/metrics").status_code == 200  # this host, no token configured
    forwarded = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert forwarded.status_code == 401  # through a proxy on this host: not this host's request
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 401
    app.config["METRICS_TOKEN"] = "s3cret-scrape-token"
    assert client.get("/metrics").status_code == 401  # a token configured: this host needs it too
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    remote = client.get(
        "/metrics", headers={"Authorization": "Bearer s3cret-scrape-token"}, environ_base={"REMOTE_ADDR": "203.0.113.9"}
    )
    assert remote.status_code == 200 and b"docket_inbox_events" in remote.data


def test_the_worker_adds_each_committed_batch_to_the_totals(client, make_account, no_totals, monkeypatch):
    from tests import events as ev
    from webapp import pipeline
    from webapp.models import Task

    acme = make_account("Acme")
    acme.post_event(ev.job_event("created", event_id="good"))
    acme.post_event(ev.job_event("created", event_id="bad", job=dict(ev.JOB, id="job-bad")))
    real_apply = pipeline.mirror.apply

    def flaky(account, envelope):
        if envelope["id"] == "bad":
            raise RuntimeError("boom")
        return real_apply(account, envelope)

    monkeypatch.setattr(pipeline.mirror, "apply", flaky)
    assert pipeline.process_batch(10) == 2
    samples = _samples(client.get("/metrics"))
    assert samples[("docket_events_processed_total", (("source", "api"),))] == 1
    assert samples[("docket_events_failed_total", (("source", "api"),))] == 1
    assert samples[("docket_tasks_opened_total", ())] == 1
    assert samples[("docket_tasks_completed_total", ())] == 0
    assert samples[("docket_event_latency_seconds_count", ())] == 1
    assert 0 <= samples[("docket_event_latency_seconds_sum", ())] < 60

    monkeypatch.undo()
    acme.post_event(ev.job_event("configured", minutes=5, event_id="configured"))
    time.sleep(0.02)  # the failed row's retry is due
    pipeline.drain()
    assert Task.select().where(Task.status == Task.COMPLETED).count() == 1
    samples = _samples(client.get("/metrics"))
    assert samples[("docket_events_processed_total", (("source", "api"),))] == 3
    assert samples[("docket_events_failed_total", (("source", "api"),))] == 1
    assert samples[("docket_tasks_opened_total", ())] == 2  # the retried row's job is new too
    assert samples[("docket_tasks_completed_total", ())] == 1
    assert samples[("docket_event_latency_seconds_count", ())] == 3
