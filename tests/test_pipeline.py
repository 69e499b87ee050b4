"""The inbox to tasks: exactly-once processing, order-free arrival, retries, and recovery."""

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import events as ev
from tests.conftest import ROOT, empty_tables
from tests.helpers import left_pending, start_worker, stop_worker, wait_for
from webapp.db import database
from webapp.models import Event, Task, TaskHistory
from webapp.pipeline import drain, process_batch, retry_failed
from webapp.rulebook import current_rulebook


def open_keys(account=None):
    query = Task.select().where(Task.status == "open")
    return sorted((t.rule_id, t.key) for t in query)


@pytest.mark.slow
def test_25_deliveries_of_one_event_give_one_inbox_row_and_one_task(make_account, run_worker):
    acme = make_account()
    trigger = ev.stage_changed(event_id="greenhouse-delivery-1")
    answers = [acme.post_event(trigger) for _ in range(25)]
    assert [a.status_code for a in answers] == [202] + [200] * 24
    assert len({a.get_json()["id"] for a in answers}) == 1
    run_worker()
    assert Event.select().count() == 1
    assert [t["rule"] for t in acme.tasks()] == ["ready_to_schedule"]
    # and a redelivery after processing changes nothing
    assert acme.post_event(trigger).status_code == 200
    run_worker()
    assert len(acme.tasks()) == 1


def test_repeated_trigger_with_a_new_id_adds_to_the_open_task_history(make_account, app):
    acme = make_account()
    acme.post_event(ev.stage_changed(minutes=0))
    acme.post_event(ev.responded(ev.INTERVIEWER, "declined", minutes=1))
    acme.post_event(ev.responded(ev.INTERVIEWER, "declined", minutes=2))
    drain()
    declined = Task.get(Task.rule_id == "interviewer_declined")
    assert Task.select().where(Task.rule_id == "interviewer_declined").count() == 1
    assert [h.kind for h in declined.history.order_by(TaskHistory.id)] == ["opened", "retriggered"]


def test_trigger_after_completion_opens_a_new_task(make_account, app):
    acme = make_account()
    acme.post_event(ev.integration_event("failed", 0))
    acme.post_event(ev.integration_event("restored", 5))
    acme.post_event(ev.integration_event("failed", 10))
    drain()
    tasks = list(Task.select().where(Task.rule_id == "broken_integration").order_by(Task.id))
    assert [t.status for t in tasks] == ["completed", "open"]


def test_a_worker_completing_a_task_writes_only_what_completing_changes(make_account, app, monkeypatch):
    """The batch read the task before someone handed it to a colleague: completing it keeps the
    colleague (a whole-row write would put back the assignee the batch read)."""
    from webapp import pipeline
    from webapp.models import Account, User

    acme = make_account()
    acme.post_event(ev.integration_event("failed", 0))
    drain()
    [task] = Task.select()
    riley = User.for_email(Account.get_by_id(acme.account.id), "riley@acme.test", "Riley")
    real_complete = pipeline.TaskStore.complete

    def complete_after_a_hand_over(store, task, event, reason):
        Task.update(assignee=riley).where(Task.id == task.id).execute()  # meanwhile, by hand
        return real_complete(store, task, event, reason)

    monkeypatch.setattr(pipeline.TaskStore, "complete", complete_after_a_hand_over)
    acme.post_event(ev.integration_event("restored", 5))
    drain()
    task = Task.get_by_id(task.id)
    assert (task.status, task.assignee_id) == ("completed", riley.id)


def test_resolver_arriving_before_its_trigger_leaves_no_stale_task(make_account, app):
    acme = make_account()
    acme.post_event(ev.schedule_event("created", minutes=10))
    drain()
    acme.post_event(ev.stage_changed(minutes=0))
    drain()
    assert open_keys() == []


