"""When a snoozed task comes back: the snooze menu's choices ("in 3 hours", "tomorrow 9:00", "next
Monday 9:00", a date and time of one's own) as times in the person's zone, and "until an event"."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .timezones import from_local

MORNING = dt.time(9, 0)
# A snooze of one's own ends within this long: a task put away for longer is one to dismiss.
LONGEST = dt.timedelta(days=366)
# The `until` a form or the API sends for "until an event its rule's wake_on names".
UNTIL_EVENT = "event"
UNTIL_CUSTOM = "custom"


@dataclass(frozen=True)
class Choice:
    """One entry of the snooze menu: what a form sends, what the button says, and when it ends."""

    value: str
    label: str
    until: dt.datetime


def choices(now, zone):
    """The menu's times at `now` for someone in `zone` (a ZoneInfo), soonest first."""
    local = now.astimezone(zone)
    tomorrow = dt.datetime.combine(local.date() + dt.timedelta(days=1), MORNING, zone)
    days_to_monday = 7 - local.weekday()  # next Monday: never today, even on a Monday
    monday = dt.datetime.combine(local.date() + dt.timedelta(days=days_to_monday), MORNING, zone)
    return [
        Choice("3h", "In 3 hours", now + dt.timedelta(hours=3)),
        Choice("tomorrow", f"Tomorrow {MORNING:%H:%M}", tomorrow.astimezone(dt.UTC)),
        Choice("monday", f"Next Monday {MORNING:%H:%M}", monday.astimezone(dt.UTC)),
    ]


def until(value, now, zone, custom=""):
    """When a snooze asked for as `value` (a Choice's value, UNTIL_CUSTOM with `custom` a local
    "YYYY-MM-DDTHH:MM" in `zone`) ends, as an aware UTC time; None for UNTIL_EVENT. ValueError
    says what is wrong."""
    if value == UNTIL_EVENT:
        return None
    for choice in choices(now, zone):
        if choice.value == value:
            return choice.until
    if value != UNTIL_CUSTOM:
        raise ValueError("choose when the task should come back")
    try:
        moment = from_local(dt.datetime.fromisoformat((custom or "").strip()).replace(tzinfo=None), zone)
    except ValueError:
        raise ValueError("give a date and time such as 2026-12-07T09:00") from None
    return check(moment, now)


def check(moment, now):
    """An aware time a snooze may end at (in the future, within LONGEST), in UTC; else ValueError."""
    if moment.tzinfo is None:
        raise ValueError("give the time with its offset from UTC, such as 2026-12-07T09:00:00Z")
    moment = moment.astimezone(dt.UTC)
    if moment <= now:
        raise ValueError("a snooze ends in the future")
    if moment - now > LONGEST:
        raise ValueError("a snooze ends within a year; dismiss a task not needed")
    return moment
