"""The Team page and /api/team: its figures against ones worked out by hand on a seeded history at
a fixed "now", its charts, tables and CSV downloads, the account's own tasks only, and each figure
read from an index."""

import csv
import datetime as dt
import io
import re
from zoneinfo import ZoneInfo

import pytest

from tests.helpers import sign_in, sign_in_coordinator
from tests.test_api_task_pages import _plan, _statements
from webapp.db import database, is_postgres
from webapp.insight import day_ends, team_figures
from webapp.models import Task, User

NOW = dt.datetime(2026, 3, 15, 12, 0, tzinfo=dt.UTC)
UTC = ZoneInfo("UTC")
HOUR, DAY = dt.timedelta(hours=1), dt.timedelta(days=1)
RTS, NEW_JOB, DECLINED = "Ready to Schedule", "New Job", "Interviewer Declined"


def _task(account, category, created, completed=None, assignee=None, due=None):
    """A task of `category` opened at `created`, completed at `completed` (None: still open)."""
    rule = category.lower().replace(" ", "_")
    return Task.create(
        account=account,
        rule_id=rule,
        category=category,
        key=f'["{rule}-{Task.select().count()}"]',
        title=f"{category} task",
        recommended_action="Do it",
        assignee=assignee,
        status=Task.COMPLETED if completed else Task.OPEN,
        created_at=created,
        last_triggered_at=created,
        completed_at=completed,
        due_at=due,
    )


@pytest.fixture
def history(make_account):
    """Acme's tasks: five open (Casey two Ready to Schedule, one overdue, and a New Job without a due
    time; Pat an overdue decline; a New Job for nobody), five completed within the last 30 days and
    one before them; and Globex's tasks, which Acme's figures never count."""
    acme = make_account("Acme")
    casey = acme.user
    pat = User.for_email(acme.account, "pat@acme.test", "Pat Lee")
    a = acme.account
    _task(a, RTS, NOW - 2 * DAY, assignee=casey, due=NOW - HOUR)
    _task(a, RTS, NOW - DAY, assignee=casey, due=NOW + HOUR)
    _task(a, NEW_JOB, NOW - 40 * DAY, assignee=casey)
    _task(a, DECLINED, NOW - 3 * HOUR, assignee=pat, due=NOW - HOUR / 2)
    _task(a, NEW_JOB, NOW - 10 * DAY)
    # Ready to Schedule took 1, 2, 3 and 10 hours; New Job 1 and 31 days; one took 5 days, too long ago.
    for created, took in ((NOW - 5 * DAY, HOUR), (NOW - 20 * DAY, 2 * HOUR), (NOW - 3 * DAY - 3 * HOUR, 3 * HOUR)):
        _task(a, RTS, created, created + took, assignee=casey)
    _task(a, RTS, NOW - 12 * DAY, NOW - 12 * DAY + 10 * HOUR, assignee=pat)
    _task(a, NEW_JOB, NOW - 8 * DAY, NOW - 7 * DAY, assignee=pat)
    _task(a, NEW_JOB, NOW - 33 * DAY, NOW - 2 * DAY, assignee=casey)
    _task(a, RTS, NOW - 40 * DAY, NOW - 35 * DAY, assignee=casey)
    globex = make_account("Globex")
    for n in range(3):
        _task(globex.account, RTS, NOW - n * DAY - HOUR, assignee=globex.user, due=NOW - HOUR)
        _task(globex.account, NEW_JOB, NOW - 4 * DAY, NOW - DAY, assignee=globex.user)
    acme.pat, acme.globex = pat, globex
    return acme


def _open_at(account, moment):
    """What "open at a moment" means, counted one task at a time."""
    return sum(
        1
        for t in Task.select().where(Task.account == account)
        if t.created_at <= moment and (t.completed_at is None or t.completed_at > moment)
    )