def test_greenhouse_style_moves_without_previous_stage_in_any_order_leave_only_the_latest(make_account, app):
    acme = make_account()
    acme.post_event(ev.stage_changed(ev.ONSITE, minutes=30))
    acme.post_event(ev.stage_changed(ev.SCREEN, minutes=10))
    drain()
    assert [json.loads(k)["stage.id"] for _, k in open_keys()] == [ev.ONSITE["id"]]


STAGES = (ev.SCREEN, ev.ONSITE, ev.OFFER)
STEPS = ("move", "scheduled", "cancelled", "edited", "declined", "accepted", "closed")


@st.composite
def histories(draw):
    """A consistent history of one application (moves, and schedules and invite answers for the stage
    the candidate is in), then the order its events arrive in and when a worker runs."""
    timeline, current, minute = [], None, 0
    for _ in range(draw(st.integers(2, 7))):
        step = "move" if current is None else draw(st.sampled_from(STEPS))
        minute += draw(st.integers(1, 30))
        if step == "move":
            current = draw(st.sampled_from([s for s in STAGES if s is not current]))
            timeline.append(ev.stage_changed(current, minutes=minute))
            continue
        schedule = {"id": f"sched-{current['id']}"}
        if step in ("scheduled", "cancelled", "edited"):
            kind = {"scheduled": "created", "cancelled": "cancelled", "edited": "updated"}[step]
            timeline.append(ev.schedule_event(kind, minutes=minute, stage=current, schedule=schedule))
        elif step in ("declined", "accepted"):
            timeline.append(ev.responded(ev.INTERVIEWER, step, minutes=minute, schedule=schedule, stage=current))
        else:
            timeline.append(ev.application_closed(minutes=minute))
            break
    for i, envelope in enumerate(timeline):
        envelope["id"] = f"e{i}"
    arrival = draw(st.permutations(timeline))
    # After which deliveries a worker runs: any interleaving of posting and processing.
    drains = draw(st.lists(st.booleans(), min_size=len(arrival), max_size=len(arrival)))
    return timeline, arrival, drains


def _play(acme, deliveries, drains):
    empty_tables_keep_account(acme)
    for envelope, drain_now in zip(deliveries, drains, strict=True):
        assert acme.post_event(envelope).status_code == 202
        if drain_now:
            drain()
    drain()
    return open_keys()


def empty_tables_keep_account(acme):
    for model in (TaskHistory, Task, Event):
        model.delete().execute()
    from webapp.models import Application, ApplicationMove, Candidate, Job, Resolution, Schedule, Stage

    for model in (Resolution, Schedule, ApplicationMove, Application, Candidate, Stage, Job):
        model.delete().execute()


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=histories())
def test_any_arrival_order_and_interleaving_gives_the_tasks_of_the_true_order(make_account, app, case):
    timeline, arrival, drains = case
    empty_tables()
    acme = make_account()
    in_order = sorted(timeline, key=lambda e: e["occurred_at"])
    expected = _play(acme, in_order, [True] * len(in_order))
    assert _play(acme, arrival, drains) == expected


@pytest.mark.slow
def test_worker_killed_mid_batch_loses_nothing_and_repeats_nothing(make_account, app, worker_env):
    acme = make_account()
    n = 400
    for i in range(n):
        application = {"id": f"app-{i}"}
        candidate = dict(ev.CANDIDATE, id=f"cand-{i}", name=f"Candidate {i}")
        acme.post_event(ev.stage_changed(application=application, candidate=candidate, event_id=f"move-{i}"))
    env = {**worker_env, "INBOX_BATCH_SIZE": "20"}
    worker = start_worker(env)
    deadline = time.monotonic() + 60
    while Event.select().where(Event.status == "processed").count() < 40 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(worker.pid, signal.SIGKILL)  # the worker and the job's work horse, mid-stream
    worker.wait()
    processed_at_kill = Event.select().where(Event.status == "processed").count()
    assert 0 < processed_at_kill < n, "the kill should land mid-stream"
    # Nothing half-done: every processed row has its task, no pending row has one.
    assert Task.select().count() == processed_at_kill

    subprocess.run([sys.executable, "-m", "worker", "--burst"], cwd=ROOT, env=env, check=True, capture_output=True)
    assert Event.select().where(Event.status == "processed").count() == n
    assert Task.select().count() == n
    assert TaskHistory.select().where(TaskHistory.kind == "opened").count() == n
    assert TaskHistory.select().where(TaskHistory.kind != "opened").count() == 0


