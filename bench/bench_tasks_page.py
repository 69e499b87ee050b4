"""How fast /tasks answers for a coordinator with 500 open tasks in a database of 100,000 tasks,
and how many SQL queries one page takes (it must not grow with the number of tasks). The page
draws the 50 open tasks due soonest and a "Show more"; the figure with all 500 drawn is printed too.

Then /api/tasks, page after page by its `next` links: pages of 50 and of 200 for a coordinator
with 500 open tasks, for one with 5,000, and `assignee=all` in an account of 50 coordinators
with 500 open each; p95 per page beside its target, bytes and SQL queries per page.

Runs on a private SQLite database in a temporary folder (or on BENCH_DATABASE_URL, an empty
PostgreSQL database), through the real app and its request handling; prints its figures.
"""

import gc
import os
import random
import statistics
import tempfile
import time

from webapp import create_app
from webapp.db import database, migrate
from webapp.models import Account, AccountCreator, ApiToken, Event, Task, User, utcnow

DEFAULT_TOTAL_TASKS = 100_000
DEFAULT_OPEN_FOR_COORDINATOR = 500
DEFAULT_REQUESTS = 200
TARGET_P95_MS = 50
TARGET_QUERIES = 6
TARGET_API_PAGE_P95_MS = 30
BUSY_OPEN_TASKS = 5_000
TEAM_COORDINATORS = 50
TEAM_OPEN_EACH = 500
API_PAGE_SIZES = (50, 200)
RULES = [
    ("ready_to_schedule", "Ready to Schedule", "high"),
    ("interviewer_declined", "Interviewer Declined", "high"),
    ("new_job", "New Job", "normal"),
    ("new_stage", "New Stage", "normal"),
    ("broken_integration", "Broken Integration", "urgent"),
]
PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
# When each rule's tasks fall due after the event, as rules.yaml says (None: no due time); a
# decline's is an hour before its interview, here one to five days after the decline.
DUE_AFTER = {"ready_to_schedule": 86400, "broken_integration": 0, "interviewer_declined": None}
ACCOUNTS = 20
PEOPLE_PER_ACCOUNT = 10


def _rows(account, assignees, event, count, rng, open_share, prefix):
    now = utcnow()
    for i in range(count):
        rule_id, category, priority = rng.choice(RULES)
        is_open = rng.random() < open_share
        created = now.timestamp() - rng.randint(60, 60 * 86400)
        created_at = utcnow().fromtimestamp(created, now.tzinfo)
        key = f"{prefix}-{i}"
        due = DUE_AFTER.get(rule_id, -1)
        if due is None:
            due = rng.randint(1, 5) * 86400 - 3600
        due_at = utcnow().fromtimestamp(created + due, now.tzinfo) if due >= 0 else None
        yield {
            "account": account,
            "rule_id": rule_id,
            "category": category,
            "key": f'{{"application.id": "{key}"}}',
            "key_head": key,
            "title": f"Candidate {i} — Onsite",
            "recommended_action": f"Schedule Candidate {i} for Onsite (Senior Backend Engineer)",
            "assignee": rng.choice(assignees) if isinstance(assignees, list) else assignees,
            "priority": priority,
            "priority_rank": PRIORITY_RANK[priority],
            "status": "open" if is_open else "completed",
            "subjects": {"candidate": {"id": f"cand-{key}", "name": f"Candidate {i}"}, "application": {"id": key}},
            "created_at": created_at,
            "last_triggered_at": created_at,
            "waiting_since": created_at,
            "due_at": due_at,
            "completed_at": None if is_open else now,
            "completion_reason": None if is_open else "the candidate was scheduled",
            "raised_by_event": event,
        }


def _insert(rows, batch=200):
    batch_rows = []
    for row in rows:
        batch_rows.append(row)
        if len(batch_rows) == batch:
            Task.insert_many(batch_rows).execute()
            batch_rows = []
    if batch_rows:
        Task.insert_many(batch_rows).execute()


