"""The inbox's group commit (webapp/inbox.py): requests that wait for the write lock together are
stored together, each event once, each failure its own. The lock is held by another connection,
as a worker's batch holds it: SQLite's write lock, or PostgreSQL's lock on the inbox's table."""

import contextlib
import sqlite3
import subprocess
import sys
import threading
import time

import psycopg2
import pytest

from webapp import inbox
from webapp.db import database, is_sqlite, web_waiting
from webapp.models import Event


@contextlib.contextmanager
def inbox_locked(settings):
    """Another connection holds what an insert into the inbox waits for, until the block ends."""
    url = settings["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        other = sqlite3.connect(url[len("sqlite:///") :], isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
    else:
        other = psycopg2.connect(url)
        other.cursor().execute(f'LOCK TABLE "{Event._meta.table_name}" IN EXCLUSIVE MODE')
    try:
        yield
    finally:
        other.rollback()
        other.close()


def in_threads(app, work, indexes, results=None):
    """work(i) for each i in threads of their own, each in the app with a connection of its own;
    returns the threads (started) and their results by i (a result, or the exception raised)."""
    results = {} if results is None else results

    def run(i):
        with app.app_context():
            database.connect(reuse_if_open=True)
            try:
                results[i] = work(i)
            except Exception as exc:
                results[i] = exc
            finally:
                database.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in indexes]
    for thread in threads:
        thread.start()
    return threads, results


def wait_until(condition, seconds=10):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def values(account, external_id, payload=None):
    return dict(account=account, source="api", external_id=external_id, type="job.created", payload=payload or {})


def test_requests_waiting_for_the_lock_are_stored_in_one_transaction(app, settings, make_account):
    acme = make_account()
    group = inbox._Group()
    with inbox_locked(settings):
        work = lambda i: group.store(values(acme.account, f"e-{i}"))  # noqa: E731
        # The first request leads and waits for the lock; the 19 others queue behind it.
        leader, results = in_threads(app, work, [0])
        wait_until(lambda: group._storing and not group._queued)
        threads, _ = in_threads(app, work, range(1, 20), results)
        wait_until(lambda: len(group._queued) == 19)
        threads += leader
    for thread in threads:
        thread.join(timeout=30)
    assert group.transactions == 2  # the leader's own, then the 19 that queued meanwhile
    assert sorted(row.external_id for row in results.values()) == sorted(f"e-{i}" for i in range(20))
    assert Event.select().where(Event.account == acme.account).count() == 20


def test_a_row_that_fails_fails_alone_and_a_repeat_in_the_group_is_a_redelivery(app, settings, make_account):
    acme = make_account()
    group = inbox._Group()

    def work(i):
        if i == 0:
            circular = {}
            circular["itself"] = circular  # no JSON for it: json.dumps raises ValueError
            return group.store(values(acme.account, "bad", payload=circular))
        return group.store(values(acme.account, "same" if i < 4 else f"e-{i}"))

    with inbox_locked(settings):
        leader, results = in_threads(app, work, [7])
        wait_until(lambda: group._storing and not group._queued)
        threads, _ = in_threads(app, work, range(7), results)
        wait_until(lambda: len(group._queued) == 7)
        threads += leader
    for thread in threads:
        thread.join(timeout=30)
    assert isinstance(results[0], ValueError) and "Circular" in str(results[0])
    same = [results[i] for i in (1, 2, 3)]
    assert sum(row is not None for row in same) == 1  # stored once; the two others: None, a redelivery
    stored = {row.external_id for row in Event.select().where(Event.account == acme.account)}
    assert stored == {"same", "e-4", "e-5", "e-6", "e-7"}


def test_concurrent_accepts_store_each_event_once_and_answer_repeats_with_the_first_row(app, settings, make_account):
    acme = make_account()

    def work(i):
        return inbox.accept(acme.account, "api", "same" if i % 6 == 0 else f"e-{i}", {"n": i}, type="job.created")

    before = inbox._group().transactions
    with inbox_locked(settings):
        threads, results = in_threads(app, work, range(24))
        time.sleep(0.3)  # all of them wait for the lock
    for thread in threads:
        thread.join(timeout=30)
    assert not [r for r in results.values() if isinstance(r, Exception)]
    repeats = [results[i] for i in range(0, 24, 6)]
    assert [created for _, created in repeats].count(True) == 1
    assert len({row.id for row, _ in repeats}) == 1
    assert Event.select().where(Event.account == acme.account).count() == 1 + 20
    if is_sqlite():  # on SQLite, accept goes through the process's group: fewer transactions than events
        assert 1 <= inbox._group().transactions - before < 21
    else:  # PostgreSQL locks rows: each request stores its own event
        assert inbox._group().transactions == before


@pytest.mark.parametrize("repeat", [False, True])
def test_api_answers_are_unchanged(make_account, repeat):
    acme = make_account()
    envelope = {"id": "job-1", "type": "job.created", "occurred_at": "2026-01-01T00:00:00Z", "data": {"job": {"id": 1}}}
    first = acme.post_event(envelope)
    response = acme.post_event(envelope) if repeat else first
    assert response.status_code == (200 if repeat else 202), response.get_json()
    assert response.get_json() == {"id": first.get_json()["id"], "status": "pending", "duplicate": repeat}


def _waiting_in_another_process(url):
    """web_waiting() as a worker process of its own sees it."""
    code = "import sys; from webapp.db import open_database; print(open_database(sys.argv[1]).web_waiting())"
    result = subprocess.run([sys.executable, "-c", code, url], capture_output=True, text=True, timeout=60, check=True)
    return result.stdout.strip()


def test_a_worker_is_told_while_the_web_waits_for_the_write_lock(app, settings, make_account):
    acme = make_account()
    url = settings["DATABASE_URL"]
    assert web_waiting() is False
    with inbox_locked(settings):
        threads, results = in_threads(app, lambda i: inbox.accept(acme.account, "api", f"e-{i}", {}), range(1))
        if is_sqlite():  # one write lock for the whole database: the worker is told, in any process
            wait_until(lambda: inbox._group()._storing)
            assert web_waiting() is True
            assert _waiting_in_another_process(url) == "True"
        else:  # PostgreSQL: writers of other rows do not wait for each other; nothing to tell
            time.sleep(0.2)  # the insert waits for the table lock
            assert threads[0].is_alive() and web_waiting() is False
    threads[0].join(timeout=30)
    assert results[0][1] is True
    assert web_waiting() is False
    if is_sqlite():
        assert _waiting_in_another_process(url) == "False"


def test_an_event_accepted_inside_a_transaction_is_part_of_it(app, make_account):
    acme = make_account()
    before = inbox._group().transactions
    with database.atomic() as transaction:
        row, created = inbox.accept(acme.account, "api", "inside", {}, type="job.created")
        assert created and Event.get_by_id(row.id).external_id == "inside"
        transaction.rollback()  # the event goes with the rest of the transaction's work
    assert not Event.select().where(Event.external_id == "inside").exists()
    with database.atomic():
        inbox.accept(acme.account, "api", "kept", {}, type="job.created")
    assert Event.select().where(Event.external_id == "kept").exists()
    assert inbox._group().transactions == before  # stored on the caller's own connection
