"""GET /api/tasks in pages: a cursor stable under inserts, `limit`, the `next` link and Link header,
and every page (and "Show completed") read in an index's order, never a scan or a sort."""

import datetime as dt
import re

import pytest

from webapp.db import database, is_postgres
from webapp.models import Task, User, utcnow

PRIORITIES = [("urgent", 0), ("high", 1), ("normal", 2)]
RULES = ["ready_to_schedule", "new_job", "broken_integration"]


def _due(i, now):
    """Every fifth task overdue, every fifth due soon (later the larger i), the rest with no due time."""
    if i % 5 == 0:
        return now - dt.timedelta(hours=i % 7 + 1)
    if i % 5 == 1:
        return now + dt.timedelta(minutes=(i * 37) % 600)
    return None


def _add_tasks(account, assignees, count, status="open", prefix="t"):
    """`count` tasks spread over the assignees, priorities, rules and due times, created a minute apart."""
    now = utcnow()
    start = now - dt.timedelta(days=30)
    rows = []
    for i in range(count):
        priority, rank = PRIORITIES[i % 3]
        created = start + dt.timedelta(minutes=i // 2)  # two at a time: ties broken by id
        rows.append(
            {
                "account": account,
                "rule_id": RULES[i % 3],
                "category": RULES[i % 3],
                "key": f'["{prefix}-{i}"]',
                "key_head": f"{prefix}-{i}",
                "title": f"Task {prefix}-{i}",
                "recommended_action": "Do it",
                "assignee": assignees[i % len(assignees)],
                "priority": priority,
                "priority_rank": rank,
                "status": status,
                "created_at": created,
                "last_triggered_at": created,
                "due_at": _due(i, now),
                "completed_at": created + dt.timedelta(hours=i) if status == Task.COMPLETED else None,
            }
        )
    for first in range(0, len(rows), 200):
        Task.insert_many(rows[first : first + 200]).execute()


def _expected_order(account, **where):
    query = Task.select(Task.id).where(Task.account == account.account)
    for name, value in where.items():
        query = query.where(getattr(Task, name) == value)
    return [t.id for t in query.order_by(Task.status.desc(), *Task.listing_order())]


@pytest.fixture
def acme(make_account):
    acme = make_account("Acme")
    acme.colleague = User.for_email(acme.account, "pat@acme.test", "Pat")
    _add_tasks(acme.account, [acme.user, acme.colleague], 130)
    _add_tasks(acme.account, [acme.user, acme.colleague], 40, status=Task.COMPLETED, prefix="done")
    return acme


def _pages(acme, **params):
    response = acme.get("/api/tasks", query_string=params)
    pages = []
    while True:
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        pages.append(body)
        if body["next"] is None:
            assert "Link" not in response.headers
            return pages
        assert response.headers["Link"] == f'<{body["next"]}>; rel="next"'
        response = acme.get(body["next"])


def test_pages_of_50_by_default_cover_my_open_tasks_once_in_order(acme):
    pages = _pages(acme)
    assert [len(p["tasks"]) for p in pages] == [50, 15]
    ids = [t["id"] for p in pages for t in p["tasks"]]
    assert ids == _expected_order(acme, assignee=acme.user, status="open")


def test_everyones_tasks_of_every_status_page_from_open_into_completed(acme):
    pages = _pages(acme, assignee="all", status="all", limit=40)
    assert [len(p["tasks"]) for p in pages] == [40, 40, 40, 40, 10]
    ids = [t["id"] for p in pages for t in p["tasks"]]
    assert ids == _expected_order(acme)
    assert [t["status"] for t in pages[3]["tasks"]] == ["open"] * 10 + ["completed"] * 30


def test_the_next_link_keeps_the_filters(acme):
    pages = _pages(acme, assignee="pat@acme.test", status="completed", category="new_job", limit=3)
    tasks = [t for p in pages for t in p["tasks"]]
    assert {(t["assignee"]["email"], t["status"], t["rule"]) for t in tasks} == {
        ("pat@acme.test", "completed", "new_job")
    }
    assert [t["id"] for t in tasks] == _expected_order(
        acme, assignee=acme.colleague, status="completed", rule_id="new_job"
    )
    assert "category=new_job" in pages[0]["next"] and "limit=3" in pages[0]["next"]


def test_pages_list_overdue_tasks_first_then_the_soonest_due_then_those_without(acme):
    tasks = [t for p in _pages(acme, limit=7) for t in p["tasks"]]
    dues = [t["due_at"] for t in tasks]
    now = utcnow().isoformat()
    overdue = [d for d in dues if d and d < now]
    soon = [d for d in dues if d and d >= now]
    assert overdue and soon and None in dues
    assert dues == overdue + soon + [None] * dues.count(None)
    assert overdue == sorted(overdue) and soon == sorted(soon)


def test_a_page_as_large_as_200_and_no_larger(acme):
    assert len(acme.get("/api/tasks", query_string={"assignee": "all", "limit": 200}).get_json()["tasks"]) == 130
    for bad in ("0", "201", "ten", "-1", "1.5", "", "²", "9" * 5000):
        response = acme.get("/api/tasks", query_string={"limit": bad})
        assert response.status_code == 400, bad
        assert response.get_json()["field"] == "limit"


CURSORS_NOT_GIVEN = [
    "nonsense",
    "e30",  # {}
    "WyJvcGVuIiwxXQ",  # ["open",1]
    "WyJsYXRlciIsMCwiMjAyNi0wMS0wMSIsMV0",  # ["later",0,"2026-01-01",1]
    "WyJvcGVuIixudWxsLDAsIjIwMjYtMDEtMDEiLDE5OTk5OTk5OTk5OTk5OTk5OTk5OTld",  # an id no database holds
    "WyJvcGVuIiwwLCIyMDI2LTAxLTAxIiwxXQ",  # ["open",0,"2026-01-01",1]: before tasks were due
]


@pytest.mark.parametrize("cursor", CURSORS_NOT_GIVEN)
def test_a_cursor_the_api_did_not_give_is_a_400(acme, cursor):
    response = acme.get("/api/tasks", query_string={"cursor": cursor})
    assert response.status_code == 400
    assert response.get_json()["field"] == "cursor"


def test_the_cursor_is_stable_when_tasks_are_added_before_and_after_it(acme):
    first = acme.get("/api/tasks", query_string={"limit": 20}).get_json()
    seen = [t["id"] for t in first["tasks"]]
    # A long overdue task sorts before the cursor, a low one due never after it: the next page skips
    # and repeats nothing.
    _add_tasks(acme.account, [acme.user], 1, prefix="urgent-late")
    late = Task.get(Task.key_head == "urgent-late-0")
    late.due_at, late.created_at = utcnow() - dt.timedelta(days=60), utcnow()
    late.save()
    _add_tasks(acme.account, [acme.user], 1, prefix="low-late")
    Task.update(priority_rank=9, due_at=None).where(Task.key_head == "low-late-0").execute()
    rest = [t["id"] for p in _pages_from(acme, first["next"]) for t in p["tasks"]]
    assert seen + rest == [i for i in _expected_order(acme, assignee=acme.user, status="open") if i != late.id]


def _pages_from(acme, url):
    pages = []
    while url:
        body = acme.get(url).get_json()
        pages.append(body)
        url = body["next"]
    return pages


def _statements(work):
    """The SQL statements (with their parameters) that `work` runs."""
    ran = []
    real = database.obj.execute_sql

    def capture(sql, params=None, *args, **kwargs):
        ran.append((sql, params))
        return real(sql, params, *args, **kwargs)

    database.obj.execute_sql = capture
    try:
        work()
    finally:
        database.obj.execute_sql = real
    return [(sql, params) for sql, params in ran if sql.lstrip().upper().startswith("SELECT")]


def _plan(sql, params):
    if is_postgres():
        database.execute_sql("ANALYZE task")
        rows = database.execute_sql("EXPLAIN " + sql, params).fetchall()
    else:
        rows = database.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()
    return "\n".join(str(row[-1]) for row in rows)


def _assert_read_in_index_order(plan, index):
    if is_postgres():
        assert re.search(rf"Index (Only )?Scan( Backward)? using {index} on task", plan), plan
        assert not re.search(r"Seq Scan on task|Sort\s+\(cost", plan), plan
    else:
        assert re.search(rf"SEARCH \w+ USING (COVERING )?INDEX {index} ", plan), plan
        assert "SCAN t" not in plan and "TEMP B-TREE" not in plan, plan


MINE = "task_listing_assignee_due"
EVERYONES = "task_listing_due"


@pytest.mark.parametrize(
    "params, index",
    [
        ({}, MINE),
        ({"status": "completed"}, MINE),
        ({"category": "new_job"}, MINE),
        ({"assignee": "pat@acme.test", "status": "all"}, MINE),
        ({"assignee": "all"}, EVERYONES),
        ({"assignee": "all", "status": "all", "category": "new_job"}, EVERYONES),
    ],
)
def test_every_page_is_read_in_an_index_order(acme, app, params, index):
    _add_tasks(acme.account, [acme.user, acme.colleague], 1000, prefix="more")
    _add_tasks(acme.account, [acme.user, acme.colleague], 1000, status=Task.COMPLETED, prefix="more-done")
    first = acme.get("/api/tasks", query_string={**params, "limit": 10}).get_json()
    for url in ("/api/tasks?" + "&".join(f"{k}={v}" for k, v in params.items()), first["next"]):
        statements = [s for s in _statements(lambda url=url: acme.get(url)) if "FROM" in s[0] and '"task"' in s[0]]
        listings = [s for s in statements if "ORDER BY" in s[0]]
        assert listings, statements
        for sql, args in listings:
            _assert_read_in_index_order(_plan(sql, args), index)


def test_show_completed_is_read_in_an_index_order_newest_first(acme, app):
    _add_tasks(acme.account, [acme.user], 3000, status=Task.COMPLETED, prefix="history")
    statements = _statements(lambda: Task.page_listing(acme.account, acme.user, completed_limit=20))
    completed = [s for s in statements if "completed_at" in s[0].split("ORDER BY")[-1]]
    assert len(completed) == 1
    _assert_read_in_index_order(_plan(*completed[0]), "task_account_id_assignee_id_status_completed_at_id")
    _, shown = Task.page_listing(acme.account, acme.user, completed_limit=5)
    newest = Task.select().where(Task.assignee == acme.user, Task.status == Task.COMPLETED)
    assert [t.id for t in shown] == [t.id for t in newest.order_by(Task.completed_at.desc(), Task.id.desc())][:5]
