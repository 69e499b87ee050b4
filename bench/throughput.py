"""The worker's own rate, apart from the web: events loaded into the inbox first, then drained.

Each figure stands beside a baseline measured in the same run:
- on SQLite, the worker's rate beside the same SQL statements replayed by Python's sqlite3 on a
  copy of the same database (what the database itself costs), and beside RQ's rate for no-op jobs
  (the rate a worker cannot exceed with one job per event);
- on PostgreSQL, 1, 2 and 4 workers (stock `rq worker` processes) on the same events, each run's
  tasks and history compared with the one-worker run's: they must be the same.
"""

from __future__ import annotations

import collections
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
PG_BASE_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
PG_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def app_env(database_url, redis_url, queue):
    """The environment a Docket process of this run reads its configuration from."""
    return dict(
        os.environ,
        DOCKET_ENV="development",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        DOCKET_QUEUE=queue,
        RULES_PATH=str(ROOT / "rules.yaml"),
        PYTHONPATH=str(ROOT),
    )


def make_app(database_url, redis_url, queue):
    from webapp import create_app

    env = app_env(database_url, redis_url, queue)
    return create_app(
        {
            "DATABASE_URL": database_url,
            "DATABASE_POOL": False,
            "REDIS_URL": redis_url,
            "QUEUE_NAME": queue,
            "RULES_PATH": env["RULES_PATH"],
        }
    )


def load_inbox(app, envelopes):
    """A fresh account and the envelopes as pending inbox rows, as POST /api/events stores them."""
    from webapp.claims import key_for
    from webapp.db import database, is_sqlite, migrate
    from webapp.models import Account, Event, User, to_utc

    with app.app_context():
        migrate()
        account = Account.create(name=f"Bench {uuid.uuid4().hex[:6]}")
        User.for_email(account, "bench@bench.test", "Bench")
        rows = [
            {
                "account": account.id,
                "source": "api",
                "external_id": e["id"],
                "type": e["type"],
                "payload": e,
                "occurred_at": to_utc(e["occurred_at"]),
                "claim_key": key_for([e]),
            }
            for e in envelopes
        ]
        with database.atomic():
            for start in range(0, len(rows), 500):
                Event.insert_many(rows[start : start + 500]).execute()
        if is_sqlite():
            database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")  # the file alone holds it all, to copy
        database.close()
    return account.id


def outcome(app):
    """What the events made, comparable between runs: every task and every history entry."""
    from webapp.models import Event, Task, TaskHistory, User

    with app.app_context():
        emails = dict(User.select(User.id, User.email).tuples())
        tasks = sorted(
            (t.rule_id, t.key, t.status, emails.get(t.assignee_id), t.completion_reason or "", t.title)
            for t in Task.select()
        )
        keys = {t.id: (t.rule_id, t.key) for t in Task.select(Task.id, Task.rule_id, Task.key)}
        events = dict(Event.select(Event.id, Event.external_id).tuples())
        history = sorted((*keys[h.task_id], h.kind, events.get(h.event_id, "")) for h in TaskHistory.select())
    return tasks, history


def inbox_figures(app):
    """How the inbox ended: rows by status, rows processed more than once, and the processing span."""
    from peewee import fn

    from webapp.models import Event

    with app.app_context():
        statuses = dict(Event.select(Event.status, fn.COUNT(Event.id)).group_by(Event.status).tuples())
        retried = Event.select().where(Event.attempts > 1).count()
        first, last = Event.select(fn.MIN(Event.processed_at), fn.MAX(Event.processed_at)).scalar(as_tuple=True)
    return statuses, retried, first, last


