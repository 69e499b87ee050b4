"""How the team is doing, read from an account's tasks: open tasks by coordinator and category (and
how many of them are overdue), time to complete per category over the last 30 days (median and
p90), and the open count at the end of each of the last 30 days.

Each figure is one grouped query on an index that holds every column it reads (migration 0021), so
its cost follows the account's open tasks or its last 30 days, never the table. Open over time is
walked backwards from today's open count with the tasks opened and completed since each day ended;
percentiles are ranked by a window function (ROW_NUMBER), which SQLite and PostgreSQL both run, and
only the rows at the ranks a percentile needs leave the database."""

import bisect
import datetime as dt
from dataclasses import dataclass

from peewee import SQL, Case, Window, fn

from .db import is_postgres
from .models import Task, User

WINDOW_DAYS = 30
# Percentiles of the time to complete, in percent: linearly interpolated between the closest ranks,
# as PostgreSQL's percentile_cont, numpy and spreadsheets' PERCENTILE.INC compute them.
MEDIAN, P90 = 50, 90
# Open over time counts tasks opened and completed per quarter of an hour, which every time zone's
# midnights fall on, and sums those into the days of the viewer's zone.
SLOT_SECONDS = 15 * 60


@dataclass(frozen=True)
class OpenCount:
    """Open tasks of one coordinator (None: nobody's) in one category, and how many are overdue."""

    coordinator: User | None
    category: str
    open: int
    overdue: int


@dataclass(frozen=True)
class CompletionTimes:
    """Tasks of a category completed in the window, and their median and p90 time to complete (seconds)."""

    category: str
    completed: int
    median: float
    p90: float


@dataclass(frozen=True)
class OpenOnDay:
    """How many tasks were open at the end of a day (today: now)."""

    day: dt.date
    open: int


@dataclass(frozen=True)
class TeamFigures:
    """Every figure of the Team page, as of `now`, with days in `zone`."""

    now: dt.datetime
    zone: dt.tzinfo
    open_counts: list[OpenCount]
    completion_times: list[CompletionTimes]
    open_by_day: list[OpenOnDay]

    @property
    def since(self):
        """Where the time-to-complete window starts."""
        return self.now - dt.timedelta(days=WINDOW_DAYS)

    @property
    def categories(self):
        """The categories that have open tasks, by name."""
        return sorted({c.category for c in self.open_counts})

    @property
    def coordinators(self):
        """Each coordinator with open tasks (None: nobody's) with their counts by category, open and
        overdue totals: [(coordinator, {category: OpenCount}, open, overdue)], most open first."""
        rows = {}
        for count in self.open_counts:
            rows.setdefault(count.coordinator, {})[count.category] = count
        table = [
            (who, by_category, sum(c.open for c in by_category.values()), sum(c.overdue for c in by_category.values()))
            for who, by_category in rows.items()
        ]
        return sorted(table, key=lambda row: (-row[2], row[0] is None, row[0].display_name if row[0] else ""))

    @property
    def open_total(self):
        return sum(c.open for c in self.open_counts)

    @property
    def overdue_total(self):
        return sum(c.overdue for c in self.open_counts)


def team_figures(account, now, zone):
    """The account's figures as of `now` (an aware time), with days as `zone` has them."""
    open_counts = open_by_coordinator(account, now)
    return TeamFigures(
        now=now,
        zone=zone,
        open_counts=open_counts,
        completion_times=completion_times(account, now - dt.timedelta(days=WINDOW_DAYS), now),
        open_by_day=open_by_day(account, now, zone, sum(c.open for c in open_counts)),
    )


def open_by_coordinator(account, now):
    """The account's open tasks by coordinator and category, with those due before `now`: one
    read of task_team_open, in its order. A task without a due time is due at DueField.NO_DUE,
    never before now."""
    overdue = fn.SUM(Case(None, [(Task.due_at < now, 1)], 0))
    rows = list(
        Task.select(Task.assignee, Task.category, fn.COUNT(SQL("*")), overdue)
        .where(Task.account == account, Task.status == Task.OPEN)
        .group_by(Task.assignee, Task.category)
        .order_by(Task.assignee, Task.category)
        .tuples()
    )
    ids = sorted({assignee for assignee, *_ in rows if assignee is not None})
    people = {u.id: u for u in User.select().where(User.account == account, User.id.in_(ids))} if ids else {}
    return [OpenCount(people.get(assignee), category, n, int(late or 0)) for assignee, category, n, late in rows]


def _seconds_between(start, end):
    """Seconds from one stored time to another, to the millisecond."""
    if is_postgres():
        return fn.date_part("epoch", end - start)
    return (fn.julianday(end) - fn.julianday(start)) * 86400.0


def _cast_integer(expression):
    return expression.cast("BIGINT" if is_postgres() else "INTEGER")


