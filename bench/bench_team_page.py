"""How fast the Team page (/team) and /api/team answer in a database of 1,000,000 tasks, and how many
SQL queries a page takes: the tasks page's seeding (bench_tasks_page), ACCOUNTS accounts of
PEOPLE_PER_ACCOUNT people sharing the tasks, opened over 60 days, 30 % still open, the others
completed a while after they were opened (a few hours to a few days), so that the last 30 days
hold about half of each account's completions. The page of one account is measured: its open tasks
by coordinator and category, its times to complete over 30 days, its open tasks day by day.

Runs on a private SQLite database in a temporary folder (or on BENCH_DATABASE_URL, an empty
PostgreSQL database), through the real app and its request handling; prints its figures.
"""

import datetime as dt
import gc
import os
import random
import statistics
import tempfile
import time

from bench.bench_tasks_page import ACCOUNTS, PEOPLE_PER_ACCOUNT, _insert, _percentile, _rows, measure
from webapp import create_app
from webapp.db import database, is_postgres, migrate
from webapp.models import Account, AccountCreator, ApiToken, Event, Task, User, utcnow

DEFAULT_TOTAL_TASKS = 1_000_000
DEFAULT_REQUESTS = 50
TARGET_P95_MS = 100
OPEN_SHARE = 0.3
MEAN_HOURS_TO_COMPLETE = 36


def _completed_in_time(rows, rng):
    """The seeding's rows, each completed task completed some hours after it was opened (never
    after now), not all at the moment of seeding."""
    now = utcnow()
    for row in rows:
        if row["status"] == Task.COMPLETED:
            took = dt.timedelta(hours=rng.expovariate(1 / MEAN_HOURS_TO_COMPLETE))
            row["completed_at"] = min(row["created_at"] + took, now)
        yield row


def populate(total_tasks, seed=11):
    """ACCOUNTS accounts of PEOPLE_PER_ACCOUNT people, total_tasks / ACCOUNTS tasks each; returns
    the first account's first person, whose page is measured. The first account's tasks are the
    seeding's rows; the others' are copies of them (their own people, their own event) made by the
    database itself, which is many times faster than writing a million rows from Python."""
    rng = random.Random(seed)
    if not is_postgres():
        # A million rows and their indexes outgrow SQLite's default page cache (2 MB) many times
        # over: seeding would wait on the disk for each random index page.
        database.execute_sql("PRAGMA cache_size = -262144")
    accounts = []
    with database.atomic():
        for a in range(ACCOUNTS):
            account = Account.create(name=f"Team bench {a}")
            people = [
                User.create(account=account, email=f"p{p}@team{a}.test", name=f"Person {p}")
                for p in range(PEOPLE_PER_ACCOUNT)
            ]
            AccountCreator.create(account=account, user=people[0])
            event = Event.create(account=account, source="api", external_id=f"team-{a}", type="job.created", payload={})
            accounts.append((account, people, event))
        first, people, event = accounts[0]
        _insert(_completed_in_time(_rows(first, people, event, total_tasks // ACCOUNTS, rng, OPEN_SHARE, "team"), rng))
    columns = [f.column_name for f in Task._meta.sorted_fields if f.name != "id"]
    copied = {"account_id": "%s", "assignee_id": "assignee_id + %s", "raised_by_event_id": "%s"}
    select = ", ".join(copied.get(c, c) for c in columns)
    sql = f"INSERT INTO task ({', '.join(columns)}) SELECT {select} FROM task WHERE account_id = %s"
    if not is_postgres():
        sql = sql.replace("%s", "?")
    for account, others, other_event in accounts[1:]:
        with database.atomic():
            database.execute_sql(sql, (account.id, others[0].id - people[0].id, other_event.id, first.id))
    strays = Task.select().join(User, on=(Task.assignee == User.id)).where(User.account != Task.account).count()
    assert strays == 0, f"{strays} copied tasks name another account's people"
    return people[0]


def _vacuum():
    """PostgreSQL's statistics and visibility map, as autovacuum keeps them on a live database
    (index-only scans need the map); VACUUM runs outside a transaction."""
    if not is_postgres():
        return
    connection = database.connection()
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE task")
    finally:
        connection.autocommit = False


def measure_api(app, token, requests):
    """Server time of `requests` GETs of /api/team (ms, sorted)."""
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(5):
        assert client.get("/api/team", headers=headers).status_code == 200
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        response = client.get("/api/team", headers=headers)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    return sorted(times)


def main() -> None:
    """Build the database, measure /team and /api/team, print the figures against the target."""
    total = int(os.environ.get("BENCH_TEAM_TASKS", DEFAULT_TOTAL_TASKS))
    requests = int(os.environ.get("BENCH_REQUESTS", DEFAULT_REQUESTS))
    with tempfile.TemporaryDirectory(prefix="docket-bench-") as folder:
        url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{folder}/bench.db"
        app = create_app({"ENV": "test", "TESTING": False, "DATABASE_URL": url, "WTF_CSRF_ENABLED": True})
        with app.app_context():
            migrate()
            started = time.perf_counter()
            with database.connection_context():
                person = populate(total)
                token = ApiToken.issue(person)
                _vacuum()
                tasks_in_db = Task.select().count()
                mine = Task.select().where(Task.account == person.account_id)
                open_count = mine.where(Task.status == Task.OPEN).count()
                recent = mine.where(Task.completed_at >= utcnow() - dt.timedelta(days=30)).count()
            print(
                f"team page: {tasks_in_db:,} tasks in the database, the account measured {open_count:,} open and "
                f"{recent:,} completed in 30 days ({time.perf_counter() - started:.1f} s to build) "
                f"on {database.obj.__class__.__name__}"
            )
            database.close()
        gc.collect()
        gc.freeze()
        times, queries = measure(app, person, "/team", requests)
        p95 = _percentile(times, 0.95)
        meets = p95 < TARGET_P95_MS
        print(
            f"  GET /team                p50 {statistics.median(times):6.1f} ms  p95 {p95:6.1f} ms  "
            f"max {times[-1]:6.1f} ms  {queries:.0f} SQL queries/page  ({requests} requests)  "
            f"{'OK' if meets else 'MISSES'} target p95 < {TARGET_P95_MS} ms"
        )
        api_times = measure_api(app, token, requests)
        api_p95 = _percentile(api_times, 0.95)
        print(
            f"  GET /api/team            p50 {statistics.median(api_times):6.1f} ms  p95 {api_p95:6.1f} ms  "
            f"max {api_times[-1]:6.1f} ms  {'OK' if api_p95 < TARGET_P95_MS else 'MISSES'} target p95 < "
            f"{TARGET_P95_MS} ms"
        )


if __name__ == "__main__":
    main()