def populate(total_tasks, open_for_coordinator, seed=7):
    """The database: ACCOUNTS accounts of PEOPLE_PER_ACCOUNT people; the coordinator measured has
    `open_for_coordinator` open tasks (and as many completed), a busy one of another account
    BUSY_OPEN_TASKS, and a team account TEAM_COORDINATORS coordinators with TEAM_OPEN_EACH each;
    everyone else shares the rest. Returns (the coordinator, the busy one, one of the team)."""
    rng = random.Random(seed)
    coordinator = busy = None
    with database.atomic():
        for a in range(ACCOUNTS):
            account = Account.create(name=f"Bench {a}")
            people = [User.create(account=account, email=f"p{p}@bench{a}.test", name=f"Person {p}") for p in range(10)]
            AccountCreator.create(account=account, user=people[0])
            event = Event.create(
                account=account, source="api", external_id=f"bench-{a}", type="job.created", payload={}
            )
            if a == 0:
                coordinator = people[0]
                _insert(_rows(account, coordinator, event, open_for_coordinator, rng, 1.0, "mine-open"))
                _insert(_rows(account, coordinator, event, open_for_coordinator, rng, 0.0, "mine-done"))
            if a == 1:
                busy = people[0]
                _insert(_rows(account, busy, event, BUSY_OPEN_TASKS, rng, 1.0, "busy-open"))
        accounts = list(Account.select())
        team = Account.create(name="Bench team")
        members = [
            User.create(account=team, email=f"c{c}@team.test", name=f"Coordinator {c}")
            for c in range(TEAM_COORDINATORS)
        ]
        AccountCreator.create(account=team, user=members[0])
        event = Event.create(account=team, source="api", external_id="bench-team", type="job.created", payload={})
        for member in members:
            _insert(_rows(team, member, event, TEAM_OPEN_EACH, rng, 1.0, f"team-{member.id}"))
    remaining = total_tasks - 2 * open_for_coordinator - BUSY_OPEN_TASKS - TEAM_COORDINATORS * TEAM_OPEN_EACH
    per_account = remaining // len(accounts)
    for account in accounts:
        people = list(User.select().where(User.account == account))
        others = [p for p in people if p.id != coordinator.id]
        event = Event.get(Event.account == account)
        with database.atomic():
            _insert(_rows(account, others, event, per_account, rng, 0.3, f"other-{account.id}"))
    return coordinator, busy, members[0]


class QueryCounter:
    """Counts the statements the database runs, by wrapping its execute_sql."""

    def __init__(self):
        self.count = 0
        self._real = database.obj.execute_sql
        database.obj.execute_sql = self._counting

    def _counting(self, sql, params=None, *args, **kwargs):
        self.count += 1
        return self._real(sql, params, *args, **kwargs)

    def stop(self):
        database.obj.execute_sql = self._real