@pytest.mark.slow
def test_the_sweeper_of_a_running_worker_picks_up_rows_nobody_queued_and_retries_when_due(
    make_account, app, worker_env
):
    from webapp.models import to_utc, utcnow

    acme = make_account()
    worker = start_worker({**worker_env, "SWEEP_INTERVAL_SECONDS": "0.2"})
    try:
        # Rows in the inbox that no wake-up call was queued for: one accepted while Redis was down
        # (or whose worker died), one whose retry is due a little later.

        # The worker is up and idle once it has processed an event posted the usual way.
        assert acme.post_event(ev.job_event("created", job=dict(ev.JOB, id="job-warm-up"))).status_code == 202
        assert wait_for(lambda: not Event.select().where(Event.status == Event.PENDING).exists())

        due_later = utcnow() + dt.timedelta(seconds=2)
        stranded = left_pending(acme.account, "job-stranded")
        retry = left_pending(
            acme.account, "job-retry", attempts=1, last_error="ValueError: once", next_attempt_at=due_later
        )

        assert wait_for(lambda: Event.get_by_id(stranded.id).status == Event.PROCESSED)
        assert wait_for(lambda: Event.get_by_id(retry.id).status == Event.PROCESSED)
        assert to_utc(Event.get_by_id(retry.id).processed_at) >= due_later  # not before its time
        assert len(acme.tasks(status="open")) == 3
    finally:
        stop_worker(worker)


@pytest.mark.slow
def test_events_posted_while_redis_is_down_are_processed_when_it_is_back(make_account, app, services, run_worker):
    acme = make_account()
    redis_server = services.get("redis")
    if redis_server is not None:
        redis_server.stop()  # the embedded server: really stop it
    else:
        app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # the machine's Redis: point past it
    try:
        answers = [acme.post_event(ev.job_event("created", job=dict(ev.JOB, id=f"job-{i}"))) for i in range(3)]
        assert [a.status_code for a in answers] == [202, 202, 202]
        assert Event.select().where(Event.status == "pending").count() == 3
    finally:
        if redis_server is not None:
            redis_server.start()
    run_worker()  # a worker that starts (or a sweep) wakes up for rows left pending
    assert Event.select().where(Event.status == "pending").count() == 0
    assert len(acme.tasks(status="open")) == 3


def test_failing_event_keeps_its_error_retries_with_backoff_then_shows_failed(make_account, app, monkeypatch):
    acme = make_account()
    acme.post_event(ev.job_event("created", event_id="bad"))
    from webapp import pipeline

    def explode(account, envelope):
        raise RuntimeError("the ATS mirror is on fire")

    monkeypatch.setattr(pipeline.mirror, "apply", explode)
    process_batch(10)
    row = Event.get(Event.external_id == "bad")
    assert (row.status, row.attempts) == ("pending", 1)
    assert "the ATS mirror is on fire" in row.last_error
    assert row.next_attempt_at is not None
    for _ in range(10):
        time.sleep(0.05)
        process_batch(10)
    row = Event.get(Event.external_id == "bad")
    assert (row.status, row.attempts) == ("failed", app.config["INBOX_MAX_ATTEMPTS"])
    assert Task.select().count() == 0

    monkeypatch.undo()
    assert retry_failed(acme.account) == 1
    drain()
    assert Event.get(Event.external_id == "bad").status == "processed"
    assert [t["rule"] for t in acme.tasks()] == ["new_job"]


