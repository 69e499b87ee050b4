"""Partitions of the inbox (webapp/claims.py): each row's claim key, the batches of workers on
PostgreSQL that never share a partition and take each one's earliest rows first, and real workers
that give exactly the tasks and history of a serial run."""

import json
import subprocess
import sys
import threading
import time

import pytest

from bench import mix
from tests import events as ev
from tests.conftest import BACKEND, ROOT
from tests.integrations.conftest import SECRET, greenhouse_fixture
from tests.integrations.test_greenhouse_webhooks import post as post_greenhouse
from webapp import claims
from webapp.db import database
from webapp.models import Event, Integration, Task, TaskHistory, User, to_utc
from webapp.pipeline import _due_of, drain, process_batch

pg_only = pytest.mark.skipif(
    BACKEND == "embedded", reason="SQLite has one writer: a batch there never meets another worker's"
)


def _stored(handle, envelope):
    assert handle.post_event(envelope).status_code == 202
    return Event.get(Event.external_id == envelope["id"]).claim_key


def test_an_event_about_a_candidate_is_their_partition_a_job_its_own_else_the_accounts(app, make_account):
    acme = make_account()
    assert _stored(acme, ev.stage_changed()) == "candidate:cand-1"
    assert _stored(acme, ev.schedule_event("created")) == "candidate:cand-1"  # one candidate, one partition
    assert _stored(acme, ev.job_event("created")) == "job:job-1"
    assert _stored(acme, ev.envelope("integration.failed", integration=ev.INTEGRATION, error={})) == ""


def test_an_event_naming_only_an_application_or_a_schedule_is_its_candidates_partition_once_known(app, make_account):
    acme, other = make_account(), make_account("Globex")
    # Before the mirror knows the application, its job keys it.
    only_application = {"application": ev.APPLICATION, "job": ev.JOB}
    assert _stored(acme, ev.envelope("application.closed", **only_application, reason="hired")) == "job:job-1"
    acme.post_event(ev.stage_changed())
    acme.post_event(ev.schedule_event("created"))
    drain()
    assert _stored(acme, ev.envelope("application.closed", **only_application, reason="hired")) == "candidate:cand-1"
    only_schedule = {"schedule": ev.SCHEDULE, "attendee": ev.INTERVIEWER, "response": "declined"}
    assert _stored(acme, ev.envelope("attendee.responded", **only_schedule)) == "candidate:cand-1"
    # Another account's mirror is not read: the same ids there are unknown.
    assert _stored(other, ev.envelope("application.closed", **only_application, reason="hired")) == "job:job-1"
    assert _stored(other, ev.envelope("attendee.responded", **only_schedule)) == ""


def test_a_vendors_delivery_is_keyed_by_what_its_adapter_reads_in_it(app, make_account, client):
    acme = make_account()
    Integration.create(account=acme.account, provider="greenhouse", webhook_secret=SECRET)
    for name in ("candidate_stage_change", "job_created"):
        assert post_greenhouse(client, acme.account, greenhouse_fixture(name), event_id=name).status_code == 200
    keys = {row.type: row.claim_key for row in Event.select()}
    assert keys == {"candidate_stage_change": "candidate:265772", "job_created": "job:371417"}


def test_a_payload_no_adapter_reads_is_the_accounts_partition():
    from webapp.integrations import claim_key

    assert claim_key("greenhouse", "x", {"action": "candidate_stage_change", "payload": "not an object"}) == ""
    assert claim_key("nobody", "x", {"data": {"candidate": {"id": "c"}}}) == ""
    assert claims.key_for([["not", "an", "envelope"], {"data": {"job": {"id": 7}}}]) == "job:7"