def run_workers(database_url, redis_url, queue, count, log_folder):
    """`count` stock `rq worker --burst` processes, one drain job each; returns the seconds they took
    and the lines they logged."""
    import redis
    from rq import Queue

    from webapp.queue import DRAIN_JOB

    connection = redis.Redis.from_url(redis_url)
    rq_queue = Queue(queue, connection=connection)
    rq_queue.empty()
    for _ in range(count):
        rq_queue.enqueue(DRAIN_JOB, job_timeout=1800, result_ttl=0, failure_ttl=3600)
    env = app_env(database_url, redis_url, queue)
    logs = [(log_folder / f"worker-{queue}-{n}.log").open("w+") for n in range(count)]
    started = time.perf_counter()
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "rq.cli", "worker", "--burst", "--url", redis_url, queue],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        for log in logs
    ]
    for worker in workers:
        worker.wait(timeout=1800)
    elapsed = time.perf_counter() - started
    lines = []
    for log in logs:
        log.seek(0)
        lines.extend(log.read().splitlines())
        log.close()
    return elapsed, lines


def drain_fully(app, database_url, redis_url, queue, count, log_folder):
    """Run the workers until no row is pending: a row that failed waits for its retry, which a
    burst worker that found nothing due does not stay for."""
    from webapp.models import Event

    wall, lines = 0.0, []
    while True:
        elapsed, logged = run_workers(database_url, redis_url, queue, count, log_folder)
        wall, lines = wall + elapsed, lines + logged
        with app.app_context():
            pending = Event.select().where(Event.status == Event.PENDING).count()
        if not pending:
            return wall, lines
        time.sleep(0.2)