def test_the_figures_are_those_worked_out_by_hand(history):
    figures = team_figures(history.account, NOW, UTC)
    casey, pat = history.user, history.pat
    counts = {
        (c.coordinator.email if c.coordinator else None, c.category): (c.open, c.overdue) for c in figures.open_counts
    }
    assert counts == {
        (casey.email, RTS): (2, 1),
        (casey.email, NEW_JOB): (1, 0),  # no due time: never overdue
        (pat.email, DECLINED): (1, 1),
        (None, NEW_JOB): (1, 0),
    }
    assert (figures.open_total, figures.overdue_total) == (5, 2)
    assert [(who and who.email, total, late) for who, _, total, late in figures.coordinators] == [
        (casey.email, 3, 1),
        (pat.email, 1, 1),
        (None, 1, 0),
    ]
    times = {t.category: (t.completed, t.median / 3600, t.p90 / 3600) for t in figures.completion_times}
    # Ready to Schedule: 1, 2, 3, 10 h: the median halfway between 2 and 3; p90 at 2.7 of 0..3,
    # 70 % of the way from 3 to 10. New Job: 24 and 744 h.
    assert times[RTS] == pytest.approx((4, 2.5, 7.9))
    assert times[NEW_JOB] == pytest.approx((2, 384, 24 + 0.9 * 720))
    assert set(times) == {RTS, NEW_JOB}
    days = figures.open_by_day
    assert len(days) == 30 and days[0].day == dt.date(2026, 2, 14) and days[-1].day == dt.date(2026, 3, 15)
    # Now: 5. At the end of 14 March, the decline opened this morning was not yet; on the 13th, not
    # the Ready to Schedule of the 14th either; on the 12th the New Job completed on the 13th was open.
    assert [d.open for d in days[-4:]] == [3, 3, 4, 5]
    assert days[0].open == 2  # the New Job of 3 February, and the one completed on 13 March
    assert [d.open for d in days] == [_open_at(history.account, end) for _, end in day_ends(NOW, UTC)]


def test_open_over_time_counts_the_days_of_the_viewers_zone_across_a_change_to_summer_time(history):
    # New York moved its clocks on 8 March: its midnights are 05:00 UTC before and 04:00 UTC after.
    new_york = ZoneInfo("America/New_York")
    _task(history.account, RTS, dt.datetime(2026, 3, 1, 3, tzinfo=dt.UTC))  # 28 February there
    _task(history.account, RTS, dt.datetime(2026, 3, 9, 4, 30, tzinfo=dt.UTC))  # 9 March, just after
    ends = day_ends(NOW, new_york)
    assert ends[-8][1] == dt.datetime(2026, 3, 9, 4, tzinfo=dt.UTC)
    assert ends[-9][1] == dt.datetime(2026, 3, 8, 5, tzinfo=dt.UTC)  # 7 March, still on winter time
    figures = team_figures(history.account, NOW, new_york)
    assert [d.open for d in figures.open_by_day] == [_open_at(history.account, end) for _, end in ends]
    by_day = {d.day: d.open for d in figures.open_by_day}
    assert by_day[dt.date(2026, 2, 28)] - by_day[dt.date(2026, 2, 27)] == 1


def test_a_snoozed_task_is_open_work_on_every_figure(history):
    """Snoozed is not done: counted open today, so that the days before count it too."""
    snoozed = _task(history.account, RTS, NOW - 4 * DAY, assignee=history.pat)
    Task.update(status=Task.SNOOZED, snoozed_until=NOW + DAY).where(Task.id == snoozed.id).execute()
    figures = team_figures(history.account, NOW, UTC)
    assert figures.open_total == 6
    assert [d.open for d in figures.open_by_day] == [_open_at(history.account, end) for _, end in day_ends(NOW, UTC)]


def test_a_dismissed_task_closes_its_day_but_is_no_time_to_complete(history):
    opened = NOW - 2 * DAY
    dismissed = _task(history.account, RTS, opened, opened + dt.timedelta(minutes=1), assignee=history.pat)
    Task.update(dismiss_reason="duplicate").where(Task.id == dismissed.id).execute()
    figures = team_figures(history.account, NOW, UTC)
    times = {t.category: (t.completed, t.median / 3600) for t in figures.completion_times}
    assert times[RTS] == pytest.approx((4, 2.5))  # as without it: 1, 2, 3 and 10 h
    assert [d.open for d in figures.open_by_day] == [_open_at(history.account, end) for _, end in day_ends(NOW, UTC)]