def test_the_upgrade_keys_the_rows_already_in_the_inbox(tmp_path, settings):
    from playhouse.migrations import Runner

    from webapp import create_app
    from webapp.db import migrate

    app = create_app(dict(settings, DATABASE_URL=f"sqlite:///{tmp_path / 'old.db'}"))
    with app.app_context(), database.connection_context():
        Runner(database.obj, directory=str(ROOT / "webapp" / "migrations")).up(target="0014_task_listing_indexes")
        database.execute_sql(
            "INSERT INTO account (id, name, webhook_key, created_at) VALUES (1, 'Old', 'k', '2026-01-01')"
        )
        rows = [
            ("api", ev.stage_changed()),
            ("docket", ev.job_event("created")),
            ("greenhouse", json.loads(greenhouse_fixture("candidate_stage_change"))),
            ("api", ev.envelope("integration.failed", integration=ev.INTEGRATION)),
        ]
        for n, (source, payload) in enumerate(rows):
            database.execute_sql(
                "INSERT INTO event (account_id, source, external_id, type, payload, received_at, status, attempts)"
                " VALUES (1, ?, ?, '', ?, '2026-01-01', 'pending', 0)",
                (source, f"e{n}", json.dumps(payload)),
            )
        assert migrate()[:1] == ["0015_event_claim_key"]  # and those since
        keys = [row.claim_key for row in Event.select().order_by(Event.id)]
    assert keys == ["candidate:cand-1", "job:job-1", "candidate:265772", ""]


def _interleaved(handle, candidates, each):
    """`each` events about every candidate, the candidates' events interleaved as in a real inbox;
    returns their rows' ids by claim key, oldest first."""
    for step in range(each):
        for name in candidates:
            candidate, application = dict(ev.CANDIDATE, id=name, name=name), {"id": f"app-{name}"}
            stage = ev.ONSITE if step % 2 == 0 else ev.SCREEN
            envelope = ev.stage_changed(stage=stage, candidate=candidate, application=application, minutes=step)
            assert handle.post_event(envelope).status_code == 202
    ids = {}
    for row in Event.select().order_by(Event.id):
        ids.setdefault(row.claim_key, []).append(row.id)
    return ids


def _hold_a_batch(app, batch_size, holding, release, taken):
    """In a thread of its own: claim a batch as a worker does, and keep its transaction open until
    `release` is set."""

    def run():
        with app.app_context():
            database.connect(reuse_if_open=True)
            try:
                with database.atomic():
                    taken.extend(claims.claim(_due_of(None), claims.plan(_due_of(None), batch_size), batch_size))
                    holding.set()
                    release.wait(30)
            finally:
                holding.set()
                database.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pg_only
def test_two_concurrent_batches_never_take_one_partition_and_each_takes_its_earliest_rows(app, make_account):
    app.config["INBOX_BATCH_SECONDS"] = 60  # whole batches, however slow this machine is
    acme = make_account()
    ids = _interleaved(acme, ["cand-a", "cand-b", "cand-c", "cand-d"], each=3)
    holding, release, taken = threading.Event(), threading.Event(), []
    other = _hold_a_batch(app, 4, holding, release, taken)
    try:
        assert holding.wait(30)
        first = {row.claim_key: [r.id for r in taken if r.claim_key == row.claim_key] for row in taken}
        # The earliest rows of whole partitions: the first two candidates', two rows each.
        assert first == {key: ids[key][:2] for key in ("candidate:cand-a", "candidate:cand-b")}

        assert process_batch(4) == 4  # meanwhile, another worker: no waiting, other partitions
        processed = Event.select().where(Event.status == Event.PROCESSED)
        second = {}
        for row in processed.order_by(Event.id):
            second.setdefault(row.claim_key, []).append(row.id)
        assert second == {key: ids[key][:2] for key in ("candidate:cand-c", "candidate:cand-d")}

        # A partition won by another worker after the plan was made is left alone, not waited for.
        planned = claims.Plan([(acme.account.id, "candidate:cand-a"), (acme.account.id, "candidate:cand-c")], [10**9])
        with database.atomic():
            assert [row.id for row in claims.claim(_due_of(None), planned, 4)] == ids["candidate:cand-c"][2:]
    finally:
        release.set()
        other.join(30)
    assert process_batch(4) == 4  # released: cand-a's and cand-b's earliest rows
    left = Event.select().where(Event.status == Event.PENDING).order_by(Event.id)
    assert [row.id for row in left] == sorted(rows[2] for rows in ids.values())


