"""Tasks are due when their rule's `due:` says: the list and /api/tasks put overdue tasks first, then
the soonest due, then those without a due time, read in an index's order; rows say how soon the
interview is and how long someone has waited, coloured by how near the due time is."""

import datetime as dt
import html as html_lib
import re

import pytest

from tests import events as ev
from tests.helpers import process, sign_in
from tests.test_api_task_pages import MINE, _add_tasks, _assert_read_in_index_order, _plan, _statements
from webapp.models import Task, User, utcnow

PAT = ev.PAT


def _at(envelope, moment):
    """The envelope as if it happened at `moment`."""
    return dict(envelope, occurred_at=moment.isoformat().replace("+00:00", "Z"))


def _declined(now, schedule_id, starts_in, name):
    """An interviewer declining, now, an interview that starts `starts_in` from now."""
    starts_at = (now + starts_in).isoformat().replace("+00:00", "Z")
    attendee = {"email": f"{name.lower()}@acme.test", "name": name, "kind": "interviewer"}
    envelope = ev.responded(attendee, "declined", schedule={"id": schedule_id, "starts_at": starts_at})
    return _at(envelope, now)


@pytest.fixture
def day(make_account, client):
    """Pat's day: a candidate waiting 3 days (overdue), two declines (interviews in 3 h and 10 h), a
    candidate who moved just now (due tomorrow) and a new job (no due time)."""
    acme = make_account("Acme")
    acme.now = now = utcnow()
    app_2 = {"id": "app-2"}
    jordan_2 = dict(ev.CANDIDATE, id="cand-2", name="Alex Moss")
    job = {"id": "job-9", "name": "Data Engineer", "coordinator": PAT}
    process(
        acme,
        _at(ev.stage_changed(), now - dt.timedelta(days=3)),
        _declined(now, "sched-late", dt.timedelta(hours=10), "Lee"),
        _declined(now, "sched-soon", dt.timedelta(hours=3), "Dana"),
        _at(ev.stage_changed(application=app_2, candidate=jordan_2), now - dt.timedelta(minutes=5)),
        _at(ev.job_event("created", job=job), now - dt.timedelta(hours=1)),
    )
    acme.pat = User.get(User.email == PAT["email"])
    acme.pat.set_password("correct horse battery")
    acme.pat.save()
    return acme


ORDER = [
    "Jordan Lee — Onsite",  # due two days ago
    "Jordan Lee — Dana declined",  # due in 2 h, an hour before its interview
    "Jordan Lee — Lee declined",  # due in 9 h
    "Alex Moss — Onsite",  # due tomorrow
    "New job: Data Engineer",  # no due time
]


def test_due_times_come_from_the_rules_and_the_api_lists_overdue_then_soonest_then_none(day):
    tasks = day.tasks(assignee=PAT["email"], status="open", limit=2)
    assert [t["title"] for t in tasks] == ORDER
    due = [t["due_at"] and dt.datetime.fromisoformat(t["due_at"]) for t in tasks]
    now = day.now
    assert abs(due[0] - (now - dt.timedelta(days=2))) < dt.timedelta(seconds=1)
    assert abs(due[1] - (now + dt.timedelta(hours=2))) < dt.timedelta(seconds=1)
    assert due[4] is None
    waited = dt.datetime.fromisoformat(tasks[0]["waiting_since"])
    assert abs(waited - (now - dt.timedelta(days=3))) < dt.timedelta(seconds=1)  # since the move, not the write


def _rows(page):
    """(title, due label, due class, waiting label) of each open row of a list page."""
    found = []
    for row in re.findall(r'<tr id="task-\d+".*?</tr>', page, flags=re.S):
        title = re.search(r'class="task-title"[^>]*>([^<]+)<', row)[1]
        due = re.search(r'<span class="due due-(\w+)"[^>]*>([^<]+)</span>', row)
        waiting = re.search(r'<time class="waiting"[^>]*>([^<]+)</time>', row)[1]
        found.append((html_lib.unescape(title), due and due[2], due and due[1], waiting))
    return found


def test_the_list_shows_how_soon_and_how_long_coloured_by_how_near_due(client, day):
    sign_in(client, PAT["email"])
    page = client.get("/tasks").get_data(as_text=True)
    assert "<title>(5) My tasks · Docket</title>" in page
    assert _rows(page) == [
        ("Jordan Lee — Onsite", "overdue 2 days", "overdue", "waiting 3 days"),
        ("Jordan Lee — Dana declined", "interview in 3 h", "soon", "waiting under a minute"),
        ("Jordan Lee — Lee declined", "interview in 10 h", "later", "waiting under a minute"),
        ("Alex Moss — Onsite", "due in 24 h", "later", "waiting 5 min"),
        ("New job: Data Engineer", None, None, "waiting 1 h"),
    ]


def test_the_lists_order_is_read_from_an_index_without_a_sort(app, day):
    _add_tasks(day.account, [day.pat, day.user], 2000, prefix="more")
    statements = _statements(lambda: Task.page_listing(day.account, day.pat, open_limit=50))
    listing = [s for s in statements if "ORDER BY" in s[0] and "due_at" in s[0].split("ORDER BY")[-1]]
    assert len(listing) == 1, statements
    _assert_read_in_index_order(_plan(*listing[0]), MINE)
    shown, _ = Task.page_listing(day.account, day.pat, open_limit=50)
    dues = [t.due_at for t in shown]
    assert dues == sorted(dues, key=lambda due: (due is None, due or day.now))


def test_the_upgrade_keeps_when_old_tasks_waited_since_and_gives_them_no_due_time(tmp_path, settings):
    from playhouse.migrations import Runner

    from webapp import create_app
    from webapp.db import database, migrate

    app = create_app(dict(settings, DATABASE_URL=f"sqlite:///{tmp_path / 'old.db'}"))
    with app.app_context(), database.connection_context():
        Runner(database.obj, directory=str(__import__("webapp").__path__[0] + "/migrations")).up(
            target="0014_task_listing_indexes"
        )
        database.execute_sql(
            "INSERT INTO account (id, name, webhook_key, created_at) VALUES (1, 'Old', 'k', '2026-01-01')"
        )
        database.execute_sql(
            "INSERT INTO event (id, account_id, source, external_id, type, payload, occurred_at, received_at,"
            " status, attempts) VALUES (7, 1, 'api', 'e-7', 'job.created', '{}', '2025-12-30 08:00:00',"
            " '2026-01-01', 'processed', 1)"
        )
        for n, event_id in enumerate((7, None)):
            database.execute_sql(
                "INSERT INTO task (account_id, rule_id, category, key, title, recommended_action, description,"
                " subjects, created_at, last_triggered_at, priority, priority_rank, status, raised_by_event_id)"
                " VALUES (1, 'r', 'c', ?, 't', 'a', '', '{}', '2026-01-01', '2026-01-01', 'normal', 2, 'open', ?)",
                (f"key-{n}", event_id),
            )
        assert "0017_task_due_times" in migrate()
        tasks = list(Task.select().order_by(Task.id))
        assert [t.waiting_since for t in tasks] == [
            dt.datetime(2025, 12, 30, 8, tzinfo=dt.UTC),
            dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        ]
        assert [t.due_at for t in tasks] == [None, None]
        assert [t.id for t in Task.listing(1)[0]] == [t.id for t in tasks]