def test_another_accounts_tasks_are_never_counted(history):
    globex = team_figures(history.globex.account, NOW, UTC)
    assert (globex.open_total, globex.overdue_total) == (3, 3)
    assert [(t.category, t.completed) for t in globex.completion_times] == [(NEW_JOB, 3)]
    assert globex.open_by_day[-1].open == 3 and globex.open_by_day[0].open == 0
    acme = team_figures(history.account, NOW, UTC)
    assert history.globex.user not in [c.coordinator for c in acme.open_counts]


@pytest.fixture
def at_now(monkeypatch):
    monkeypatch.setattr("webapp.views.team.utcnow", lambda: NOW)


def test_the_team_page_draws_each_figure_as_a_chart_and_a_table(client, history, at_now):
    sign_in(client, history.user.email)
    html = client.get("/team").get_data(as_text=True)
    assert 'href="/team" aria-current="page"' in html
    assert html.count('role="img"') == 4
    for title in ("Open tasks by coordinator and category", "Time to complete by category, in hours"):
        assert re.search(rf'<svg class="chart"[^>]*>\s*<title id="[^"]+">{title}</title>\s*<desc', html)
    assert "<strong>2</strong> overdue of 5 open tasks" in html
    assert "<title>Casey Coordinator, Ready to Schedule: 2 open</title>" in html
    assert "<title>Sun 15 Mar: 5 open</title>" in html
    row = re.search(r"<tr><th scope=\"row\">Ready to Schedule</th>(.*?)</tr>", html).group(1)
    assert re.findall(r'<td class="number">([^<]*)</td>', row) == ["4", "2.5 h", "7.9 h"]
    for figure in ("open-by-coordinator", "time-to-complete", "open-over-time", "overdue"):
        assert f'href="/team/{figure}.csv"' in html
    assert "<script" not in html.split("</head>")[1] and "style=" not in html


def test_a_coordinator_who_is_not_an_admin_sees_the_team_page(client, history, at_now):
    sign_in_coordinator(client, history.account, email="pat@acme.test")
    assert "overdue of 5 open" in client.get("/team").get_data(as_text=True)