def test_one_failing_event_does_not_hold_back_the_rest_of_its_batch(make_account, app, monkeypatch):
    acme = make_account()
    acme.post_event(ev.job_event("created", event_id="bad", job=dict(ev.JOB, id="job-bad")))
    acme.post_event(ev.job_event("created", event_id="good", job=dict(ev.JOB, id="job-good")))
    from webapp import pipeline

    real_apply = pipeline.mirror.apply

    def flaky(account, envelope):
        if envelope["id"] == "bad":
            raise RuntimeError("boom")
        return real_apply(account, envelope)

    monkeypatch.setattr(pipeline.mirror, "apply", flaky)
    process_batch(10)
    assert Event.get(Event.external_id == "good").status == "processed"
    assert Event.get(Event.external_id == "bad").status == "pending"
    # The batch was tried as one, rolled back at the bad row and done again row by row: once in effect.
    [task] = Task.select()
    assert [h.kind for h in TaskHistory.select().where(TaskHistory.task == task)] == ["opened"]


def test_a_failed_row_holds_back_the_later_rows_of_its_partition_until_it_is_retried(make_account, app, monkeypatch):
    """The candidate's move into Onsite fails; the schedule for it that followed must not be
    processed first (its task would open after the schedule that completes it, and stay open)."""
    acme = make_account()
    acme.post_event(ev.stage_changed(event_id="move"))
    acme.post_event(dict(ev.schedule_event("created", minutes=5), id="schedule"))
    acme.post_event(ev.job_event("created", event_id="other", job=dict(ev.JOB, id="job-2")))
    from webapp import pipeline

    real_apply = pipeline.mirror.apply
    broken = {"move"}

    def flaky(account, envelope):
        if envelope["id"] in broken:
            raise RuntimeError("the ATS mirror is on fire")
        return real_apply(account, envelope)

    monkeypatch.setattr(pipeline.mirror, "apply", flaky)
    process_batch(10)
    status = {row.external_id: row.status for row in Event.select()}
    assert status == {"move": "pending", "schedule": "pending", "other": "processed"}
    assert Event.get(Event.external_id == "schedule").attempts == 0  # untouched, not failed
    process_batch(10)  # the retry is not due yet: its candidate's schedule still waits
    assert Event.get(Event.external_id == "schedule").status == "pending"

    broken.clear()
    Event.update(next_attempt_at=Event.received_at).where(Event.external_id == "move").execute()  # due now
    drain()
    assert {row.status for row in Event.select()} == {"processed"}
    # In order: the move opened Ready to Schedule, the schedule completed it.
    [ready] = [t for t in acme.tasks(status="all") if t["rule"] == "ready_to_schedule"]
    assert ready["status"] == "completed"


def test_a_batch_reads_back_what_its_earlier_rows_recorded_before_writing_it(make_account, app):
    """A batch writes its rows' history, resolutions and outcomes at its end: a row later in the
    batch still sees the resolution an earlier one recorded."""
    acme = make_account()
    for envelope in (
        ev.stage_changed(stage=ev.ONSITE, minutes=0),
        ev.stage_changed(stage=ev.OFFER, previous=ev.ONSITE, minutes=10),  # resolves the onsite task
        ev.stage_changed(stage=ev.ONSITE, minutes=5, event_id="late"),  # older than the resolution
    ):
        response = acme.post_event(envelope)
        assert response.status_code == 202, response.get_json()
    assert process_batch(10) == 3
    assert Event.select().where(Event.status == "pending").count() == 0
    onsite = [t for t in Task.select() if "Onsite" in t.title]
    assert [t.status for t in onsite] == ["completed"]
    assert Event.get(Event.external_id == "late").processed_at is not None


def test_retry_failed_from_the_cli(make_account, app, runner):
    acme = make_account()
    acme.post_event(ev.job_event("created", event_id="e1"))
    Event.update(status="failed", attempts=5, last_error="boom").execute()
    result = runner.invoke(args=["retry-failed"])
    assert result.exit_code == 0 and "1 event(s) queued again" in result.output
    assert Event.get(Event.external_id == "e1").status == "pending"


