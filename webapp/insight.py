"""How the team is doing, read from an account's tasks: open tasks by coordinator and category (and
how many of them are overdue), time to complete per category over the last 30 days (median and
p90), and the open count at the end of each of the last 30 days.

Each figure is one query on an index that holds every column it reads (migration 0021), so its
cost follows the account's open tasks or its last 30 days, never the table. Open over time is
walked backwards from today's open count with the tasks opened and completed since each day ended,
counted per day in one grouped read each. Percentiles are PostgreSQL's own percentile_cont; SQLite
has none (and its window functions cost several times a sort), so it reads the times sorted, from
the same index, and they are interpolated here exactly as percentile_cont does."""

import bisect
import collections
import datetime as dt
from dataclasses import dataclass

from peewee import SQL, Case, NodeList, fn

from .db import database, is_postgres
from .models import Task, User

WINDOW_DAYS = 30
# Percentiles of the time to complete, in percent: linearly interpolated between the closest ranks,
# as PostgreSQL's percentile_cont, numpy and spreadsheets' PERCENTILE.INC compute them.
MEDIAN, P90 = 50, 90


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
        # By name as Python sorts it: the databases' collations differ.
        completion_times=sorted(
            completion_times(account, now - dt.timedelta(days=WINDOW_DAYS), now), key=lambda t: t.category
        ),
        open_by_day=open_by_day(account, now, zone, sum(c.open for c in open_counts)),
    )


def open_by_coordinator(account, now):
    """The account's open tasks (snoozed ones too: they are not done, and open_by_day walks back
    from this count through every task not completed) by coordinator and category, with those due
    before `now`: a read of task_team_open, and one of the snoozed. A task without a due time is due at DueField.NO_DUE,
    never before now."""
    overdue = fn.SUM(Case(None, [(Task.due_at < now, 1)], 0))
    # One read per status, each in an index's order: an IN of both would have the planners pick
    # other indexes. Open tasks are many (task_team_open); snoozed ones few.
    totals = collections.Counter()
    for status in Task.LIVE:
        query = (
            Task.select(Task.assignee, Task.category, fn.COUNT(SQL("*")), overdue)
            .where(Task.account == account, Task.status == status)
            .group_by(Task.assignee, Task.category)
            .order_by(Task.assignee, Task.category)
        )
        for assignee, category, n, late in query.tuples():
            totals[assignee, category, "open"] += n
            totals[assignee, category, "overdue"] += int(late or 0)
    groups = sorted({(a, c) for a, c, _ in totals}, key=lambda g: (g[0] is None, g[0] or 0, g[1]))
    ids = sorted({assignee for assignee, _ in groups if assignee is not None})
    people = {u.id: u for u in User.select().where(User.account == account, User.id.in_(ids))} if ids else {}
    return [OpenCount(people.get(a), c, totals[a, c, "open"], totals[a, c, "overdue"]) for a, c in groups]


def _seconds_between(start, end):
    """Seconds from one stored time to another, to the millisecond."""
    if is_postgres():
        return fn.date_part("epoch", end - start)
    return (fn.julianday(end) - fn.julianday(start)) * 86400.0


def completion_times(account, since, until):
    """Per category of the tasks completed (not dismissed) from `since` to `until`: how many, and the median and p90
    of their time from opened to completed, read from task_team_completed."""
    took = _seconds_between(Task.created_at, Task.completed_at)
    completed = (
        Task.account == account,
        Task.status == Task.COMPLETED,
        Task.completed_at >= since,
        Task.completed_at <= until,
        Task.dismiss_reason.is_null(),  # dismissed: closed, but not done
    )
    if is_postgres():
        within = [
            NodeList((fn.percentile_cont(p / 100), SQL("WITHIN GROUP (ORDER BY"), took, SQL(")")))
            for p in (MEDIAN, P90)
        ]
        query = Task.select(Task.category, fn.COUNT(SQL("*")), *within).where(*completed).group_by(Task.category)
        rows = query.tuples()
        return [CompletionTimes(category, n, float(median), float(p90)) for category, n, median, p90 in rows]
    # Sorted here: SQLite's sort of the rows costs more than reading them.
    by_category = {}
    for category, seconds in database.execute(Task.select(Task.category, took).where(*completed)).fetchall():
        by_category.setdefault(category, []).append(seconds)
    result = []
    for category, times in by_category.items():
        times.sort()
        result.append(CompletionTimes(category, len(times), _percentile(times, MEDIAN), _percentile(times, P90)))
    return result


def _percentile(ordered, percent):
    """The percentile of sorted values, interpolated linearly between the two closest (percentile_cont)."""
    position = (len(ordered) - 1) * percent / 100
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (position - below) * (ordered[above] - ordered[below])


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
    boundaries = [end for _, end in ends]
    start = dt.datetime.combine(ends[0][0], dt.time(), zone).astimezone(dt.UTC)
    # Each day ends at the same UTC time of day, or at one of two across a change of the zone's
    # offset: counted per UTC date and side of each of those times (none for a UTC midnight, which
    # the date is), every count falls wholly before or after each day's end. Up to now: tasks are
    # never opened in the future.
    times = sorted({end.time() for end in boundaries[:-1]} - {dt.time()})
    after = [0] * (len(ends) + 1)
    reads = ((Task.created_at, (), -1), (Task.completed_at, (Task.status == Task.COMPLETED,), 1))
    for column, where, sign in reads:
        for date, *past, count in _per_date(account, column, start, now, times, where):
            since = max((t for t, passed in zip(times, past, strict=True) if passed), default=dt.time())
            moment = dt.datetime.combine(dt.date.fromisoformat(str(date)), since, dt.UTC)
            after[bisect.bisect_right(boundaries, moment)] += sign * count
    result, change = [], 0
    for index in range(len(ends) - 1, -1, -1):
        change += after[index + 1]
        result.append(OpenOnDay(ends[index][0], open_now + change))
    return result[::-1]


def _per_date(account, column, start, now, times, where):
    """The account's tasks with `column` from `start` to `now`, counted per UTC date of it and
    whether its time of day is at or after each of `times`: [(date, passed each time..., count)]."""
    if is_postgres():
        date, time_of_day = column.cast("date"), column.cast("time")
    else:
        # Stored as text, "YYYY-MM-DD HH:MM:SS[.ffffff]": the parts compare as they are, unparsed.
        date, time_of_day = fn.substr(column, 1, 10), fn.substr(column, 12)
    passed = [time_of_day >= t.isoformat() for t in times]
    query = (
        Task.select(date, *passed, fn.COUNT(SQL("*")))
        .where(Task.account == account, column >= start, column <= now, *where)
        .group_by(SQL(", ".join(str(n) for n in range(1, len(times) + 2))))
    )
    return database.execute(query).fetchall()