def _csv(client, figure):
    response = client.get(f"/team/{figure}.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == f'attachment; filename="team-{figure}.csv"'
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_each_figure_downloads_as_csv(client, history, at_now):
    history.pat.name = "=HYPERLINK(1)"  # a name the ATS sent must never run as a formula
    history.pat.save()
    sign_in(client, history.user.email)
    casey = ["Casey Coordinator", history.user.email]
    pat = ["'=HYPERLINK(1)", "pat@acme.test"]
    assert _csv(client, "open-by-coordinator") == [
        ["coordinator", "email", "category", "open", "overdue"],
        [*casey, NEW_JOB, "1", "0"],
        [*casey, RTS, "2", "1"],
        [*pat, DECLINED, "1", "1"],
        ["Unassigned", "", NEW_JOB, "1", "0"],
    ]
    assert _csv(client, "overdue") == [
        ["coordinator", "email", "open", "overdue"],
        [*casey, "3", "1"],
        [*pat, "1", "1"],
        ["Unassigned", "", "1", "0"],
        ["Everyone", "", "5", "2"],
    ]
    assert _csv(client, "time-to-complete") == [
        ["category", "completed", "median_seconds", "p90_seconds"],
        [NEW_JOB, "2", str(384 * 3600), str(round((24 + 0.9 * 720) * 3600))],
        [RTS, "4", "9000", "28440"],
    ]
    over_time = _csv(client, "open-over-time")
    assert over_time[0] == ["date", "open"] and len(over_time) == 31
    assert over_time[1] == ["2026-02-14", "2"] and over_time[-2:] == [["2026-03-14", "4"], ["2026-03-15", "5"]]
    assert client.get("/team/everything.csv").status_code == 404


def test_the_api_gives_the_same_figures(history, at_now):
    body = history.get("/api/team").get_json()
    assert body["as_of"] == "2026-03-15T12:00:00Z" and body["time_zone"] == "UTC"
    assert {
        "coordinator": {"email": "pat@acme.test", "name": "Pat Lee"},
        "category": DECLINED,
        "open": 1,
        "overdue": 1,
    } in (body["open_by_coordinator"])
    assert {"coordinator": None, "category": NEW_JOB, "open": 1, "overdue": 0} in body["open_by_coordinator"]
    assert len(body["open_by_coordinator"]) == 4
    assert (body["overdue"]["total"], body["overdue"]["open"]) == (2, 5)
    assert body["time_to_complete"]["days"] == 30
    assert {"category": RTS, "completed": 4, "median_seconds": 9000, "p90_seconds": 28440} in body["time_to_complete"][
        "categories"
    ]
    assert body["open_over_time"][-1] == {"date": "2026-03-15", "open": 5}
    globex = history.globex.get("/api/team").get_json()
    assert globex["overdue"] == {
        "total": 3,
        "open": 3,
        "by_coordinator": [
            {"coordinator": {"email": history.globex.user.email, "name": "Casey Coordinator"}, "open": 3, "overdue": 3}
        ],
    }
    assert history.client.get("/api/team").status_code == 401


def test_the_team_page_wants_a_sign_in(client, history):
    for path in ("/team", "/team/overdue.csv"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")


INDEXES = {
    "task_team_open": "GROUP BY",
    "task_team_created": 'created_at" >=',
    "task_team_completed": 'completed_at" >=',
}


def _index_plan(sql, params):
    """The plan of a read, PostgreSQL's with sequential scans priced out: on a test's few thousand
    rows its planner may rightly prefer scanning the table (seen in a full run), and what this test
    asks is that an index serves each figure as a whole (at 1,000,000 tasks `make bench` times it)."""
    if not is_postgres():
        return _plan(sql, params)
    database.execute_sql("SET enable_seqscan = off")
    try:
        return _plan(sql, params)
    finally:
        database.execute_sql("RESET enable_seqscan")


def test_each_figure_is_read_from_its_index(history):
    many = [
        {
            "account": history.account.id,
            "rule_id": "new_job",
            "category": NEW_JOB if n % 2 else RTS,
            "key": f'["bulk-{n}"]',
            "title": "t",
            "recommended_action": "a",
            "status": Task.COMPLETED if n % 3 else Task.OPEN,
            "created_at": NOW - DAY * (n % 90),
            "last_triggered_at": NOW,
            "completed_at": NOW - DAY * (n % 90) + HOUR if n % 3 else None,
            "assignee": history.user.id if n % 5 else None,
            "subjects": "{}",
        }
        for n in range(3000)
    ]
    Task.insert_many(many).execute()
    statements = _statements(lambda: team_figures(history.account, NOW, UTC))
    reads = [(sql, params) for sql, params in statements if 'FROM "task"' in sql]
    assert len(reads) == 5, reads
    # The snoozed tasks' read (the second) is of a few rows, by whichever index the planner takes.
    snoozed = reads.pop(1)
    assert Task.SNOOZED in snoozed[1] and "Seq Scan on task" not in _index_plan(*snoozed), _index_plan(*snoozed)
    assert not re.search(r"^SCAN t1$", _index_plan(*snoozed), re.MULTILINE), _index_plan(*snoozed)
    used = {}
    for sql, params in reads:
        plan = _index_plan(sql, params)
        index = re.search(
            r"(?:USING (?:COVERING )?INDEX|Index (?:Only )?Scan using|Bitmap Index Scan on) (task_\w+)", plan
        )
        assert index, plan
        used[index.group(1)] = plan
        if is_postgres():
            assert "Seq Scan on task" not in plan, plan
        else:
            # The task table is searched in its index alone, never scanned (the outer query scans the ranks).
            table = re.search(r"SEARCH (\w+) USING COVERING INDEX", plan).group(1)
            assert not re.search(rf"^SCAN {table}$", plan, re.MULTILINE), plan
    if not is_postgres():
        # Which index PostgreSQL takes on a few thousand rows depends on its statistics (in a full
        # run it chose the account's older indexes): there, that an index serves each is asked.
        assert set(used) == set(INDEXES), used
