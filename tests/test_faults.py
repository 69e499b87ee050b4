"""Faults while events stream in (`pytest -m faults`): Redis restarted under live workers, a worker
SIGKILLed mid-batch. Every event is processed once, no key has two open tasks, and the workers that
were not killed are still alive and working when it is over.

The workers use a Redis server of the test's own (on both backends), since the test stops it.
"""

import os
import signal
import time

import pytest

from tests import events as ev
from tests.helpers import start_worker, stop_worker, wait_for
from webapp.embedded_redis import EmbeddedRedis
from webapp.models import Event, Task, TaskHistory

pytestmark = [pytest.mark.faults, pytest.mark.slow]

EVENTS = 1000
APPLICATIONS = 400  # events about the same application and stage are one task


def test_events_stream_through_a_redis_restart_and_a_killed_worker(make_account, app, worker_env, tmp_path):
    acme = make_account()
    redis_server = EmbeddedRedis(tmp_path / "redis.sock", persist=False).start()
    app.config["REDIS_URL"] = redis_server.url  # the API's wake-up calls go to the same Redis
    env = {**worker_env, "REDIS_URL": redis_server.url, "INBOX_BATCH_SIZE": "10", "SWEEP_INTERVAL_SECONDS": "0.5"}
    workers = [start_worker(env), start_worker(env)]
    try:
        for i in range(EVENTS):
            n = i % APPLICATIONS
            event = ev.stage_changed(
                application={"id": f"app-{n}"}, candidate=dict(ev.CANDIDATE, id=f"cand-{n}", name=f"Candidate {n}")
            )
            assert acme.post_event(event).status_code == 202
            if i == 300:
                redis_server.stop()  # mid-stream: the workers lose Redis, events keep coming
            elif i == 450:
                redis_server.start()
            elif i == 650:
                os.killpg(workers[0].pid, signal.SIGKILL)  # the worker and its work horse, mid-batch
                workers[0].wait()
            time.sleep(0.005)

        def all_processed():
            return Event.select().where(Event.status == Event.PROCESSED).count() == EVENTS

        assert wait_for(all_processed, 120), Event.select().where(Event.status != Event.PROCESSED).count()
        assert workers[1].poll() is None, "a worker died when Redis went away"

        assert Event.select().count() == EVENTS
        assert Task.select().where(Task.status == Task.OPEN).count() == APPLICATIONS
        assert Task.select().count() == APPLICATIONS  # one per application: no second open task for a key
        assert TaskHistory.select().where(TaskHistory.kind == "opened").count() == APPLICATIONS
        retriggered = TaskHistory.select().where(TaskHistory.kind == "retriggered").count()
        assert retriggered == EVENTS - APPLICATIONS  # every other event deduped into its task, once

        # Still working: one more event is processed by the surviving worker.
        later = ev.job_event("created", job=dict(ev.JOB, id="job-after"))
        assert acme.post_event(later).status_code == 202
        assert wait_for(lambda: Event.get_or_none(Event.external_id == later["id"]).status == Event.PROCESSED, 60)
        assert workers[1].poll() is None
    finally:
        for worker in workers:
            stop_worker(worker)
        redis_server.stop()