def completion_times(account, since, until):
    """Per category of the tasks completed from `since` to `until`: how many, and the median and p90
    of their time from opened to completed. One read of task_team_completed; the window function
    ranks each category's times, and only the (at most) four ranks the two percentiles interpolate
    between are returned."""
    took = _seconds_between(Task.created_at, Task.completed_at)
    # One window for both, the category's whole partition in order: a single sort ranks and counts.
    by_time = Window(
        partition_by=[Task.category],
        order_by=[took],
        frame_type=Window.ROWS,
        start=Window.preceding(),
        end=Window.following(),
    )
    ranked = (
        Task.select(
            Task.category,
            took.alias("took"),
            fn.ROW_NUMBER().over(by_time).alias("rank"),
            fn.COUNT(SQL("*")).over(by_time).alias("n"),
        )
        .window(by_time)
        .where(
            Task.account == account,
            Task.status == Task.COMPLETED,
            Task.completed_at >= since,
            Task.completed_at <= until,
        )
    )
    rank, n = ranked.c.rank, ranked.c.n
    # The ranks either side of each percentile's position (n - 1) * p / 100 (integer division), from 1.
    lower = {p: _cast_integer((n - 1) * p / 100) + 1 for p in (MEDIAN, P90)}
    wanted = (rank == lower[MEDIAN]) | (rank == lower[MEDIAN] + 1) | (rank == lower[P90]) | (rank == lower[P90] + 1)
    rows = ranked.select_from(ranked.c.category, ranked.c.took, rank, n).where(wanted).tuples()
    found = {}
    for category, took_seconds, at, count in rows:
        found.setdefault(category, (count, {}))[1][at] = float(took_seconds)
    return [
        CompletionTimes(category, count, _percentile(times, count, MEDIAN), _percentile(times, count, P90))
        for category, (count, times) in sorted(found.items())
    ]


def _percentile(times_at_rank, count, percent):
    """The percentile of `count` sorted values, of which `times_at_rank` has those at the ranks it
    lies between (ranks from 1), interpolated linearly."""
    position = (count - 1) * percent / 100
    below = int(position)
    low = times_at_rank[below + 1]
    high = times_at_rank.get(below + 2, low)
    return low + (position - below) * (high - low)


def day_ends(now, zone, days=WINDOW_DAYS):
    """The last `days` days in `zone` up to today: [(day, when it ends in UTC)], the last ending `now`."""
    today = now.astimezone(zone).date()
    first = today - dt.timedelta(days=days - 1)
    ends = []
    for offset in range(days):
        day = first + dt.timedelta(days=offset)
        midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.UTC)
        ends.append((day, min(midnight, now)))
    return ends


def open_by_day(account, now, zone, open_now):
    """The open count at the end of each of the last WINDOW_DAYS days in `zone` (today's: now),
    walked back from `open_now`: a day's count is today's, less the tasks opened after it ended,
    plus those completed after it ended. Two grouped reads, of task_team_created and
    task_team_completed, from the first day's start on."""
    ends = day_ends(now, zone)
    start = dt.datetime.combine(ends[0][0], dt.time(), zone).astimezone(dt.UTC)
    opened = _per_slot(account, Task.created_at, start)
    completed = _per_slot(account, Task.completed_at, start, Task.status == Task.COMPLETED)
    # Tasks opened (completed) after each day ended: the slots that start at or after its end.
    boundaries = [end for _, end in ends]
    after = [0] * (len(ends) + 1)
    for slots, sign in ((opened, -1), (completed, 1)):
        for slot, count in slots:
            moment = start + dt.timedelta(seconds=slot * SLOT_SECONDS)
            after[bisect.bisect_right(boundaries, moment)] += sign * count
    result, change = [], 0
    for index in range(len(ends) - 1, -1, -1):
        change += after[index + 1]
        result.append(OpenOnDay(ends[index][0], open_now + change))
    return result[::-1]


def _per_slot(account, column, start, *where):
    """How many of the account's tasks have `column` at or after `start`, per quarter hour since it."""
    query = (
        Task.select(_slot(column, start).alias("slot"), fn.COUNT(SQL("*")))
        .where(Task.account == account, column >= start, *where)
        .group_by(SQL("1"))
        .tuples()
    )
    return list(query)


def _slot(column, start):
    """The quarter hour since `start` a stored time (naive, in UTC, on both databases) falls in."""
    since = int(start.timestamp())
    if is_postgres():
        return _cast_integer(fn.FLOOR((fn.date_part("epoch", column) - since) / SLOT_SECONDS))
    # Whole seconds, then integer division: SQLite's own floor, without its optional math functions.
    return (_cast_integer(fn.strftime("%s", column)) - since) / SLOT_SECONDS