def measure(app, user, path, requests):
    """Server time of `requests` GETs of `path` as `user` (ms, sorted) and queries per page."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()  # as flask-login stores a sign-in
        session["_fresh"] = True
    for _ in range(10):  # warm up: templates compiled, caches filled
        assert client.get(path).status_code == 200
    times = []
    counter = QueryCounter()
    try:
        for _ in range(requests):
            start = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200
    finally:
        counter.stop()
    return sorted(times), counter.count / requests


def measure_api(app, token, query, requests):
    """Server time (ms, sorted), bytes and SQL queries per page of `requests` GETs of /api/tasks,
    walking the pages by their `next` links and starting again from the first after the last."""
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    first = f"/api/tasks?{query}"
    url = first
    for _ in range(10):  # warm up
        assert client.get(first, headers=headers).status_code == 200
    times, sizes = [], []
    counter = QueryCounter()
    try:
        for _ in range(requests):
            start = time.perf_counter()
            response = client.get(url, headers=headers)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, response.get_data(as_text=True)[:300]
            sizes.append(len(response.data))
            url = response.get_json()["next"] or first
    finally:
        counter.stop()
    return sorted(times), statistics.mean(sizes), counter.count / requests


def _percentile(sorted_values, share):
    return sorted_values[min(len(sorted_values) - 1, int(round(share * (len(sorted_values) - 1))))]


def main() -> None:
    """Build the database, measure /tasks, print the figures against the targets."""
    total = int(os.environ.get("BENCH_TOTAL_TASKS", DEFAULT_TOTAL_TASKS))
    mine = int(os.environ.get("BENCH_OPEN_TASKS", DEFAULT_OPEN_FOR_COORDINATOR))
    requests = int(os.environ.get("BENCH_REQUESTS", DEFAULT_REQUESTS))
    with tempfile.TemporaryDirectory(prefix="docket-bench-") as folder:
        url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{folder}/bench.db"
        app = create_app({"ENV": "test", "TESTING": False, "DATABASE_URL": url, "WTF_CSRF_ENABLED": True})
        with app.app_context():
            migrate()
            started = time.perf_counter()
            with database.connection_context():
                coordinator, busy, team_member = populate(total, mine)
                tasks_in_db = Task.select().count()
                tokens = {user.id: ApiToken.issue(user) for user in (coordinator, busy, team_member)}
            print(
                f"tasks page: {tasks_in_db:,} tasks in the database, {mine} open for the coordinator "
                f"({time.perf_counter() - started:.1f} s to build) on {database.obj.__class__.__name__}"
            )
            database.close()
        # As wsgi.py does once the app is loaded (the bench builds its app itself).
        gc.collect()
        gc.freeze()
        # Connections come from the app's pool, as in production.
        ok = True
        for path in ("/tasks", "/tasks?completed=1"):
            times, queries = measure(app, coordinator, path, requests)
            p50, p95 = statistics.median(times), _percentile(times, 0.95)
            meets = p95 < TARGET_P95_MS and queries <= TARGET_QUERIES
            ok = ok and meets
            print(
                f"  GET {path:<20} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  max {times[-1]:6.1f} ms  "
                f"{queries:.0f} SQL queries/page  ({requests} requests)  "
                f"{'OK' if meets else 'MISSES'} target p95 < {TARGET_P95_MS} ms, <= {TARGET_QUERIES} queries"
            )
        # All 500 drawn at once, as after "Show more" nine times: for the record, no target.
        times, queries = measure(app, coordinator, f"/tasks?shown={mine}", requests)
        print(
            f"  GET /tasks?shown={mine:<10} p50 {statistics.median(times):6.1f} ms  "
            f"p95 {_percentile(times, 0.95):6.1f} ms  max {times[-1]:6.1f} ms  "
            f"{queries:.0f} SQL queries/page  (every open task drawn)"
        )
        print(f"  tasks page: {'meets' if ok else 'misses'} its targets")
        api_ok = True
        walks = [
            (coordinator, "", f"{mine} open"),
            (busy, "", f"{BUSY_OPEN_TASKS:,} open"),
            (team_member, "assignee=all&", f"assignee=all, {TEAM_COORDINATORS} x {TEAM_OPEN_EACH} open"),
        ]
        for user, query, label in walks:
            for size in API_PAGE_SIZES:
                times, size_bytes, queries = measure_api(app, tokens[user.id], f"{query}limit={size}", requests)
                p95 = _percentile(times, 0.95)
                meets = p95 < TARGET_API_PAGE_P95_MS
                api_ok = api_ok and meets
                print(
                    f"  GET /api/tasks {label:<28} pages of {size:<3} p50 {statistics.median(times):6.1f} ms  "
                    f"p95 {p95:6.1f} ms  {size_bytes / 1024:6.1f} KB/page  {queries:.0f} SQL queries/page  "
                    f"{'OK' if meets else 'MISSES'} target p95 < {TARGET_API_PAGE_P95_MS} ms per page"
                )
        print(f"  /api/tasks: {'meets' if api_ok else 'misses'} its targets")


if __name__ == "__main__":
    main()