@pg_only
def test_two_batches_creating_the_same_new_jobs_in_opposite_orders_do_not_deadlock(app, make_account):
    """Jobs are shared by partitions: one batch creates job-a then job-b while another has events
    naming job-b then job-a. The second waits, before writing anything, for the first to commit."""
    from webapp import mirror
    from webapp.models import Job

    app.config["INBOX_BATCH_SECONDS"] = 60
    acme = make_account()
    job_a, job_b = {"id": "job-a", "name": "A"}, {"id": "job-b", "name": "B"}  # no coordinator: nothing else shared
    first = [ev.job_event("updated", job=job) for job in (job_a, job_b)]
    for n, job in enumerate((job_b, job_a)):
        records = dict(candidate=dict(ev.CANDIDATE, id=f"cand-{n}"), application={"id": f"app-{n}"}, stage=ev.ONSITE)
        assert acme.post_event(ev.envelope("application.stage_changed", job=job, **records)).status_code == 202
    created_a, go_on, errors = threading.Event(), threading.Event(), []

    def the_other_batch():
        with app.app_context():
            database.connect(reuse_if_open=True)
            try:
                with database.atomic(), mirror.batch():
                    mirror.preload(acme.account.id, first)
                    mirror.apply(acme.account, first[0])
                    created_a.set()
                    go_on.wait(30)
                    mirror.apply(acme.account, first[1])
            except Exception as exc:
                errors.append(exc)
            finally:
                created_a.set()
                database.close()

    other = threading.Thread(target=the_other_batch)
    other.start()
    assert created_a.wait(30)
    batch = threading.Thread(target=lambda: _in_app(app, lambda: process_batch(10)))
    batch.start()
    assert _waits_for_a_lock(), "the batch should wait for the other one"  # without the fix: job-b made, job-a awaited
    go_on.set()
    other.join(30)
    batch.join(30)
    assert errors == []
    assert [(row.status, row.attempts) for row in Event.select()] == [(Event.PROCESSED, 1)] * 2
    assert sorted(job.external_id for job in Job.select()) == ["job-a", "job-b"]


def _waits_for_a_lock(seconds=30):
    """True once some session of this database waits for a lock."""
    deadline = time.monotonic() + seconds
    sql = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    while time.monotonic() < deadline:
        if database.execute_sql(sql).fetchone()[0]:
            return True
        time.sleep(0.05)
    return False


def _in_app(app, work):
    with app.app_context():
        database.connect(reuse_if_open=True)
        try:
            return work()
        finally:
            database.close()


def _load(account, envelopes):
    rows = [
        dict(
            account=account.id,
            source="api",
            external_id=e["id"],
            type=e["type"],
            payload=e,
            occurred_at=to_utc(e["occurred_at"]),
            claim_key=claims.key_for([e]),
        )
        for e in envelopes
    ]
    with database.atomic():
        for start in range(0, len(rows), 500):
            Event.insert_many(rows[start : start + 500]).execute()


def _outcome():
    """Every task and history entry, comparable between runs (ids left out)."""
    emails = dict(User.select(User.id, User.email).tuples())
    tasks = sorted(
        (t.rule_id, t.key, t.status, emails.get(t.assignee_id), t.completion_reason or "", t.title)
        for t in Task.select()
    )
    keys = {t.id: (t.rule_id, t.key) for t in Task.select(Task.id, Task.rule_id, Task.key)}
    events = dict(Event.select(Event.id, Event.external_id).tuples())
    history = sorted((*keys[h.task_id], h.kind, events.get(h.event_id, "")) for h in TaskHistory.select())
    return tasks, history


@pg_only
@pytest.mark.slow
def test_three_workers_give_exactly_the_tasks_and_history_of_a_serial_run(app, make_account, worker_env, settings):
    from tests.conftest import empty_tables
    from webapp.queue import DRAIN_JOB, get_queue

    envelopes = mix.events(3000)
    _load(make_account().account, envelopes)
    drain()
    serial = _outcome()
    assert len(serial[0]) > 1000

    empty_tables()
    _load(make_account().account, envelopes)
    queue = get_queue()
    for _ in range(3):
        queue.enqueue(DRAIN_JOB, job_timeout=300, result_ttl=0)
    command = [sys.executable, "-m", "rq.cli", "worker", "--burst", "--url", settings["REDIS_URL"], queue.name]
    workers = [
        subprocess.Popen(command, cwd=ROOT, env=worker_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(3)
    ]
    logs = [worker.communicate(timeout=120)[0] for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0, 0], logs
    assert Event.select().where(Event.attempts > 1).count() == 0, [line for log in logs for line in log.splitlines()]
    assert {row.status for row in Event.select(Event.status)} == {Event.PROCESSED}
    assert _outcome() == serial