def test_a_broken_rulebook_on_disk_keeps_the_last_valid_one_in_force(make_account, app, tmp_path):
    rules = tmp_path / "rules.yaml"
    shutil.copy(ROOT / "rules.yaml", rules)
    app.config["RULES_PATH"] = str(rules)
    acme = make_account()
    acme.post_event(ev.job_event("created", job=dict(ev.JOB, id="job-a")))
    drain()
    assert current_rulebook().rule("new_job") is not None

    rules.write_text(rules.read_text().replace("event: job.created", "event: job.createdd"))
    os.utime(rules, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
    acme.post_event(ev.job_event("created", job=dict(ev.JOB, id="job-b")))
    drain()
    assert sorted(t["about"]["job"]["id"] for t in acme.tasks()) == ["job-a", "job-b"]
    assert Event.select().where(Event.status != "processed").count() == 0


def test_processing_writes_row_status_and_tasks_in_one_transaction(make_account, app, monkeypatch):
    acme = make_account()
    acme.post_event(ev.job_event("created", event_id="e1"))
    from webapp import pipeline

    # The worker dies as it marks the row processed, after the task was written.
    real_update_row = pipeline.update_row

    def dies_on_the_row(row, *fields):
        if isinstance(row, Event):
            raise SystemExit("died")
        return real_update_row(row, *fields)

    def dies(*args, **kwargs):
        raise SystemExit("died")

    monkeypatch.setattr(pipeline.Event, "save", dies)
    monkeypatch.setattr(pipeline.Event, "update", dies)  # how a batch's rows are marked at its end (SQLite)
    monkeypatch.setattr(pipeline, "update_row", dies_on_the_row)  # how each row is (PostgreSQL)
    with pytest.raises(SystemExit):
        process_batch(10)
    monkeypatch.undo()
    database.close()
    assert Task.select().count() == 0
    assert Event.get(Event.external_id == "e1").status == "pending"


def test_one_accounts_slow_events_do_not_hold_up_another_accounts(make_account, app, monkeypatch):
    """Accounts take turns, a batch each, and a batch stops taking rows once it has run its time:
    an event of Beta's posted behind 30 slow ones of Acme's is processed within Acme's first turn."""
    import webapp.pipeline as pipeline

    acme, beta = make_account("Acme"), make_account("Beta")
    for i in range(30):
        acme.post_event(ev.job_event("created", job=dict(ev.JOB, id=f"acme-job-{i}")))
    beta.post_event(ev.job_event("created", job=dict(ev.JOB, id="beta-job")))
    slow_process = pipeline._process

    def process(row, rulebook):
        if row.account_id == acme.account.id:
            time.sleep(0.05)  # a slow rule, a slow mirror: anything of Acme's own
        return slow_process(row, rulebook)

    monkeypatch.setattr(pipeline, "_process", process)
    app.config.update(INBOX_BATCH_SECONDS=0.12, INBOX_BATCH_SIZE=25)
    drain()
    order = [row.account_id for row in Event.select().order_by(Event.processed_at, Event.id)]
    assert len(order) == 31 and Event.select().where(Event.status != Event.PROCESSED).count() == 0
    assert order.index(beta.account.id) <= 5, order


def test_a_batch_on_sqlite_ends_after_the_row_in_hand_when_a_webhook_waits_for_the_write_lock(make_account, app):
    """The web's acknowledgement waits for one row, not a whole batch (webapp/db.py web_writing)."""
    from webapp.db import is_sqlite, web_writing

    acme = make_account("Acme")
    for i in range(5):
        acme.post_event(ev.job_event("created", job=dict(ev.JOB, id=f"acme-job-{i}")))
    app.config.update(INBOX_BATCH_SIZE=25)
    with web_writing():  # as a web request that waits for the lock: the worker can tell
        done = process_batch(25)
    pending = Event.select().where(Event.status == Event.PENDING).count()
    if is_sqlite():
        assert (done, pending) == (1, 4)
    else:  # PostgreSQL locks rows: the web never waits for a batch, which takes all it can
        assert (done, pending) == (5, 0)
    assert drain() == pending and Event.select().where(Event.status != Event.PROCESSED).count() == 0