def rq_noop_rate(redis_url, jobs, worker_class):
    """Jobs per second of one RQ worker running no-op jobs from a module that imports nothing, its
    start-up (a burst with no job) taken off."""
    import redis
    from rq import Queue

    connection = redis.Redis.from_url(redis_url)
    queue = Queue(f"bench-noop-{uuid.uuid4().hex[:6]}", connection=connection)
    command = [sys.executable, "-m", "rq.cli", "worker", "--burst", "--url", redis_url, "-w", worker_class, queue.name]
    env = dict(os.environ, PYTHONPATH=str(HERE))

    def timed():
        started = time.perf_counter()
        subprocess.run(command, cwd=HERE, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - started

    start_up = min(timed() for _ in range(2))
    for _ in range(jobs):
        queue.enqueue("noop_job.noop", result_ttl=0)
    return jobs / max(timed() - start_up, 1e-6)


def traced_drain(app):
    """Drain the inbox in this process, recording every SQL statement SQLite ran; returns the
    seconds it took and the statements."""
    from webapp.db import database
    from webapp.pipeline import drain

    statements = []
    with app.app_context():
        connection = database.connection()
        connection.set_trace_callback(statements.append)
        started = time.perf_counter()
        drain()
        elapsed = time.perf_counter() - started
        connection.set_trace_callback(None)
        database.close()
    return elapsed, [s for s in statements if not s.startswith("--")]


def replay(path, statements):
    """Seconds Python's sqlite3 takes to run the statements on the database at path, reading every row."""
    connection = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode = wal", "synchronous = normal", "foreign_keys = 1"):
        connection.execute(f"PRAGMA {pragma}")
    started = time.perf_counter()
    for statement in statements:
        connection.execute(statement).fetchall()
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def statement_kinds(statements, events):
    """Statements per event, by their first word."""
    kinds = collections.Counter(s.split(None, 1)[0].upper() for s in statements if s.strip())
    return {kind: count / events for kind, count in kinds.most_common()}


def sqlite_figures(folder, redis_url, events):
    """The worker on SQLite: in this process with its SQL traced, the same SQL replayed, and a stock
    `rq worker` process on a second copy."""
    from bench import mix

    envelopes = mix.events(events)
    traced_path, replay_path, worker_path = (folder / name for name in ("traced.db", "replay.db", "worker.db"))
    app = make_app(f"sqlite:///{traced_path}", redis_url, "bench-traced")
    load_inbox(app, envelopes)
    shutil.copy(traced_path, replay_path)
    shutil.copy(traced_path, worker_path)
    drained, statements = traced_drain(app)
    replayed = replay(replay_path, statements)
    worker_app = make_app(f"sqlite:///{worker_path}", redis_url, "bench-worker")
    wall, _ = drain_fully(worker_app, f"sqlite:///{worker_path}", redis_url, "bench-worker", 1, folder)
    statuses, retried, first, last = inbox_figures(worker_app)
    same = outcome(app) == outcome(worker_app)
    return {
        "events": events,
        "in_process_seconds": drained,
        "replay_seconds": replayed,
        "statements": len(statements),
        "kinds": statement_kinds(statements, events),
        "worker_wall_seconds": wall,
        "worker_span_seconds": (last - first).total_seconds() if first and last else float("nan"),
        "statuses": statuses,
        "retried": retried,
        "same_as_in_process": same,
    }


def _pg_database(name, drop=False):
    import psycopg2

    connection = psycopg2.connect(PG_BASE_URL)
    connection.autocommit = True
    with connection.cursor() as cursor:
        if drop:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()
    return PG_BASE_URL.rsplit("/", 1)[0] + "/" + name


def postgres_available():
    try:
        import psycopg2

        psycopg2.connect(PG_BASE_URL, connect_timeout=2).close()
        import redis

        redis.Redis.from_url(PG_REDIS_URL, socket_connect_timeout=2).ping()
        return True
    except Exception:
        return False


def postgres_figures(folder, events, worker_counts=(1, 2, 4), hot=False):
    """The same events drained by 1, 2 and 4 workers on PostgreSQL, each on a fresh database."""
    from bench import mix
    from webapp.db import database

    envelopes = mix.events(events, hot=hot)
    results = []
    reference = None
    for count in worker_counts:
        name = f"docket_bench_{uuid.uuid4().hex[:8]}"
        url = _pg_database(name)
        queue = f"bench-{name}"
        try:
            app = make_app(url, PG_REDIS_URL, queue)
            load_inbox(app, envelopes)
            wall, lines = drain_fully(app, url, PG_REDIS_URL, queue, count, folder)
            statuses, retried, first, last = inbox_figures(app)
            result = outcome(app)
            reference = reference or result
            results.append(
                {
                    "workers": count,
                    "wall_seconds": wall,
                    "span_seconds": (last - first).total_seconds() if first and last else float("nan"),
                    "statuses": statuses,
                    "retried": retried,
                    "deadlocks": sum("deadlock detected" in line for line in lines),
                    "tasks": len(result[0]),
                    "same_as_one_worker": result == reference,
                }
            )
            database.close()
        finally:
            database.close()
            _pg_database(name, drop=True)
    return results


def main(events=None):
    from webapp.embedded_redis import EmbeddedRedis

    events = events or int(os.environ.get("BENCH_WORKER_EVENTS", "5000"))
    pg_events = int(os.environ.get("BENCH_PG_EVENTS", "4000"))
    with tempfile.TemporaryDirectory(prefix="docket-bench-") as tmp:
        folder = Path(tmp)
        with EmbeddedRedis(folder / "redis.sock", persist=False) as redis_server:
            print(f"worker on SQLite: {events} pending events…", flush=True)
            noop_simple = rq_noop_rate(redis_server.url, 3000, "rq.SimpleWorker")
            noop_forking = rq_noop_rate(redis_server.url, 300, "rq.Worker")
            lite = sqlite_figures(folder, redis_server.url, events)
        pg = pg_hot = None
        if postgres_available():
            print(f"workers on PostgreSQL: {pg_events} pending events, 1, 2 and 4 workers…", flush=True)
            pg = postgres_figures(folder, pg_events)
            print("… and the same on hot rows (three jobs, every application on their first stage)…", flush=True)
            pg_hot = postgres_figures(folder, pg_events, hot=True)
    report(lite, noop_simple, noop_forking, pg, pg_hot)


def main_postgres():
    """`python -m bench pg`: only the PostgreSQL figures (both mixes), without the SQLite part."""
    pg_events = int(os.environ.get("BENCH_PG_EVENTS", "4000"))
    if not postgres_available():
        report_postgres(None, None)
        return
    with tempfile.TemporaryDirectory(prefix="docket-bench-") as tmp:
        # BENCH_LOG_DIR keeps the workers' logs (PostgreSQL's deadlock details are in them).
        folder = Path(os.environ.get("BENCH_LOG_DIR") or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        print(f"workers on PostgreSQL: {pg_events} pending events, 1, 2 and 4 workers…", flush=True)
        pg = postgres_figures(folder, pg_events)
        print("… and the same on hot rows (three jobs, every application on their first stage)…", flush=True)
        pg_hot = postgres_figures(folder, pg_events, hot=True)
    report_postgres(pg, pg_hot)


def _rate(events, seconds):
    return events / seconds if seconds else float("nan")


def report(lite, noop_simple, noop_forking, pg, pg_hot):
    n = lite["events"]
    worker_rate = _rate(n, lite["worker_span_seconds"])
    in_process = _rate(n, lite["in_process_seconds"])
    replayed = _rate(n, lite["replay_seconds"])
    print("Worker on SQLite (events loaded first, then drained; the web is not involved)")
    print(f"  {'measure':<46} {'Docket':>14} {'baseline':>14} {'ratio':>8}")
    print(
        f"  {'worker process (rq worker), events/s':<46} {worker_rate:>14.0f} "
        f"{noop_simple:>10.0f} j/s {worker_rate / noop_simple:>7.2f}x   baseline: rq.SimpleWorker no-op jobs"
    )
    print(
        f"  {'':<46} {'':>14} {noop_forking:>10.0f} j/s {worker_rate / noop_forking:>7.2f}x   "
        "baseline: rq.Worker no-op jobs (a fork each)"
    )
    print(
        f"  {'in this process, events/s':<46} {in_process:>14.0f} {replayed:>10.0f} e/s "
        f"{lite['replay_seconds'] / lite['in_process_seconds']:>7.2f}x   baseline: its own SQL replayed by sqlite3"
    )
    print(
        f"  {'share of time outside the database':<46} {1 - lite['replay_seconds'] / lite['in_process_seconds']:>14.0%}"
    )
    kinds = ", ".join(f"{count:.1f} {kind}" for kind, count in lite["kinds"].items())
    print(f"  {'statements per event':<46} {lite['statements'] / n:>14.1f}   ({kinds})")
    print(
        f"  inbox after the worker: {dict(lite['statuses'])}; retried {lite['retried']}; "
        f"tasks and history as in this process: {'yes' if lite['same_as_in_process'] else 'NO'}"
    )
    print(f"  worker process wall time {lite['worker_wall_seconds']:.1f} s (start-up included)")
    report_postgres(pg, pg_hot)


def report_postgres(pg, pg_hot):
    for title, runs in (("PostgreSQL, the mix", pg), ("PostgreSQL, hot rows", pg_hot)):
        print()
        if runs is None:
            print(f"{title}: skipped (no PostgreSQL at {PG_BASE_URL} or no Redis at {PG_REDIS_URL})")
            continue
        events = sum(runs[0]["statuses"].values())
        one = _rate(events, runs[0]["span_seconds"])
        print(f"{title}: {events} events, stock rq workers")
        print(
            f"  {'workers':>7} {'events/s':>9} {'vs 1':>6} {'deadlocks':>10} {'retried':>8} {'tasks':>6}"
            "  same tasks and history as 1 worker"
        )
        for run in runs:
            rate = _rate(events, run["span_seconds"])
            print(
                f"  {run['workers']:>7} {rate:>9.0f} {rate / one:>5.2f}x {run['deadlocks']:>10} {run['retried']:>8} "
                f"{run['tasks']:>6}  {'yes' if run['same_as_one_worker'] else 'NO'}"
                + ("" if set(run["statuses"]) == {"processed"} else f"  inbox: {dict(run['statuses'])}")
            )


if __name__ == "__main__":
    main()
